// How long a client may take to send its request, and how many connections one
// instance holds: without these, connections that send headers and never the
// body (or nothing at all) stay open until the process runs out of file
// descriptors, and /healthz stops answering.
import type { Server } from 'node:http';

export interface ConnectionLimits {
  /** The request line and headers must arrive within this; a connection that sends nothing is closed after it too. */
  headersTimeoutMs: number;
  /** The whole request, body included (`certkeep serve --request-timeout`). */
  requestTimeoutMs: number;
  /** Connections beyond this are closed as they arrive (`certkeep serve --max-connections`). */
  maxConnections: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, maxConnections: 10_000 };

/** Fastify's options for the limits, and what is set on its server once it exists. */
export function connectionLimits(given: Partial<ConnectionLimits> = {}) {
  const limits = { ...DEFAULT_CONNECTION_LIMITS, ...given };
  // Node requires the headers' bound to be within the request's.
  const headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  return {
    limits,
    fastify: {
      requestTimeout: limits.requestTimeoutMs,
      // Node looks for expired requests every connectionsCheckingInterval (30 s by default): a second is close enough.
      http: { headersTimeout, requestTimeout: limits.requestTimeoutMs, connectionsCheckingInterval: Math.min(1_000, headersTimeout) },
    },
    apply(server: Server): void {
      server.maxConnections = limits.maxConnections;
      // Node's headers timeout starts at a request's first byte: a connection that sends none is closed here.
      server.on('connection', (socket) => socket.setTimeout(headersTimeout));
      // Once a request has come, the request timeout and then the keep-alive timeout take over.
      server.on('request', (request) => request.socket.setTimeout(0));
    },
  };
}
