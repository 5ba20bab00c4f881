// Retention: the server forgets what it no longer needs once it is older than
// the retention age, so that the store stops growing with time — superseded
// versions (never the current one or the one before it), finished orders that
// made none of those (never a certificate's newest), acknowledged events
// (store/repositories/retention.ts says exactly which). Rows go a small batch
// per statement, with a turn of the event loop between statements, so that a
// pass never holds the embedded database (node:sqlite is synchronous) for long.
import { setImmediate } from 'node:timers/promises';
import {
  deleteAcknowledgedEvents,
  deleteRetiredOrders,
  deleteRetiredVersions,
} from '../store/repositories/retention.ts';
import type { Db } from '../store/repositories/db.ts';
import type { EngineContext } from './context.ts';
import { Ticker } from '../time/ticker.ts';

const DAY = 86_400_000;

export const DEFAULT_RETENTION_DAYS = 90;

export interface RetentionOptions {
  /** Age in days after which what may go is removed (default 90). */
  days?: number;
  /** Time between passes (default 5 minutes). */
  intervalMs?: number;
  /** Rows per statement (default 200). */
  batch?: number;
  /** Statements per kind of row and pass (default 25): a backlog goes over several passes. */
  batchesPerPass?: number;
  onError?: (error: unknown) => void;
}

export interface RetentionReport {
  versions: number;
  orders: number;
  events: number;
}

/** Each kind of row that goes, in an order that leaves no reference behind: versions point at orders. */
const KINDS: [keyof RetentionReport, (db: Db, before: number, limit: number) => Promise<number>][] = [
  ['versions', deleteRetiredVersions],
  ['orders', deleteRetiredOrders],
  ['events', deleteAcknowledgedEvents],
];

export class Retention {
  readonly #ctx: EngineContext;
  readonly #ageMs: number;
  readonly #batch: number;
  readonly #batchesPerPass: number;
  readonly #ticker: Ticker<RetentionReport>;

  constructor(ctx: EngineContext, options: RetentionOptions = {}) {
    this.#ctx = ctx;
    this.#ageMs = (options.days ?? DEFAULT_RETENTION_DAYS) * DAY;
    this.#batch = options.batch ?? 200;
    this.#batchesPerPass = options.batchesPerPass ?? 25;
    this.#ticker = new Ticker(() => this.#pass(), {
      clock: ctx.clock,
      intervalMs: options.intervalMs ?? 300_000,
      onError: options.onError ?? (() => {}),
    });
  }

  start(): void {
    this.#ticker.start();
  }

  stop(): Promise<void> {
    return this.#ticker.stop();
  }

  /** One pass; passes never overlap. */
  tick(): Promise<RetentionReport> {
    return this.#ticker.tick();
  }

  async #pass(): Promise<RetentionReport> {
    const before = this.#ctx.clock.now() - this.#ageMs;
    const report: RetentionReport = { versions: 0, orders: 0, events: 0 };
    for (const [kind, remove] of KINDS) {
      for (let batch = 0; batch < this.#batchesPerPass; batch++) {
        const removed = await remove(this.#ctx.store.db, before, this.#batch);
        report[kind] += removed;
        if (removed < this.#batch) break;
        await setImmediate(); // requests waiting for the database go first
      }
    }
    return report;
  }
}
