// What every command opens: configuration, store and engine; and closes after.
import { Dns01Solver } from '../challenges/dns01.ts';
import { SOLVER_FACTORIES, SolverPool } from '../challenges/pool.ts';
import { challengeValues } from '../dns/providers/delegated/delegated.ts';
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

export async function openSession(flags: ConfigFlags): Promise<Session> {
  const config = loadConfig(flags);
  const output = new Output(config.json, config.debug);
  const store = await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, masterKey: config.masterKey });
  const ctx = createEngineContext(store, { progress: output.progress });
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
      output.stopProgress();
      await solvers.close();
      await zones.close();
      await closeEngineContext(ctx);
      await store.close();
    },
  };
}

export async function withSession<T>(flags: ConfigFlags, run: (session: Session) => Promise<T>): Promise<T> {
  const session = await openSession(flags);
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
