// HTTP-01 (RFC 8555 §8.3): answers GET /.well-known/acme-challenge/<token>
// with the key authorization, and nothing else.
import { createServer, type Server } from 'node:http';
import { OperationError } from '../errors.ts';
import type { ChallengeSolver, ChallengeTask } from './solver.ts';

const PREFIX = '/.well-known/acme-challenge/';

/** Where the responder finds the answer for a token; the server looks in the store, the CLI in memory. */
export interface TokenSource {
  keyAuthorization(token: string): string | undefined | Promise<string | undefined>;
}

export class MemoryTokens implements TokenSource {
  readonly #tokens = new Map<string, string>();
  set(token: string, keyAuthorization: string): void {
    this.#tokens.set(token, keyAuthorization);
  }
  delete(token: string): void {
    this.#tokens.delete(token);
  }
  keyAuthorization(token: string): string | undefined {
    return this.#tokens.get(token);
  }
}

export async function startHttpResponder(options: { host?: string; port: number; tokens: TokenSource }): Promise<{
  server: Server;
  port: number;
  close(): Promise<void>;
}> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    const token = path.startsWith(PREFIX) ? path.slice(PREFIX.length) : '';
    if (request.method !== 'GET' && request.method !== 'HEAD') return reply(response, 405, 'method not allowed\n');
    if (!/^[A-Za-z0-9_-]+$/.test(token)) return reply(response, 404, 'not found\n');
    Promise.resolve(options.tokens.keyAuthorization(token)).then(
      (answer) => (answer ? reply(response, 200, answer) : reply(response, 404, 'not found\n')),
      () => reply(response, 503, 'challenge store unavailable\n'),
    );
  });
  server.keepAliveTimeout = 5000;
  const host = options.host ?? '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, host, options.port)));
    server.listen(options.port, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    server,
    port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

function reply(response: import('node:http').ServerResponse, status: number, body: string): void {
  response.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

/** Worded for `certkeep issue`; the cause keeps the errno code for callers with other flags (serve). */
function listenError(error: NodeJS.ErrnoException, host: string, port: number): Error {
  if (error.code === 'EADDRINUSE') {
    return new OperationError(
      `HTTP-01: port ${port} on ${host} is already in use — stop what listens there, pass --http-port N (and forward port 80 to it), or use --webroot DIR with your web server`,
      { cause: error },
    );
  }
  if (error.code === 'EACCES') {
    return new OperationError(
      `HTTP-01: not allowed to listen on port ${port} — run as root, grant CAP_NET_BIND_SERVICE, pass --http-port N, or use --webroot DIR`,
      { cause: error },
    );
  }
  return new OperationError(`HTTP-01: cannot listen on ${host}:${port}: ${error.message}`, { cause: error });
}

/** The solver over a responder this process runs itself. */
export class HttpResponderSolver implements ChallengeSolver {
  readonly type = 'http-01' as const;
  readonly #tokens: MemoryTokens;
  readonly #close: () => Promise<void>;
  constructor(tokens: MemoryTokens, close: () => Promise<void>) {
    this.#tokens = tokens;
    this.#close = close;
  }
  static async start(options: { host?: string; port: number }): Promise<HttpResponderSolver> {
    const tokens = new MemoryTokens();
    const responder = await startHttpResponder({ ...options, tokens });
    return new HttpResponderSolver(tokens, responder.close);
  }
  async present(task: ChallengeTask): Promise<void> {
    this.#tokens.set(task.token, task.keyAuthorization);
  }
  async cleanup(task: ChallengeTask): Promise<void> {
    this.#tokens.delete(task.token);
  }
  close(): Promise<void> {
    return this.#close();
  }
}
