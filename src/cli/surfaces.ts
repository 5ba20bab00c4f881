// The surfaces a command starts besides the command line itself, handed to it
// by the entry (src/certkeep.ts): the command line knows them by these shapes
// only, as the engine is the one thing every surface imports.
import type { Engine } from '../engine/index.ts';
import type { RuntimeLog } from '../engine/runtime.ts';

/** The HTTP API, for `certkeep serve`. */
export interface ApiSurface {
  /** --rate-limit: N/PERIOD or off, refused with the option named. */
  parseRateLimit(text: string, option: string): unknown;
  /** The API over the engine, not listening yet; its log is where the server runtime reports too. */
  build(engine: Engine, options: ApiBuildOptions): Promise<ApiServer>;
}

export interface ApiBuildOptions {
  logger: false | { level: string };
  rateLimit?: unknown;
  /** --request-timeout and --max-connections. */
  connections?: { requestTimeoutMs?: number; maxConnections?: number };
  /** --trust-proxy: the reverse proxies whose X-Forwarded-For is believed. */
  trustProxy?: string[];
}

export interface ApiServer {
  log: RuntimeLog;
  /** Resolves with the address it listens on. */
  listen(host: string, port: number): Promise<string>;
  close(): Promise<void>;
}

export interface Surfaces {
  api?: () => Promise<ApiSurface>;
}
