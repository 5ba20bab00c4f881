// Polling a pending resource (RFC 8555 §7.5.1): honour Retry-After when the CA
// sends one, otherwise start fast and back off. Waits are timers, not spinning.
import { AcmeTimeoutError } from './errors.ts';
import type { AcmeClock } from './types.ts';

const FIRST_DELAY_MS = 50;
const MAX_DELAY_MS = 3_000;

export interface PollStep<T> {
  value: T;
  /** From the response's Retry-After header. */
  retryAfterMs?: number;
}

export interface PollOptions<T> {
  /** For the timeout message, e.g. "authorization for dns:example.com". */
  what: string;
  url: string;
  timeoutMs: number;
  initialDelayMs?: number;
  clock: AcmeClock;
  fetch: () => Promise<PollStep<T>>;
  /** True when done; throws when the resource failed for good. */
  settled: (value: T) => boolean;
  status: (value: T) => string;
}

export async function poll<T>(opts: PollOptions<T>): Promise<T> {
  const deadline = opts.clock.now() + opts.timeoutMs;
  let delay = FIRST_DELAY_MS;
  if (opts.initialDelayMs) await opts.clock.sleep(opts.initialDelayMs);
  for (;;) {
    const step = await opts.fetch();
    if (opts.settled(step.value)) return step.value;
    const remaining = deadline - opts.clock.now();
    if (remaining <= 0)
      throw new AcmeTimeoutError(opts.what, opts.url, opts.status(step.value), opts.timeoutMs);
    await opts.clock.sleep(Math.min(step.retryAfterMs ?? delay, remaining));
    delay = Math.min(delay * 2, MAX_DELAY_MS);
  }
}
