// HTTP-01 (RFC 8555 §8.3): answers GET /.well-known/acme-challenge/<token>
// with the key authorization, and nothing else.
import { createServer, type Server } from 'node:http';
import { type AnswerSource, MemoryAnswers } from './answers.ts';
import { listenOn } from './listen.ts';
import type { ChallengeSolver, ChallengeTask } from './solver.ts';

const PREFIX = '/.well-known/acme-challenge/';

const ADVICE = {
  what: 'HTTP-01',
  inUse: 'stop what listens there, pass --http-port N (and forward port 80 to it), or use --webroot DIR with your web server',
  denied: 'run as root, grant CAP_NET_BIND_SERVICE, pass --http-port N, or use --webroot DIR',
};

/** Serves the answers of `tokens`, which are keyed by token. */
export async function startHttpResponder(options: { host?: string; port: number; tokens: AnswerSource }): Promise<{
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
  const port = await listenOn(server, options.host ?? '0.0.0.0', options.port, ADVICE);
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

/** The solver over a responder this process runs itself. */
export class HttpResponderSolver implements ChallengeSolver {
  readonly type = 'http-01' as const;
  readonly #tokens: MemoryAnswers;
  readonly #close: () => Promise<void>;
  constructor(tokens: MemoryAnswers, close: () => Promise<void>) {
    this.#tokens = tokens;
    this.#close = close;
  }
  static async start(options: { host?: string; port: number }): Promise<HttpResponderSolver> {
    const tokens = new MemoryAnswers();
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
