// What every command opens: configuration, store and engine; and closes after.
import { Dns01Solver } from '../challenges/dns01.ts';
import { SOLVER_FACTORIES, SolverPool } from '../challenges/pool.ts';
import { challengeValues } from '../dns/delegated.ts';
import { ZoneDirectory } from '../engine/zones.ts';
import { type Config, type ConfigFlags, loadConfig } from '../config.ts';
import { closeEngineContext, createEngineContext, type EngineContext } from '../engine/context.ts';
import type { OrderStep } from '../engine/issuance.ts';
import { openStore } from '../store/database.ts';
import { DEFAULT_SUBSCRIPTION_ID, ensureSubscription } from '../store/repositories/subscriptions.ts';
import { Output } from './output.ts';
import { poolSolvers, type SolverSource } from '../engine/solvers.ts';

export interface Session {
  config: Config;
  ctx: EngineContext;
  output: Output;
  solvers: SolverSource;
  zones: ZoneDirectory;
  subscriptionId: string;
  close(): Promise<void>;
}

export interface SessionOptions {
  /** Whether this command may create the data dir and the store (issue, zone add, …); the others need them to exist. */
  create?: boolean;
  /** renew --quiet: nothing but failures. */
  quiet?: boolean;
}

export async function openSession(flags: ConfigFlags, options: SessionOptions = {}): Promise<Session> {
  const config = loadConfig(flags);
  const output = new Output({ json: config.json, timestamps: config.debug, quiet: options.quiet });
  const store = await openStore({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    masterKey: config.masterKey,
    mode: options.create ? 'create' : 'existing',
  });
  const ctx = createEngineContext(store, { progress: output.progress, notice: output.note });
  await ensureSubscription(store.db, DEFAULT_SUBSCRIPTION_ID, 'default', ctx.clock.now());
  const zones = new ZoneDirectory(ctx, DEFAULT_SUBSCRIPTION_ID, challengeValues);
  const pool = new SolverPool({
    ...SOLVER_FACTORIES,
    'dns-01': async () =>
      new Dns01Solver({
        zoneFor: (recordName, domain) => zones.zoneFor(recordName, domain),
        resolvers: config.resolvers.length > 0 ? config.resolvers : undefined,
        propagationTimeoutMs: config.dnsTimeoutMs,
      }),
  });
  const solvers = poolSolvers(pool);
  return {
    config,
    ctx,
    output,
    solvers,
    zones,
    subscriptionId: DEFAULT_SUBSCRIPTION_ID,
    async close() {
      await solvers.close();
      await zones.close();
      await closeEngineContext(ctx);
      await store.close();
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
