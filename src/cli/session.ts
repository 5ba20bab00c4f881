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

/** What the engine answers ('local' for the commands, 'server' for `certkeep serve`: engine.ts, EngineOptions), and how the command opens it. */
export interface SessionOptions extends Partial<Pick<EngineOptions, 'answers' | 'tlsAlpnListener'>> {
  /** Whether this command may create the data dir and the store (issue, zone add, …); the others need them to exist. */
  create?: boolean;
  /** renew --quiet: nothing but failures. */
  quiet?: boolean;
}

export async function openSession(flags: ConfigFlags, options: SessionOptions = {}): Promise<Session> {
  const config = loadConfig(flags);
  const output = new Output({ json: config.json, timestamps: config.debug, quiet: options.quiet });
  const engine = await openEngine(config, {
    answers: options.answers ?? 'local',
    tlsAlpnListener: options.tlsAlpnListener,
    create: options.create,
    progress: output.progress,
    notice: output.note,
  });
  return {
    config,
    engine,
    output,
    subscriptionId: DEFAULT_SUBSCRIPTION_ID,
    async close() {
      await engine.close();
    },
  };
}

export async function withSession<T>(flags: ConfigFlags, run: (session: Session) => Promise<T>, options: SessionOptions = {}): Promise<T> {
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
