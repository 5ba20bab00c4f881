// Solvers are opened once per configuration and shared by every order that
// needs them (one HTTP-01 or TLS-ALPN-01 responder per port, not one per
// certificate).
import { UsageError } from '../errors.ts';
import { HttpResponderSolver } from './http-responder.ts';
import type { ChallengeSolver, ChallengeType } from './solver.ts';
import { TlsAlpnSolver } from './tls-alpn-responder.ts';
import { WebrootSolver } from './webroot.ts';

/** Where this process answers: its HTTP-01 responder (on httpHost:httpPort) or a web server's document root, its TLS-ALPN-01 responder (on tlsPort). */
export interface SolverOptions {
  httpPort?: number;
  httpHost?: string;
  webroot?: string;
  /** Where this process answers TLS-ALPN-01 (default 443, the port CAs connect to). */
  tlsPort?: number;
}

export type SolverFactory = (config: SolverOptions) => Promise<ChallengeSolver>;

/** Solvers by challenge type (the one table where they are registered). */
export const SOLVER_FACTORIES: Partial<Record<ChallengeType, SolverFactory>> = {
  'http-01': (config) =>
    config.webroot
      ? WebrootSolver.open(config.webroot)
      : HttpResponderSolver.start({ host: config.httpHost, port: config.httpPort ?? 80 }),
  'tls-alpn-01': (config) => TlsAlpnSolver.start({ port: config.tlsPort ?? 443 }),
};

export class SolverPool {
  readonly #open = new Map<string, Promise<ChallengeSolver>>();
  readonly #factories: Partial<Record<ChallengeType, SolverFactory>>;

  constructor(factories: Partial<Record<ChallengeType, SolverFactory>> = SOLVER_FACTORIES) {
    this.#factories = factories;
  }

  get(type: ChallengeType, config: SolverOptions): Promise<ChallengeSolver> {
    const key = `${type} ${JSON.stringify(config)}`;
    let solver = this.#open.get(key);
    if (!solver) {
      const factory = this.#factories[type];
      if (!factory) throw new UsageError(`challengeType: ${type} is not supported here; use ${Object.keys(this.#factories).join(' or ')}`, 'challengeType');
      solver = factory(config);
      this.#open.set(key, solver);
      // A failed open (port in use) must not be cached.
      solver.catch(() => this.#open.delete(key));
    }
    return solver;
  }

  async closeAll(): Promise<void> {
    const solvers = await Promise.allSettled([...this.#open.values()]);
    this.#open.clear();
    await Promise.allSettled(solvers.map((s) => (s.status === 'fulfilled' ? s.value.close?.() : undefined)));
  }
}
