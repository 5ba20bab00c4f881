// The renewal issue's simulation: a simulated year of 10,000 certificates
// against SimulatedCa instances (no real CA, no real time), every decision made
// by the engine's planner. SIM_SEED=n replays a run; the seed is in every
// failure message.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SimulatedEvent } from './event-stream.ts';
import {
  type RenewalSimulationResult,
  simulateRenewalYear,
} from './renewal-simulation.ts';
import { SimulatedCa } from './simulated-ca.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const START = Date.UTC(2026, 0, 1);
const SEED = Number(process.env.SIM_SEED ?? 20260101);

interface Scenario {
  certificates: number;
  outageAt: number;
  outageMs: number;
  fallback: boolean;
}

/** Half 90-day, half 6-day certificates; both CAs fail 10 % of attempts; the primary is off once. */
function simulate({ certificates, outageAt, outageMs, fallback }: Scenario) {
  const primary = new SimulatedCa({ name: 'primary', failureRate: 0.1, seed: SEED + 1 });
  primary.switchOff(START + outageAt, START + outageAt + outageMs);
  const secondary = new SimulatedCa({ name: 'fallback', failureRate: 0.1, seed: SEED + 2 });
  const result = simulateRenewalYear({
    seed: SEED,
    start: START,
    issuers: fallback ? [primary, secondary] : [primary],
    classes: [
      { name: '90-day', lifetimeMs: 90 * DAY, count: certificates / 2 },
      { name: '6-day', lifetimeMs: 6 * DAY, count: certificates / 2 },
    ],
  });
  return {
    result,
    primary,
    secondary,
    outage: { from: START + outageAt, until: START + outageAt + outageMs },
  };
}

/** The one-line summary for the report. */
function report(label: string, result: RenewalSimulationResult): void {
  const classes = Object.fromEntries(
    Object.entries(result.classes).map(([name, c]) => [
      name,
      {
        renewals: c.renewals,
        expected: c.expectedRenewals,
        failedAttempts: c.failedAttempts,
        fallbackDuringOutage: c.fallbackRenewalsDuringOutage,
        renewalsDuringOutage: c.renewalsDuringOutage,
        fallbackOutsideOutage: c.fallbackRenewalsOutsideOutage,
        minDaysLeftAtRenewal: Number(c.minDaysLeftAtRenewal.toFixed(3)),
        expired: c.expiredCertificates,
        warningsOnSchedule: c.warningsOnSchedule,
      },
    ]),
  );
  console.log(
    JSON.stringify({
      simulation: label,
      seed: result.seed,
      wallMs: result.wallMs,
      events: result.eventCounts,
      classes,
      issuers: result.issuers,
    }),
  );
}

const during = (event: SimulatedEvent, outage: { from: number; until: number }, graceMs = 0) =>
  event.at >= outage.from && event.at < outage.until + graceMs;

describe('renewal simulation: a year of 10,000 certificates (SimulatedCa)', () => {
  test('90-day and 6-day certificates, 10 % transient failures, the primary CA off for 72 hours: none expires', () => {
    // Mid-year, once renewal times have drifted from their initial spread. With renewals
    // evenly spread, any 72 hours hold one renewal of every 6-day certificate (their
    // renewal margin is 72 hours), so every placement makes all 5,000 go to the fallback;
    // the other placements are tried below.
    const { result, primary, secondary, outage } = simulate({
      certificates: 10_000,
      outageAt: 180 * DAY,
      outageMs: 72 * HOUR,
      fallback: true,
    });
    report('72h primary outage, with fallback', result);
    const seed = `seed ${result.seed} (SIM_SEED=${result.seed} replays it)`;
    const short = result.classes['6-day'];
    const long = result.classes['90-day'];

    assert.equal(
      result.eventCounts['certificate.expired'] ?? 0,
      0,
      `no certificate.expired events; ${seed}; first lapses ${JSON.stringify(result.lapses)}`,
    );
    for (const [name, c] of Object.entries(result.classes)) {
      assert.equal(c.expiredCertificates, 0, `no ${name} certificate's notAfter passed; ${seed}`);
      // Delays (tick rounding, failures, the outage) can cost a certificate its last renewal of the year, never more.
      assert.ok(
        c.renewalDeviation.min >= -2 && c.renewalDeviation.max <= 0,
        `${name} renewals per certificate ${JSON.stringify(c.renewalDeviation)}; ${seed}`,
      );
      assert.ok(
        c.renewals >= c.expectedRenewals * 0.99,
        `${name}: ${c.renewals} renewals of ${c.expectedRenewals} expected; ${seed}`,
      );
    }
    assert.ok(
      short.minDaysLeftAtRenewal > 2,
      `6-day certificates renewed with ${short.minDaysLeftAtRenewal} days left at least; ${seed}`,
    );
    assert.ok(
      long.minDaysLeftAtRenewal > 29,
      `90-day certificates renewed with ${long.minDaysLeftAtRenewal} days left at least; ${seed}`,
    );

    // The fallback carried the outage, and was hardly used otherwise (three failures in a row at the primary).
    for (const c of [short, long]) {
      assert.ok(
        c.fallbackRenewalsDuringOutage >= 0.95 * c.renewalsDuringOutage,
        `fallback during the outage ${JSON.stringify(c)}; ${seed}`,
      );
      assert.ok(
        c.fallbackRenewalsOutsideOutage <= 0.005 * c.renewals,
        `fallback outside the outage ${JSON.stringify(c)}; ${seed}`,
      );
    }
    assert.ok(
      short.renewalsDuringOutage >= 4_900,
      `nearly every 6-day certificate renewed during the outage; ${seed}`,
    );

    // The event stream says what happened: renewals, transient failures, the primary refusing, the fallback issuing.
    const renewed = [...result.events.ofType('certificate.renewed')];
    const failed = [...result.events.ofType('renewal.failed')];
    assert.equal(renewed.length, short.renewals + long.renewals);
    const refused = failed.filter(
      (e) => e.payload.ca === primary.url && String(e.payload.error).includes('ECONNREFUSED'),
    );
    assert.ok(
      refused.length > 0 && refused.every((e) => during(e, outage)),
      `renewal.failed with the primary's ECONNREFUSED, only during the outage; ${seed}`,
    );
    const gaveUp = refused.filter((e) => e.payload.final === true);
    assert.ok(
      gaveUp.length >= short.fallbackRenewalsDuringOutage,
      `one final renewal.failed per order given up at the primary; ${seed}`,
    );
    const transient = failed.filter((e) => !during(e, outage, HOUR));
    assert.ok(
      transient.length > 0.05 * renewed.length,
      `transient failures outside the outage are in the stream; ${seed}`,
    );
    const byFallback = renewed.filter((e) => e.payload.ca === secondary.url);
    assert.equal(byFallback.length, secondary.stats.issued);
    assert.ok(
      byFallback.filter((e) => during(e, outage, HOUR)).length >= 0.9 * byFallback.length,
      `fallback renewals mostly during the outage; ${seed}`,
    );

    // A certificate's story in the outage, most often: the primary refuses, the order is given up, the fallback issues.
    const stories = storiesDuring(result, outage);
    const typical = JSON.stringify([
      ['renewal.failed', primary.url, false],
      ['renewal.failed', primary.url, true],
      ['certificate.renewed', secondary.url, undefined],
    ]);
    const told = [...stories.values()].filter(
      (story) => JSON.stringify(story.map((e) => [e.type, e.payload.ca, e.payload.final])) === typical,
    );
    assert.ok(
      told.length >= 0.8 * short.renewalsDuringOutage,
      `${told.length} typical stories; ${seed}; e.g. ${JSON.stringify([...stories.values()][0])}`,
    );
  });

  test('control: with no fallback CA, a 7-day outage lets 6-day certificates expire, and the stream says so', () => {
    // Fewer certificates: each stuck order is retried every ten minutes for a week, which is slow to simulate.
    const { result } = simulate({
      certificates: 2_000,
      outageAt: 180 * DAY,
      outageMs: 7 * DAY,
      fallback: false,
    });
    report('7-day primary outage, no fallback', result);
    const seed = `seed ${result.seed}`;
    assert.ok(result.classes['6-day'].expiredCertificates > 0, `6-day certificates expire; ${seed}`);
    assert.ok((result.eventCounts['certificate.expired'] ?? 0) > 0, `certificate.expired events; ${seed}`);
    assert.equal(
      result.classes['90-day'].expiredCertificates,
      0,
      `90-day certificates outlast a week; ${seed}`,
    );
    const expired = [...result.events.ofType('certificate.expired')];
    assert.ok(expired.every((e) => e.payload.severity === 'critical' && e.payload.daysLeft === 0));
  });

  test('other placements of the 72-hour outage, with the fallback: the first hour, and running into the year end', () => {
    for (const outageAt of [HOUR, 363 * DAY]) {
      const { result } = simulate({ certificates: 2_000, outageAt, outageMs: 72 * HOUR, fallback: true });
      report(`72h primary outage at day ${(outageAt / DAY).toFixed(2)}, with fallback`, result);
      assert.equal(
        result.eventCounts['certificate.expired'] ?? 0,
        0,
        `seed ${result.seed}, outage at ${outageAt}`,
      );
      for (const c of Object.values(result.classes))
        assert.equal(c.expiredCertificates, 0, `seed ${result.seed}, outage at ${outageAt}`);
    }
  });
});

/** Each certificate's events during the outage (and an hour after), but its expiry warnings. */
function storiesDuring(
  result: RenewalSimulationResult,
  outage: { from: number; until: number },
): Map<string, SimulatedEvent[]> {
  const stories = new Map<string, SimulatedEvent[]>();
  for (const event of result.events.between(outage.from, outage.until + HOUR)) {
    if (event.type === 'certificate.expiring') continue;
    const story = stories.get(event.certificateId) ?? [];
    story.push(event);
    stories.set(event.certificateId, story);
  }
  return stories;
}
