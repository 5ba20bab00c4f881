// Periodic work for the server's background loops (renewal scheduler, webhook
// and mail senders): one pass every interval on the engine's clock, passes
// never overlapping (a tick asked for while one runs waits for it), and stop()
// waiting for the pass in flight.
import type { Clock } from './clock.ts';

export class Ticker<T> {
  readonly #work: () => Promise<T>;
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #onError: (error: unknown) => void;
  #running: Promise<unknown> = Promise.resolve();
  #stopping: AbortController | undefined;
  #loop: Promise<void> | undefined;

  constructor(work: () => Promise<T>, options: { clock: Clock; intervalMs: number; onError: (error: unknown) => void }) {
    this.#work = work;
    this.#clock = options.clock;
    this.#intervalMs = options.intervalMs;
    this.#onError = options.onError;
  }

  /** Ticks now, then every interval until stop(). */
  start(): void {
    if (this.#loop) return;
    const stopping = new AbortController();
    this.#stopping = stopping;
    this.#loop = (async () => {
      while (!stopping.signal.aborted) {
        await this.tick().catch(this.#onError);
        await this.#clock.sleep(this.#intervalMs, stopping.signal).catch(() => {});
      }
    })();
  }

  /** One pass, after the one in flight. */
  tick(): Promise<T> {
    const run = this.#running.then(() => this.#work());
    this.#running = run.catch(() => {});
    return run;
  }

  /** Ends the loop and waits for the pass in flight. */
  async stop(): Promise<void> {
    this.#stopping?.abort();
    await this.#loop;
    await this.#running;
  }
}
