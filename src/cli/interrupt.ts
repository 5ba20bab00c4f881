// Ctrl-C (SIGINT), SIGTERM and a closed terminal (SIGHUP) while an order runs:
// the run stops at once, the challenge answers it placed are removed, the order
// keeps its stored step, and one line says how to finish it. Repeats of the
// signal are ignored — a wrapper (npx, bin/certkeep.js under an old Node)
// forwards the signal the terminal already sent to the whole process group —
// and a run that cannot stop in time is ended anyway.
import { OrderInterruptedError } from '../engine/index.ts';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
type StopSignal = (typeof SIGNALS)[number];
const SIGNAL_NUMBERS: Record<StopSignal, number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };
/** Time for removing the answers (a DNS UPDATE, a file) before the process ends regardless. */
const CLEANUP_GRACE_MS = 15_000;

/** The command was stopped by a signal; main prints `message` and exits with `exitCode` (128 + the signal's number, as shells report it). */
export class Interrupted extends Error {
  readonly exitCode: number;
  constructor(signal: StopSignal, certificate: string | undefined, step: string | undefined) {
    super(
      certificate && step
        ? `stopped by ${signal}: the order for ${certificate} is kept at step "${step}" and the challenge answers this run placed were removed; finish it with: certkeep resume`
        : `stopped by ${signal}${certificate ? ` while working on ${certificate}` : ''}; nothing was left half done`,
    );
    this.name = 'Interrupted';
    this.exitCode = 128 + SIGNAL_NUMBERS[signal];
  }
}

export interface Interruption {
  signal: AbortSignal;
  /** Names the certificate being worked on, for the message. */
  working(certificate: string): void;
}

/** Runs `work` with the stop signals turned into `signal`; throws Interrupted when one came. */
export async function interruptible<T>(work: (interruption: Interruption) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let received: StopSignal | undefined;
  let certificate: string | undefined;
  const onSignal = (signal: StopSignal) => {
    if (received) return;
    received = signal;
    controller.abort();
    setTimeout(() => process.exit(128 + SIGNAL_NUMBERS[signal]), CLEANUP_GRACE_MS).unref();
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
  try {
    return await work({ signal: controller.signal, working: (name) => (certificate = name) });
  } catch (error) {
    if (!received) throw error;
    throw new Interrupted(received, certificate, error instanceof OrderInterruptedError ? error.step : undefined);
  } finally {
    // Repeats are still ignored until the process exits: the last one must not kill it mid-cleanup.
    if (!received) for (const signal of SIGNALS) process.off(signal, onSignal);
  }
}
