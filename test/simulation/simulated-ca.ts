// A SIMULATED certificate authority, for the renewal simulation only: it never
// speaks ACME or signs anything. It answers one order attempt at a time with a
// certificate of the lifetime asked for, a transient failure drawn from its
// seeded randomness, or a refused connection while it is switched off. Its
// failures are the ACME client's real error classes, so the engine's own
// classification (issuance.ts, orderEnds) decides what happens next.
import { AcmeNetworkError, AcmeProblemError } from '../../src/acme/index.ts';
import { seededRandom } from './random.ts';

export interface SimulatedCaOptions {
  /** Short name for reports, e.g. "primary". */
  name: string;
  /** Share of attempts that fail transiently while the CA is on (0.1 = 10 %). */
  failureRate: number;
  /**
   * Of the transient failures, the share answered with a problem document
   * (serverInternal: the order ends, a new one is placed later); the rest are
   * HTTP 503s, which leave the order at its step to be resumed. Default 0.5.
   */
  problemShare?: number;
  seed: number;
}

export type AttemptResult =
  | { ok: true; durationMs: number; notBefore: number; notAfter: number; serial: number }
  | { ok: false; durationMs: number; error: Error };

interface Interval {
  from: number;
  until: number;
}

export class SimulatedCa {
  readonly name: string;
  /** The directory URL certificates list it under (never fetched). */
  readonly url: string;
  readonly stats = { attempts: 0, issued: 0, failed: 0, refused: 0 };
  readonly #failureRate: number;
  readonly #problemShare: number;
  readonly #random: () => number;
  readonly #outages: Interval[] = [];
  readonly #refused: AcmeNetworkError;
  readonly #unavailable: AcmeNetworkError;
  readonly #internal: AcmeProblemError;

  constructor(options: SimulatedCaOptions) {
    this.name = options.name;
    this.url = `https://${options.name}.simulated-ca.invalid/directory`;
    this.#failureRate = options.failureRate;
    this.#problemShare = options.problemShare ?? 0.5;
    this.#random = seededRandom(options.seed);
    // One instance of each error is enough: the simulation only reads them.
    const order = `https://${options.name}.simulated-ca.invalid/new-order`;
    this.#refused = new AcmeNetworkError(
      `new order failed: connect ECONNREFUSED (${order}); simulated outage of ${this.name}`,
      'new order',
      order,
      'ECONNREFUSED',
    );
    this.#unavailable = new AcmeNetworkError(
      `new order failed: HTTP 503 (${order}); simulated transient failure`,
      'new order',
      order,
      'HTTP 503',
    );
    this.#internal = new AcmeProblemError(
      { type: 'urn:ietf:params:acme:error:serverInternal', detail: 'simulated transient failure' },
      500,
      'finalize order',
      order,
    );
  }

  /** Refuses every connection from `from` until `until` (epoch ms). */
  switchOff(from: number, until: number): this {
    this.#outages.push({ from, until });
    return this;
  }

  isOn(at: number): boolean {
    return !this.#outages.some((outage) => at >= outage.from && at < outage.until);
  }

  get outages(): readonly Interval[] {
    return this.#outages;
  }

  /** One run of an order started at `at`, for a certificate of `lifetimeMs`. */
  attempt(at: number, lifetimeMs: number): AttemptResult {
    this.stats.attempts++;
    if (!this.isOn(at)) {
      this.stats.refused++;
      return { ok: false, durationMs: 200, error: this.#refused };
    }
    // An order takes a few seconds: requests, validation, signing.
    const durationMs = Math.round(2_000 + this.#random() * 6_000);
    if (this.#random() < this.#failureRate) {
      this.stats.failed++;
      const error = this.#random() < this.#problemShare ? this.#internal : this.#unavailable;
      return { ok: false, durationMs, error };
    }
    this.stats.issued++;
    const notBefore = at + durationMs;
    return { ok: true, durationMs, notBefore, notAfter: notBefore + lifetimeMs, serial: this.stats.issued };
  }
}
