// What the route plugins are given: the engine, which holds the server's choices
// (the solvers that answer challenges, the CA for certificates that name none).
import type { Engine } from '../engine/index.ts';

export interface Services {
  engine: Engine;
}
