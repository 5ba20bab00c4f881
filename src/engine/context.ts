// What every engine use case needs: the store, the time, the ACME clients
// (one keep-alive pool per account) and a place to report progress.
import type { AcmeClient } from '../acme/index.ts';
import type { Store } from '../store/database.ts';
import type { Row } from '../store/repositories/db.ts';
import { type Clock, systemClock } from '../time/clock.ts';
import { AcmeClients } from './acme-clients.ts';
import type { TenantLimits } from '../outbound/tenant-limits.ts';
import { type EngineObserver, UNOBSERVED } from './observer.ts';

/** What a progress line is about, so that the server's JSON log can carry it: subscription id, certificate name, order id. */
export interface ProgressAbout {
  subscription?: string;
  certificate?: string;
  order?: string;
}

export type ProgressListener = (message: string, about?: ProgressAbout) => void;

/** An ACME account this process has loaded (accounts.ts), with its client. */
export interface ReadyAccount {
  row: Row<'acme_accounts'>;
  client: AcmeClient;
}

export interface EngineContext {
  store: Store;
  clock: Clock;
  clients: AcmeClients;
  /** Accounts loaded (key decrypted) once per process, by subscription, CA and contact. */
  accounts: Map<string, Promise<ReadyAccount>>;
  progress: ProgressListener;
  /** Something the person should know that is not progress (the CLI prints it on stderr, once). */
  notice: ProgressListener;
  /** Tells this process's workers that an order wants driving (set by the worker; a no-op elsewhere). */
  wakeWorkers: () => void;
  /** Tells this process's deployer that a certificate has a new version (set by the deployer; a no-op elsewhere). */
  versionStored: () => void;
  /** Tells this process's live stream (live.ts) that something was stored: look now, not at the next tick. */
  notifyChange: () => void;
  /** What tenants may make the server do; set by the server (`certkeep serve`), absent for the CLI, the operator. */
  limits?: TenantLimits;
  /** Who is told of requests, orders, propagation and deliveries (the server's metrics); nobody by default. */
  observer: EngineObserver;
}

export function createEngineContext(
  store: Store,
  options: { clock?: Clock; progress?: ProgressListener; notice?: ProgressListener } = {},
): EngineContext {
  const clock = options.clock ?? systemClock;
  return {
    store,
    clock,
    clients: new AcmeClients(clock),
    accounts: new Map(),
    progress: options.progress ?? (() => {}),
    notice: options.notice ?? (() => {}),
    wakeWorkers: () => {},
    versionStored: () => {},
    notifyChange: () => {},
    observer: UNOBSERVED,
  };
}

export async function closeEngineContext(ctx: EngineContext): Promise<void> {
  ctx.accounts.clear();
  await ctx.clients.closeAll();
}
