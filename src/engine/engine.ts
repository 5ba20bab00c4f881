// The engine, opened from one configuration: the store (with its master key),
// the clock, the ACME clients, the solvers that answer challenges and the CA
// that certificates use when they name none. Every CLI command opens one;
// `certkeep serve` starts the server runtime over it (runtime.ts). Use cases
// are the functions of this folder, called with the engine.
import { CA_SHORTCUTS, type Config } from '../config.ts';
import { migrationStatus, openStore, type Store } from '../store/database.ts';
import type { IssuerSpec } from '../store/records.ts';
import { DEFAULT_SUBSCRIPTION_ID, ensureSubscription } from '../store/repositories/subscriptions.ts';
import type { Clock } from '../time/clock.ts';
import { closeEngineContext, createEngineContext, type EngineContext, type ProgressListener } from './context.ts';
import { type DnsSolverOptions, LocalSolvers, ServerSolvers, type SolverSource } from './solvers.ts';

export interface Engine extends EngineContext {
  /** How this engine answers challenges (EngineOptions.answers). */
  solvers: SolverSource;
  /** The CA for certificates that name none: --ca, --ca-cert, --email. */
  issuer: IssuerSpec;
  /** Where DNS-01 looks names up and how long it waits for propagation. */
  dns: DnsSolverOptions;
  close(): Promise<void>;
}

export interface EngineOptions {
  /**
   * 'local': this process answers the challenges (its own HTTP-01 responder or a
   * webroot, its zones), as the CLI does; 'server': HTTP-01 answers go to the
   * store for every instance's responder, and clients may answer themselves.
   */
  answers: 'local' | 'server';
  /** With answers 'server': this server runs a TLS-ALPN-01 listener (serve --tls-alpn-listen), so tls-alpn-01 certificates may be made. */
  tlsAlpnListener?: boolean;
  progress?: ProgressListener;
  /** Something the person should know that is not progress (the CLI prints it on stderr, once). */
  notice?: ProgressListener;
  clock?: Clock;
  issuer?: IssuerSpec;
  dns?: DnsSolverOptions;
}

/** What the engine reads from the configuration (config.ts). */
export type EngineConfig = Pick<Config, 'dataDir' | 'databaseUrl' | 'masterKey' | 'ca' | 'caCertPem' | 'email' | 'resolvers' | 'dnsTimeoutMs'>;

export interface OpenOptions extends Omit<EngineOptions, 'issuer' | 'dns'> {
  /** Whether a new store may be made when there is none (commands that create: issue, zone add, serve …); otherwise it must exist. */
  create?: boolean;
}

/** Opens the store the configuration names (creating the CLI's subscription on first use) and the engine over it. */
export async function openEngine(config: EngineConfig, options: OpenOptions): Promise<Engine> {
  const { create, ...engineOptions } = options;
  const store = await openStore({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    masterKey: config.masterKey,
    mode: create ? 'create' : 'existing',
  });
  const engine = engineOn(store, {
    ...engineOptions,
    issuer: { caUrl: config.ca, email: config.email, caCertPem: config.caCertPem },
    dns: { resolvers: config.resolvers.length > 0 ? config.resolvers : undefined, propagationTimeoutMs: config.dnsTimeoutMs },
  });
  try {
    await ensureSubscription(store.db, DEFAULT_SUBSCRIPTION_ID, 'default', engine.clock.now());
  } catch (error) {
    await engine.close();
    await store.close();
    throw error;
  }
  const closeEngine = engine.close;
  engine.close = async () => {
    await closeEngine();
    await store.close();
  };
  return engine;
}

/** An engine over a store opened elsewhere (tests, benchmarks); closing it leaves the store open. */
export function engineOn(store: Store, options: EngineOptions): Engine {
  const ctx = createEngineContext(store, { clock: options.clock, progress: options.progress, notice: options.notice });
  const dns = options.dns ?? {};
  const solvers = options.answers === 'local' ? new LocalSolvers(ctx, dns) : new ServerSolvers(ctx, { ...dns, tlsAlpnListener: options.tlsAlpnListener });
  const engine: Engine = Object.assign(ctx, {
    solvers,
    issuer: options.issuer ?? { caUrl: CA_SHORTCUTS.letsencrypt },
    dns,
    async close() {
      await solvers.close();
      await closeEngineContext(ctx);
    },
  });
  return engine;
}

/** Whether the database answers and its schema is current (for readiness probes). */
export function databaseStatus(engine: EngineContext): Promise<{ current: boolean; pending: string[] }> {
  return migrationStatus(engine.store.db);
}
