// Which solver answers a certificate's challenges. The CLI answers from this
// process (its own HTTP-01 responder or webroot, its zones); the server answers
// HTTP-01 from the store so that any instance can, writes DNS-01 records in the
// subscription's managed zones, and leaves the rest to the client, which places
// the answers itself from the tokens it was given.
import { Dns01Solver } from '../challenges/dns01.ts';
import type { SolverPool } from '../challenges/pool.ts';
import type { ChallengeSolver, ChallengeTask, ChallengeType } from '../challenges/solver.ts';
import { WebrootSolver } from '../challenges/webroot.ts';
import { challengeRecordName } from '../dns/challenge-name.ts';
import { challengeValues } from '../dns/providers/delegated/delegated.ts';
import { deleteChallengeToken, putChallengeToken } from '../store/repositories/challenge-tokens.ts';
import type { CertificateRow } from '../store/repositories/certificates.ts';
import { listZones } from '../store/repositories/zones.ts';
import type { EngineContext } from './context.ts';
import { holdingZone, ZoneDirectory } from './zones.ts';

/** What a solver is chosen by: the certificate's owner, challenge type and configuration. */
export type SolverKey = Pick<CertificateRow, 'subscription_id' | 'challenge_type' | 'challenge_config'>;

export interface SolverSource {
  solverFor(certificate: SolverKey): Promise<ChallengeSolver>;
  close(): Promise<void>;
}

/** The CLI's solvers: one pool for the single subscription it works for. */
export function poolSolvers(pool: SolverPool): SolverSource {
  return {
    solverFor: (certificate) => pool.get(certificate.challenge_type, certificate.challenge_config),
    close: () => pool.closeAll(),
  };
}

/** The client places the answers itself (the compatibility flows, names outside managed zones). */
export class ClientAnswers implements ChallengeSolver {
  readonly type: ChallengeType;
  constructor(type: ChallengeType) {
    this.type = type;
  }
  async present(): Promise<void> {}
  async cleanup(): Promise<void> {}
}

/** HTTP-01 answers kept in the store, served by every instance's responder. */
export class StoredHttpAnswers implements ChallengeSolver {
  readonly type = 'http-01' as const;
  readonly #ctx: EngineContext;
  constructor(ctx: EngineContext) {
    this.#ctx = ctx;
  }
  async present(task: ChallengeTask): Promise<void> {
    if (!task.orderId) throw new Error('stored HTTP-01 answers need the order id');
    await putChallengeToken(this.#ctx.store.db, task.token, task.orderId, task.keyAuthorization, this.#ctx.clock.now());
  }
  async cleanup(task: ChallengeTask): Promise<void> {
    await deleteChallengeToken(this.#ctx.store.db, task.token);
  }
}

export interface ServerSolverOptions {
  resolvers?: string[];
  propagationTimeoutMs?: number;
}

/** The server's solvers, per subscription for DNS-01 (each has its own zones). */
export class ServerSolvers implements SolverSource {
  readonly #ctx: EngineContext;
  readonly #options: ServerSolverOptions;
  readonly #directories = new Map<string, ZoneDirectory>();
  readonly #dns = new Map<string, Dns01Solver>();
  readonly #http: StoredHttpAnswers;
  readonly #webroots = new Map<string, Promise<ChallengeSolver>>();

  constructor(ctx: EngineContext, options: ServerSolverOptions = {}) {
    this.#ctx = ctx;
    this.#options = options;
    this.#http = new StoredHttpAnswers(ctx);
  }

  async solverFor(certificate: SolverKey): Promise<ChallengeSolver> {
    const type = certificate.challenge_type;
    const config = certificate.challenge_config;
    if (config.manual) return new ClientAnswers(type);
    // A certificate made with --webroot keeps answering through its web server's document root.
    if (type === 'http-01' && config.webroot) return this.#webroot(config.webroot);
    if (type === 'http-01') return this.#http;
    if (type === 'dns-01') return this.#dnsSolver(certificate.subscription_id);
    return new ClientAnswers(type);
  }

  #webroot(path: string): Promise<ChallengeSolver> {
    let solver = this.#webroots.get(path);
    if (!solver) {
      solver = WebrootSolver.open(path);
      this.#webroots.set(path, solver);
      solver.catch(() => this.#webroots.delete(path));
    }
    return solver;
  }

  #dnsSolver(subscriptionId: string): Dns01Solver {
    let solver = this.#dns.get(subscriptionId);
    if (!solver) {
      const directory = new ZoneDirectory(this.#ctx, subscriptionId, challengeValues);
      this.#directories.set(subscriptionId, directory);
      solver = new Dns01Solver({
        zoneFor: (recordName, domain) => directory.zoneFor(recordName, domain),
        resolvers: this.#options.resolvers,
        propagationTimeoutMs: this.#options.propagationTimeoutMs,
      });
      this.#dns.set(subscriptionId, solver);
    }
    return solver;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#directories.values()].map((d) => d.close()));
    this.#directories.clear();
    this.#dns.clear();
  }
}

/** Whether every name's challenge record lies in one of the subscription's managed zones. */
export async function inManagedZones(ctx: EngineContext, subscriptionId: string, names: string[]): Promise<boolean> {
  const zones = await listZones(ctx.store.db, subscriptionId);
  return names.every((name) => holdingZone(zones, challengeRecordName(name)) !== undefined);
}
