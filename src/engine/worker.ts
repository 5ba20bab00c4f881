// The server's order workers: they drive every order that is short of its goal
// (orders.goal), whichever instance created it. The order rows are the queue:
// a worker claims an order's lease before it runs it (leases.ts), so instances
// sharing a database never run the same order twice at once, and an order whose
// runner died is taken up again when its lease expires.
import { dueOrders, getOrder, isFinished, updateOrder } from '../store/repositories/orders.ts';
import type { EngineContext } from './context.ts';
import { type RunOrderOptions, retryDelay } from './issuance.ts';
import { type RunOptions, runOrderOnce } from './runs.ts';
import type { SolverSource } from './solvers.ts';

export interface WorkerOptions {
  /** Orders run at once by this process. */
  concurrency?: number;
  /** How often the store is looked at when nothing woke the workers. */
  intervalMs?: number;
  /** Reports a failed run (the failure is already stored with the order). */
  onError?: (orderId: string, error: unknown) => void;
  /** How long a claimed order stays this process's without a heartbeat (a dead worker's orders wait this long). */
  leaseMs?: number;
  /** Seam for crash tests (see RunOrderOptions.afterStep). */
  afterStep?: RunOrderOptions['afterStep'];
}

export class OrderWorker {
  readonly #ctx: EngineContext;
  readonly #solvers: SolverSource;
  readonly #concurrency: number;
  readonly #intervalMs: number;
  readonly #onError: (orderId: string, error: unknown) => void;
  readonly #run: RunOptions;
  readonly #running = new Map<string, Promise<void>>();
  #due: string[] = [];
  #stopped = true;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;

  constructor(ctx: EngineContext, solvers: SolverSource, options: WorkerOptions = {}) {
    this.#ctx = ctx;
    this.#solvers = solvers;
    this.#concurrency = options.concurrency ?? 16;
    this.#intervalMs = options.intervalMs ?? 1_000;
    this.#onError = options.onError ?? (() => {});
    this.#run = { leaseMs: options.leaseMs, afterStep: options.afterStep };
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#ctx.wakeWorkers = () => this.wake();
    this.#loop = this.#work();
  }

  /** Looks at the store now rather than at the next interval. */
  wake(): void {
    this.#wake?.();
  }

  /**
   * Claims nothing more and waits up to `graceMs` for the orders in flight.
   * An order still running then is parked: its lease runs out and a worker
   * (here after a restart, or another instance) resumes it at its stored step.
   */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#ctx.wakeWorkers = () => {};
    this.wake();
    await this.#loop;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([Promise.allSettled([...this.#running.values()]), grace]);
    clearTimeout(timer);
  }

  /** Orders being run by this process now. */
  get inFlight(): number {
    return this.#running.size;
  }

  async #work(): Promise<void> {
    while (!this.#stopped) {
      try {
        await this.#claimDue();
      } catch (error) {
        this.#onError('(queue)', error);
      }
      await this.#idle();
    }
  }

  /**
   * Starts due orders while there is room. Due ids are read a batch at a time and
   * kept: reading the queue after every finished order would scan it thousands of
   * times in a busy minute. A kept id that another instance has meanwhile taken
   * is harmless: its lease cannot be claimed, or it has reached its goal.
   */
  async #claimDue(): Promise<void> {
    if (this.#running.size >= this.#concurrency) return;
    if (this.#due.length === 0) {
      const due = await dueOrders(this.#ctx.store.db, this.#ctx.clock.now(), this.#concurrency * 4);
      this.#due = due.map((row) => row.id).filter((id) => !this.#running.has(id));
    }
    while (this.#running.size < this.#concurrency && this.#due.length > 0) {
      const id = this.#due.shift()!;
      if (this.#running.has(id)) continue;
      const run = this.#runOne(id).finally(() => {
        this.#running.delete(id);
        this.wake();
      });
      this.#running.set(id, run);
    }
  }

  async #runOne(orderId: string): Promise<void> {
    try {
      const order = await getOrder(this.#ctx.store.db, orderId);
      // Read from a kept batch: it may have been retried (and postponed) elsewhere since.
      if (!order || (order.retry_at !== null && order.retry_at > this.#ctx.clock.now())) return;
      await runOrderOnce(this.#ctx, this.#solvers, order, this.#run);
    } catch (error) {
      this.#onError(orderId, error);
      await this.#postpone(orderId).catch(() => {});
    }
  }

  /**
   * A failure before the order ran (the CA unreachable for the account) must not be retried at once, forever.
   * A failure the run recorded has set retry_at already, or ended the order.
   */
  async #postpone(orderId: string): Promise<void> {
    const order = await getOrder(this.#ctx.store.db, orderId);
    if (!order || order.retry_at !== null || isFinished(order.step)) return;
    const now = this.#ctx.clock.now();
    await updateOrder(this.#ctx.store.db, orderId, { attempt: order.attempt + 1, retry_at: now + retryDelay(order.attempt + 1), updated_at: now });
  }

  #idle(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.#intervalMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        this.#wake = undefined;
        done();
      };
    });
  }
}
