// Which solver answers a certificate's challenges. The CLI answers from this
// process (its own HTTP-01 or TLS-ALPN-01 responder or webroot, its zones); the
// server answers HTTP-01 and TLS-ALPN-01 from the store so that any instance
// can, writes DNS-01 records in the subscription's managed zones, and leaves
// the rest to the client, which places the answers itself from the tokens it
// was given. One source per engine.
import type { AnswerSource } from '../challenges/answers.ts';
import { Dns01Solver } from '../challenges/dns01.ts';
import { SolverPool } from '../challenges/pool.ts';
import type { ChallengeSolver, ChallengeTask, ChallengeType } from '../challenges/solver.ts';
import { WebrootSolver } from '../challenges/webroot.ts';
import { challengeRecordName } from '../dns/challenge-name.ts';
import { UsageError } from '../errors.ts';
import { deleteChallengeToken, putChallengeToken } from '../store/repositories/challenge-tokens.ts';
import { deleteTlsAlpnAnswer, findTlsAlpnKeyAuthorization, putTlsAlpnAnswer } from '../store/repositories/tls-alpn-answers.ts';
import type { CertificateRow } from '../store/repositories/certificates.ts';
import { listZones } from '../store/repositories/zones.ts';
import type { EngineContext } from './context.ts';
import { holdingZone, ZoneDirectory } from './zones.ts';

/** What a solver is chosen by: the certificate's owner, challenge type and configuration. */
export type SolverKey = Pick<CertificateRow, 'subscription_id' | 'challenge_type' | 'challenge_config'>;

export interface SolverSource {
  solverFor(certificate: SolverKey): Promise<ChallengeSolver>;
  /** Throws a UsageError naming challengeType when certkeep cannot answer this type here. */
  checkAnswerable?(type: ChallengeType): void;
  close(): Promise<void>;
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

/** TLS-ALPN-01 answers kept in the store by identifier, served by every instance's listener (serve --tls-alpn-listen). */
export class StoredTlsAlpnAnswers implements ChallengeSolver {
  readonly type = 'tls-alpn-01' as const;
  readonly #ctx: EngineContext;
  constructor(ctx: EngineContext) {
    this.#ctx = ctx;
  }
  async present(task: ChallengeTask): Promise<void> {
    if (!task.orderId) throw new Error('stored TLS-ALPN-01 answers need the order id');
    const answer = { token: task.token, identifier: task.identifier.value, orderId: task.orderId, keyAuthorization: task.keyAuthorization };
    await putTlsAlpnAnswer(this.#ctx.store.db, answer, this.#ctx.clock.now());
  }
  async cleanup(task: ChallengeTask): Promise<void> {
    await deleteTlsAlpnAnswer(this.#ctx.store.db, task.token);
  }
}

/** What a TLS-ALPN-01 listener of the server presents: the stored answer for the name in the SNI. */
export function storedTlsAlpnAnswers(ctx: EngineContext): AnswerSource {
  return { keyAuthorization: (identifier) => findTlsAlpnKeyAuthorization(ctx.store.db, identifier) };
}

export interface DnsSolverOptions {
  /** Recursive resolvers (host:port) for CNAME and nameserver lookups; default: the system's. */
  resolvers?: string[];
  /** How long DNS-01 waits for every authoritative server to serve a record. */
  propagationTimeoutMs?: number;
}

/** DNS-01 solvers per subscription, each over the subscription's managed zones. */
class ZoneSolvers {
  readonly #ctx: EngineContext;
  readonly #options: DnsSolverOptions;
  readonly #directories = new Map<string, ZoneDirectory>();
  readonly #solvers = new Map<string, Dns01Solver>();

  constructor(ctx: EngineContext, options: DnsSolverOptions) {
    this.#ctx = ctx;
    this.#options = options;
  }

  solverFor(subscriptionId: string): Dns01Solver {
    let solver = this.#solvers.get(subscriptionId);
    if (!solver) {
      const directory = new ZoneDirectory(this.#ctx, subscriptionId);
      this.#directories.set(subscriptionId, directory);
      solver = new Dns01Solver({
        zoneFor: (recordName, domain) => directory.zoneFor(recordName, domain),
        resolvers: this.#options.resolvers,
        propagationTimeoutMs: this.#options.propagationTimeoutMs,
        onPropagation: (provider, outcome, seconds) => this.#ctx.observer.dnsPropagated(provider, outcome, seconds),
      });
      this.#solvers.set(subscriptionId, solver);
    }
    return solver;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#directories.values()].map((d) => d.close()));
    this.#directories.clear();
    this.#solvers.clear();
  }
}

/**
 * This process answers (the CLI): HTTP-01 from a responder of its own, or
 * through a web server's document root; DNS-01 in the subscription's zones.
 */
export class LocalSolvers implements SolverSource {
  readonly #pool = new SolverPool();
  readonly #zones: ZoneSolvers;

  constructor(ctx: EngineContext, options: DnsSolverOptions = {}) {
    this.#zones = new ZoneSolvers(ctx, options);
  }

  async solverFor(certificate: SolverKey): Promise<ChallengeSolver> {
    if (certificate.challenge_type === 'dns-01') return this.#zones.solverFor(certificate.subscription_id);
    return this.#pool.get(certificate.challenge_type, certificate.challenge_config);
  }

  async close(): Promise<void> {
    await this.#pool.closeAll();
    await this.#zones.close();
  }
}

export interface ServerSolverOptions extends DnsSolverOptions {
  /** This server runs a TLS-ALPN-01 listener (serve --tls-alpn-listen); without one, new tls-alpn-01 certificates are refused. */
  tlsAlpnListener?: boolean;
}

/**
 * The server's solvers: HTTP-01 and TLS-ALPN-01 answers in the store (any
 * instance serves them), DNS-01 in each subscription's zones.
 */
export class ServerSolvers implements SolverSource {
  readonly #options: ServerSolverOptions;
  readonly #zones: ZoneSolvers;
  readonly #http: StoredHttpAnswers;
  readonly #tlsAlpn: StoredTlsAlpnAnswers;
  readonly #webroots = new Map<string, Promise<ChallengeSolver>>();

  constructor(ctx: EngineContext, options: ServerSolverOptions = {}) {
    this.#options = options;
    this.#zones = new ZoneSolvers(ctx, options);
    this.#http = new StoredHttpAnswers(ctx);
    this.#tlsAlpn = new StoredTlsAlpnAnswers(ctx);
  }

  async solverFor(certificate: SolverKey): Promise<ChallengeSolver> {
    const type = certificate.challenge_type;
    const config = certificate.challenge_config;
    if (config.manual) return new ClientAnswers(type);
    // A certificate made with --webroot keeps answering through its web server's document root.
    if (type === 'http-01' && config.webroot) return this.#webroot(config.webroot);
    if (type === 'http-01') return this.#http;
    if (type === 'dns-01') return this.#zones.solverFor(certificate.subscription_id);
    if (type === 'tls-alpn-01') return this.#tlsAlpn;
    return new ClientAnswers(type);
  }

  /**
   * A CA validates TLS-ALPN-01 on port 443 of the name, which no tenant can open: only an
   * operator who runs the listener offers it. Accepting it without one would only spend the
   * CA's failed-validation allowance. Instances of one deployment share their options.
   */
  checkAnswerable(type: ChallengeType): void {
    if (type !== 'tls-alpn-01' || this.#options.tlsAlpnListener) return;
    throw new UsageError(
      'challengeType: this server answers tls-alpn-01 only when it runs with --tls-alpn-listen HOST:PORT (port 443 of the names must reach it); use http-01 or dns-01, or ask the operator',
      'challengeType',
    );
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

  async close(): Promise<void> {
    await this.#zones.close();
  }
}

/** Whether every name's challenge record lies in one of the subscription's managed zones. */
export async function inManagedZones(ctx: EngineContext, subscriptionId: string, names: string[]): Promise<boolean> {
  const zones = await listZones(ctx.store.db, subscriptionId);
  return names.every((name) => holdingZone(zones, challengeRecordName(name)) !== undefined);
}
