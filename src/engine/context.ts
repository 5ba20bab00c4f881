// What every engine use case needs: the store, the time, the ACME clients
// (one keep-alive pool per account) and a place to report progress.
import type { Store } from '../store/database.ts';
import { AcmeClients } from './acme-clients.ts';
import type { ReadyAccount } from './accounts.ts';
import { type Clock, systemClock } from './clock.ts';

export type ProgressListener = (message: string) => void;

export interface EngineContext {
  store: Store;
  clock: Clock;
  clients: AcmeClients;
  /** Accounts loaded (key decrypted) once per process, by subscription, CA and contact. */
  accounts: Map<string, Promise<ReadyAccount>>;
  progress: ProgressListener;
  /** Tells this process's workers that an order wants driving (set by the worker; a no-op elsewhere). */
  wakeWorkers: () => void;
  /** Tells this process's deployer that a certificate has a new version (set by the deployer; a no-op elsewhere). */
  versionStored: () => void;
}

export function createEngineContext(store: Store, options: { clock?: Clock; progress?: ProgressListener } = {}): EngineContext {
  const clock = options.clock ?? systemClock;
  return {
    store,
    clock,
    clients: new AcmeClients(clock),
    accounts: new Map(),
    progress: options.progress ?? (() => {}),
    wakeWorkers: () => {},
    versionStored: () => {},
  };
}

export async function closeEngineContext(ctx: EngineContext): Promise<void> {
  ctx.accounts.clear();
  await ctx.clients.closeAll();
}
