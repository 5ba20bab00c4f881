// What every command opens: the configuration, and the engine over the store
// it names (answering challenges from this process); and closes after.
import { type Config, type ConfigFlags, loadConfig } from '../config.ts';
import { DEFAULT_SUBSCRIPTION_ID, type Engine, type EngineOptions, openEngine, type OrderStep } from '../engine/index.ts';
import { Output } from './output.ts';

export interface Session {
  config: Config;
  engine: Engine;
  output: Output;
  subscriptionId: string;
  close(): Promise<void>;
}

/** What the engine answers: 'local' for the commands, 'server' for `certkeep serve` (engine.ts, EngineOptions). */
export type SessionOptions = Pick<EngineOptions, 'answers' | 'tlsAlpnListener'>;

export async function openSession(flags: ConfigFlags, options: SessionOptions = { answers: 'local' }): Promise<Session> {
  const config = loadConfig(flags);
  const output = new Output(config.json, config.debug);
  const engine = await openEngine(config, { ...options, progress: output.progress });
  return {
    config,
    engine,
    output,
    subscriptionId: DEFAULT_SUBSCRIPTION_ID,
    async close() {
      output.stopProgress();
      await engine.close();
    },
  };
}

export async function withSession<T>(flags: ConfigFlags, run: (session: Session) => Promise<T>, options?: SessionOptions): Promise<T> {
  const session = await openSession(flags, options);
  try {
    return await run(session);
  } finally {
    await session.close();
  }
}

/**
 * Fault injection for the crash tests: CERTKEEP_CRASH_AFTER_STEP=placed kills
 * this process with SIGKILL right after that step is stored.
 */
export function crashSeam(): ((step: OrderStep) => void) | undefined {
  const at = process.env.CERTKEEP_CRASH_AFTER_STEP;
  if (!at) return undefined;
  return (step) => {
    if (step === at) process.kill(process.pid, 'SIGKILL');
  };
}
