// A SIMULATION of the renewal scheduler's loop (scheduler.ts, issuance.ts) over
// many certificates and a long stretch of time, against SimulatedCa instances:
// a discrete-event simulation on a priority queue of simulated instants, so a
// year runs in seconds. Every decision is the engine's own: when to renew
// (plannedRenewal), when to retry (retryTime, retryDelay), which CA to use
// (issuerIndex), when to give an order up (orderEnds), which warning is due
// (expiryWarning). Only the store and the network are replaced: the state the
// engine keeps in its certificate and order rows is kept here in memory, and
// the events it appends go to an in-memory stream.
//
// Simplifications, on purpose: one scheduler instance with unlimited workers
// (the real ones run 16 orders at once per process), no ARI windows, accounts
// and directories already known (so opening an order never fails), and an order
// attempt is one request that succeeds or fails as a whole.
import type { EventType } from '../../src/store/repositories/events.ts';
import { orderEnds, retryDelay } from '../../src/engine/issuance.ts';
import { EXPIRY_WARNINGS, expiryWarning, isDue, issuerIndex, onTrack, plannedRenewal, RENEWAL_GRACE_MS, retryTime } from '../../src/engine/planner.ts';
import { DEFAULT_RENEWAL_POLICY, type RenewalPolicy } from '../../src/engine/renewal-policy.ts';
import { EventQueue, type Scheduled } from './event-queue.ts';
import { SimulatedEventStream } from './event-stream.ts';
import { seededRandom } from './random.ts';
import type { AttemptResult, SimulatedCa } from './simulated-ca.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** After the primary is back, orders already moved to the fallback still finish there for a while. */
const OUTAGE_GRACE_MS = HOUR;

export interface CertificateClass {
  name: string;
  /** The lifetime every CA issues certificates of this class with (like an ACME profile). */
  lifetimeMs: number;
  count: number;
}

export interface RenewalSimulationOptions {
  seed: number;
  classes: CertificateClass[];
  /** The CAs every certificate lists, in order of preference: the first is the primary. */
  issuers: SimulatedCa[];
  /** Epoch ms of the first tick (default 2026-01-01). */
  start?: number;
  /** Default one year (365 days). */
  durationMs?: number;
  /** The scheduler's interval (default 60 s, as `certkeep serve`). */
  tickMs?: number;
  policy?: RenewalPolicy;
}

export interface ClassSummary {
  certificates: number;
  renewals: number;
  failedAttempts: number;
  /** Renewals issued by a CA other than the primary, while the primary was off (or within an hour after). */
  fallbackRenewalsDuringOutage: number;
  fallbackRenewalsOutsideOutage: number;
  renewalsDuringOutage: number;
  /** The least time a certificate had left when its renewal arrived, in days (negative: it had expired). */
  minDaysLeftAtRenewal: number;
  minDaysLeftAtRenewalDuringOutage: number | null;
  /** Certificates that were expired at some moment. */
  expiredCertificates: number;
  /** The renewals there would be if every one came exactly at its planned time. */
  expectedRenewals: number;
  /** Renewals each certificate got, minus the renewals it would get with no delay at all. */
  renewalDeviation: { min: number; max: number };
  /** certificate.expiring events raised while the renewal had not failed yet (failure_count 0). */
  warningsOnSchedule: number;
  warningsWhileFailing: number;
}

export interface RenewalSimulationResult {
  seed: number;
  wallMs: number;
  start: number;
  end: number;
  events: SimulatedEventStream;
  eventCounts: Partial<Record<EventType, number>>;
  classes: Record<string, ClassSummary>;
  issuers: Record<string, SimulatedCa['stats']>;
  /** The first certificates found expired, for a failure message. */
  lapses: { certificateId: string; className: string; expiredAt: number; renewedAt: number | null }[];
}

interface SimOrder {
  number: number;
  /** Index of its CA in the issuer list. */
  issuer: number;
  ca: SimulatedCa;
  /** Failed runs of this order (orders.attempt). */
  attempts: number;
}

/** The columns of a certificate row the scheduler and issuance read and write. */
interface SimCertificate {
  index: number;
  id: string;
  name: string;
  klass: CertificateClass;
  stats: ClassStats;
  notBefore: number;
  notAfter: number;
  failureCount: number;
  retryAt: number | null;
  nextRenewalAt: number;
  warnedDays: number | null;
  order: SimOrder | null;
  /** Bumped per certificate version: warning checks of an older version are dropped. */
  version: number;
  renewals: number;
  expectedRenewals: number;
  expired: boolean;
}

type ClassStats = Omit<ClassSummary, 'renewalDeviation' | 'expiredCertificates' | 'expectedRenewals'>;

/**
 * What happens at a simulated instant: a scheduler tick finds the certificate
 * due, or looks for a warning; a worker runs an order, or sees its run end.
 */
type JobKind = 'due' | 'warn' | 'run' | 'done';

/** Within one tick due orders are opened first, then warnings raised (scheduler.ts, tick); workers run between ticks. */
const PHASES: Record<JobKind, number> = { due: 0, warn: 1, run: 2, done: 2 };

/** One shape for every kind of job keeps the queue's comparisons fast. */
class Job implements Scheduled {
  readonly at: number;
  readonly phase: number;
  readonly kind: JobKind;
  readonly cert: SimCertificate;
  /** warn: the certificate version it is about. */
  readonly version: number;
  readonly order: SimOrder | null;
  readonly result: AttemptResult | null;

  constructor(
    kind: JobKind,
    at: number,
    cert: SimCertificate,
    order: SimOrder | null = null,
    result: AttemptResult | null = null,
  ) {
    this.at = at;
    this.phase = PHASES[kind];
    this.kind = kind;
    this.cert = cert;
    this.version = cert.version;
    this.order = order;
    this.result = result;
  }
}

/** Runs the simulation (one year unless told otherwise) and summarises it. */
export function simulateRenewalYear(options: RenewalSimulationOptions): RenewalSimulationResult {
  const started = performance.now();
  const simulation = new RenewalSimulation(options);
  simulation.run();
  return { ...simulation.summary(), wallMs: Math.round(performance.now() - started) };
}

class RenewalSimulation {
  readonly #options: RenewalSimulationOptions;
  readonly #start: number;
  readonly #end: number;
  readonly #tickMs: number;
  readonly #policy: RenewalPolicy;
  readonly #issuers: SimulatedCa[];
  readonly #primary: SimulatedCa;
  /** Jitter of the engine's backoffs; the CAs draw their failures from their own seeds. */
  readonly #random: () => number;
  readonly #queue = new EventQueue<Job>();
  readonly #events: SimulatedEventStream;
  readonly #certificates: SimCertificate[] = [];
  readonly #stats = new Map<string, ClassStats>();
  readonly #lapses: RenewalSimulationResult['lapses'] = [];
  #orders = 0;

  constructor(options: RenewalSimulationOptions) {
    if (options.issuers.length === 0) throw new Error('the simulation needs at least one SimulatedCa');
    this.#options = options;
    this.#start = options.start ?? Date.UTC(2026, 0, 1);
    this.#end = this.#start + (options.durationMs ?? 365 * DAY);
    this.#tickMs = options.tickMs ?? MINUTE;
    this.#policy = options.policy ?? DEFAULT_RENEWAL_POLICY;
    this.#issuers = options.issuers;
    this.#events = new SimulatedEventStream(options.issuers.map((ca) => ca.url));
    this.#primary = options.issuers[0];
    this.#random = seededRandom(options.seed);
    this.#createCertificates(seededRandom(options.seed ^ 0x5eed));
  }

  /**
   * Each certificate was issued at a random moment within one renewal interval
   * before the start, so that renewals are spread evenly from the first tick on.
   */
  #createCertificates(random: () => number): void {
    for (const klass of this.#options.classes) {
      const stats = emptyStats(klass.count);
      this.#stats.set(klass.name, stats);
      const interval = plannedRenewal(0, klass.lifetimeMs, this.#policy);
      for (let i = 0; i < klass.count; i++) {
        const notBefore = this.#start - Math.round(random() * interval);
        const serial = String(this.#certificates.length).padStart(5, '0');
        const cert: SimCertificate = {
          index: this.#certificates.length,
          id: `sim-cert-${serial}`,
          name: `c${serial}.${klass.name}.sim.example`,
          klass,
          stats,
          notBefore,
          notAfter: notBefore + klass.lifetimeMs,
          failureCount: 0,
          retryAt: null,
          nextRenewalAt: plannedRenewal(notBefore, notBefore + klass.lifetimeMs, this.#policy),
          warnedDays: null,
          order: null,
          version: 0,
          renewals: 0,
          expectedRenewals: 0,
          expired: false,
        };
        cert.expectedRenewals = Math.max(0, Math.ceil((this.#end - cert.nextRenewalAt) / interval));
        this.#certificates.push(cert);
        this.#scheduleDue(cert, this.#start);
        this.#scheduleWarnings(cert, this.#start);
      }
    }
  }

  run(): void {
    for (;;) {
      const job = this.#queue.pop();
      if (!job || job.at >= this.#end) return;
      const { cert, order, result, at } = job;
      if (job.kind === 'due') this.#openOrder(cert, at);
      else if (job.kind === 'warn') this.#raiseWarning(cert, job.version, at);
      else if (job.kind === 'run') this.#runOrder(cert, order!, at);
      else if (result!.ok) this.#renewed(cert, order!, result!, at);
      else this.#failed(cert, order!, result!.error, at);
    }
  }

  /** The first scheduler tick at or after `at`. */
  #tickAt(at: number): number {
    return this.#start + Math.ceil((at - this.#start) / this.#tickMs) * this.#tickMs;
  }

  /** The tick that sees the certificate due: its retry time, or its renewal time when no retry is pending. */
  #scheduleDue(cert: SimCertificate, earliest: number): void {
    const at = cert.retryAt ?? cert.nextRenewalAt;
    this.#queue.push(new Job('due', this.#tickAt(Math.max(at, earliest)), cert));
  }

  /** A new version: its first look for a warning. */
  #scheduleWarnings(cert: SimCertificate, earliest: number): void {
    cert.version++;
    this.#scheduleNextWarning(cert, earliest);
  }

  /** The tick at which the next louder warning (or expiry) may be due; one at a time, as each is raised. */
  #scheduleNextWarning(cert: SimCertificate, earliest: number): void {
    const days = [...EXPIRY_WARNINGS, 0].find((d) => cert.warnedDays === null || d < cert.warnedDays);
    if (days === undefined) return;
    this.#queue.push(new Job('warn', this.#tickAt(Math.max(cert.notAfter - days * DAY, earliest)), cert));
  }

  /** scheduler.ts #openOrder: the order goes to the CA the planner picks (as issuers.ts, currentIssuer); workers start it at once. */
  #openOrder(cert: SimCertificate, now: number): void {
    const due = isDue(cert.retryAt, cert.nextRenewalAt, now);
    if (cert.order || !due) return;
    const issuer = issuerIndex(cert.failureCount, this.#issuers.length);
    cert.order = { number: ++this.#orders, issuer, ca: this.#issuers[issuer], attempts: 0 };
    this.#runOrder(cert, cert.order, now);
  }

  #runOrder(cert: SimCertificate, order: SimOrder, now: number): void {
    const result = order.ca.attempt(now, cert.klass.lifetimeMs);
    this.#queue.push(new Job('done', now + result.durationMs, cert, order, result));
  }

  /** issuance.ts downloadCertificate: the new version, and the next renewal planned from it. */
  #renewed(cert: SimCertificate, order: SimOrder, result: AttemptResult & { ok: true }, now: number): void {
    this.#countRenewal(cert, order.ca, now);
    cert.notBefore = result.notBefore;
    cert.notAfter = result.notAfter;
    cert.nextRenewalAt = plannedRenewal(
      result.notBefore,
      result.notAfter,
      this.#policy,
      undefined,
      this.#random,
    );
    cert.retryAt = null;
    cert.failureCount = 0;
    cert.warnedDays = null;
    cert.order = null;
    cert.renewals++;
    this.#events.append(now, 'certificate.renewed', cert, {
      notAfter: result.notAfter,
      orderNumber: order.number,
      issuer: order.issuer,
      serial: result.serial,
    });
    this.#scheduleDue(cert, now + 1);
    this.#scheduleWarnings(cert, now + 1);
  }

  #countRenewal(cert: SimCertificate, ca: SimulatedCa, now: number): void {
    const stats = cert.stats;
    const daysLeft = (cert.notAfter - now) / DAY;
    const duringOutage = this.#primaryOff(now);
    stats.renewals++;
    stats.minDaysLeftAtRenewal = Math.min(stats.minDaysLeftAtRenewal, daysLeft);
    if (duringOutage) {
      stats.renewalsDuringOutage++;
      stats.minDaysLeftAtRenewalDuringOutage = Math.min(
        stats.minDaysLeftAtRenewalDuringOutage ?? daysLeft,
        daysLeft,
      );
    }
    if (ca !== this.#primary) {
      if (duringOutage) stats.fallbackRenewalsDuringOutage++;
      else stats.fallbackRenewalsOutsideOutage++;
    }
    if (daysLeft < 0) this.#lapsed(cert, now);
  }

  #primaryOff(at: number): boolean {
    return this.#primary.outages.some((outage) => at >= outage.from && at < outage.until + OUTAGE_GRACE_MS);
  }

  /**
   * issuance.ts recordFailure: the certificate's failure count and retry time
   * move on; the order is resumed at its step unless it ends, in which case the
   * scheduler places the next order (at the next CA after repeated failures).
   */
  #failed(cert: SimCertificate, order: SimOrder, error: Error, now: number): void {
    const attempts = order.attempts + 1;
    const final = orderEnds(error, attempts, this.#options.issuers.length);
    cert.failureCount++;
    cert.retryAt = retryTime(now, cert.failureCount, cert.notAfter, undefined, this.#random);
    cert.stats.failedAttempts++;
    // One event when an order first runs into trouble and one when it ends, as recordFailure.
    if (final || order.attempts === 0) this.#emitFailure(cert, order, error, final, now);
    order.attempts = attempts;
    if (final) {
      cert.order = null;
      this.#scheduleDue(cert, now + 1);
    } else {
      this.#queue.push(new Job('run', now + retryDelay(attempts, this.#random), cert, order));
    }
  }

  #emitFailure(cert: SimCertificate, order: SimOrder, error: Error, final: boolean, now: number): void {
    this.#events.append(now, 'renewal.failed', cert, {
      notAfter: cert.notAfter,
      orderNumber: order.number,
      issuer: order.issuer,
      error: error.message,
      final,
      failures: cert.failureCount,
    });
  }

  /** scheduler.ts #raiseExpiryWarnings, for one certificate at one tick. */
  #raiseWarning(cert: SimCertificate, version: number, now: number): void {
    if (version !== cert.version) return;
    const days = expiryWarning(cert.notAfter, now, cert.warnedDays, onTrack(cert.nextRenewalAt, cert.failureCount, now));
    if (days === undefined) {
      // On track for now: look again once the renewal is overdue (the real scheduler looks every tick),
      // and at expiry at the latest.
      const overdueAt = cert.nextRenewalAt + RENEWAL_GRACE_MS;
      if (overdueAt > now || cert.notAfter > now) this.#queue.push(new Job('warn', this.#tickAt(Math.max(now + 1, Math.min(overdueAt, cert.notAfter))), cert));
      return;
    }
    cert.warnedDays = days;
    if (days === 0) this.#lapsed(cert, null);
    else if (cert.failureCount === 0) cert.stats.warningsOnSchedule++;
    else cert.stats.warningsWhileFailing++;
    this.#events.append(now, days === 0 ? 'certificate.expired' : 'certificate.expiring', cert, {
      notAfter: cert.notAfter,
      daysLeft: days,
    });
    this.#scheduleNextWarning(cert, now + 1);
  }

  /** Notes that the certificate's current version expired; `renewedAt` when its renewal came after that. */
  #lapsed(cert: SimCertificate, renewedAt: number | null): void {
    cert.expired = true;
    const lapse = this.#lapses.find((l) => l.certificateId === cert.id && l.expiredAt === cert.notAfter);
    if (lapse) lapse.renewedAt ??= renewedAt;
    else if (this.#lapses.length < 20) {
      this.#lapses.push({
        certificateId: cert.id,
        className: cert.klass.name,
        expiredAt: cert.notAfter,
        renewedAt,
      });
    }
  }

  summary(): Omit<RenewalSimulationResult, 'wallMs'> {
    for (const cert of this.#certificates) {
      if (cert.notAfter <= this.#end) this.#lapsed(cert, null);
    }
    const classes: Record<string, ClassSummary> = {};
    for (const [name, stats] of this.#stats) {
      const members = this.#certificates.filter((cert) => cert.klass.name === name);
      const deviation = { min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY };
      for (const cert of members) {
        deviation.min = Math.min(deviation.min, cert.renewals - cert.expectedRenewals);
        deviation.max = Math.max(deviation.max, cert.renewals - cert.expectedRenewals);
      }
      classes[name] = {
        ...stats,
        expiredCertificates: members.filter((cert) => cert.expired).length,
        expectedRenewals: members.reduce((sum, cert) => sum + cert.expectedRenewals, 0),
        renewalDeviation: deviation,
      };
    }
    return {
      seed: this.#options.seed,
      start: this.#start,
      end: this.#end,
      events: this.#events,
      eventCounts: this.#events.counts(),
      classes,
      issuers: Object.fromEntries(this.#options.issuers.map((ca) => [ca.name, { ...ca.stats }])),
      lapses: this.#lapses,
    };
  }
}

function emptyStats(certificates: number): ClassStats {
  return {
    certificates,
    renewals: 0,
    failedAttempts: 0,
    fallbackRenewalsDuringOutage: 0,
    fallbackRenewalsOutsideOutage: 0,
    renewalsDuringOutage: 0,
    minDaysLeftAtRenewal: Number.POSITIVE_INFINITY,
    minDaysLeftAtRenewalDuringOutage: null,
    warningsOnSchedule: 0,
    warningsWhileFailing: 0,
  };
}
