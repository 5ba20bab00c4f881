// What the route plugins are given: the engine and the server's choices.
import type { EngineContext } from '../engine/context.ts';
import type { IssuerSpec } from '../engine/issuers.ts';
import type { SolverSource } from '../engine/solvers.ts';

export interface Services {
  ctx: EngineContext;
  solvers: SolverSource;
  /** The CA for new certificates that name none. */
  issuer: IssuerSpec;
}
