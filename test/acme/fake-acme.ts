// A tiny scripted ACME server over plain HTTP on loopback, for contract tests of
// behaviour Pebble cannot show (rate limits, 5xx, profiles, ARI, Retry-After).
// Every response carries a fresh Replay-Nonce; requests are recorded. Routes are
// exact ("POST /order") or prefixes ("POST /order/*"); fake-issuance.ts adds a
// whole order-to-certificate flow on top.
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AcmeClock } from '../../src/acme/index.ts';

export interface FakeRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** Decoded JWS protected header (POST only). */
  protected?: { nonce?: string; url?: string; kid?: string; jwk?: unknown; alg?: string };
  /** Decoded JWS payload: parsed JSON, or '' for POST-as-GET. */
  payload?: unknown;
  /** The Replay-Nonce this request was answered with. */
  replyNonce?: string;
}

export interface FakeReply {
  status?: number;
  headers?: Record<string, string | string[]>;
  /** Objects are sent as JSON (problem+json when they have a `type` and status >= 400). */
  body?: unknown;
  /** Close the connection without an answer, as an unreachable CA would. */
  drop?: boolean;
}

export type FakeRoute = FakeReply | FakeReply[] | ((req: FakeRequest) => FakeReply);

export interface FakeAcmeOptions {
  meta?: Record<string, unknown>;
  renewalInfo?: boolean;
}

export class FakeAcme {
  readonly requests: FakeRequest[] = [];
  readonly issuedNonces = new Set<string>();
  readonly base: string;
  private readonly server: Server;
  private readonly routes = new Map<string, FakeRoute>();
  private nonceCounter = 0;

  private constructor(server: Server, base: string, opts: FakeAcmeOptions) {
    this.server = server;
    this.base = base;
    this.routes.set('GET /dir', { body: this.directoryBody(opts) });
    this.routes.set('HEAD /nonce', { status: 200 });
    this.routes.set('POST /acct', {
      status: 201,
      headers: { location: `${base}/acct/1` },
      body: { status: 'valid' },
    });
  }

  /** Starts on a free loopback port; stops after the test `t`. */
  static async start(t: { after(fn: () => unknown): void }, opts: FakeAcmeOptions = {}): Promise<FakeAcme> {
    let fake: FakeAcme | undefined;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => fake!.handle(req.method!, req.url!, req.headers, body, res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    fake = new FakeAcme(server, `http://127.0.0.1:${port}`, opts);
    t.after(() => fake.stop());
    return fake;
  }

  get directoryUrl(): string {
    return `${this.base}/dir`;
  }

  /**
   * Sets the reply for "METHOD /path" (or every path under a prefix: "METHOD /path/*"):
   * one reply, a list used in turn (the last repeats), or a function.
   */
  route(methodAndPath: string, route: FakeRoute): void {
    this.routes.set(methodAndPath, route);
  }

  count(methodAndPath: string): number {
    return this.requests.filter((r) => `${r.method} ${r.path}` === methodAndPath).length;
  }

  last(methodAndPath: string): FakeRequest | undefined {
    return this.requests.filter((r) => `${r.method} ${r.path}` === methodAndPath).at(-1);
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private directoryBody(opts: FakeAcmeOptions) {
    const b = this.base;
    return {
      newNonce: `${b}/nonce`,
      newAccount: `${b}/acct`,
      newOrder: `${b}/order`,
      revokeCert: `${b}/revoke`,
      keyChange: `${b}/key-change`,
      ...(opts.renewalInfo ? { renewalInfo: `${b}/renewal-info/` } : {}),
      meta: { termsOfService: `${b}/terms`, ...opts.meta },
    };
  }

  private handle(
    method: string,
    path: string,
    headers: IncomingHttpHeaders,
    body: string,
    res: ServerResponse,
  ) {
    const req: FakeRequest = { method, path, headers, ...decodeJws(body) };
    this.requests.push(req);
    const reply = this.reply(req);
    if (reply.drop) {
      res.socket?.destroy();
      return;
    }
    const nonce = `nonce-${++this.nonceCounter}`;
    this.issuedNonces.add(nonce);
    req.replyNonce = nonce;
    const status = reply.status ?? 200;
    const out: Record<string, string | string[]> = { 'replay-nonce': nonce, ...reply.headers };
    let text = '';
    if (typeof reply.body === 'string') text = reply.body;
    else if (reply.body !== undefined) {
      const isProblem = status >= 400 && typeof (reply.body as { type?: unknown }).type === 'string';
      out['content-type'] ??= isProblem ? 'application/problem+json' : 'application/json';
      text = JSON.stringify(reply.body);
    }
    res.writeHead(status, out);
    res.end(method === 'HEAD' ? undefined : text);
  }

  private reply(req: FakeRequest): FakeReply {
    const route = this.routes.get(`${req.method} ${req.path}`) ?? this.prefixRoute(`${req.method} ${req.path}`);
    if (route === undefined) {
      return {
        status: 404,
        body: { type: 'urn:ietf:params:acme:error:malformed', detail: `no route ${req.path}` },
      };
    }
    if (typeof route === 'function') return route(req);
    if (Array.isArray(route)) return route.length > 1 ? route.shift()! : route[0];
    return route;
  }

  private prefixRoute(methodAndPath: string): FakeRoute | undefined {
    const prefixes = [...this.routes.keys()].filter((key) => key.endsWith('*') && methodAndPath.startsWith(key.slice(0, -1)));
    const longest = prefixes.sort((a, b) => b.length - a.length)[0];
    return longest === undefined ? undefined : this.routes.get(longest);
  }
}

function decodeJws(body: string): Pick<FakeRequest, 'protected' | 'payload'> {
  if (!body) return {};
  const jws = JSON.parse(body) as { protected: string; payload: string };
  const payloadText = Buffer.from(jws.payload, 'base64url').toString('utf8');
  return {
    protected: JSON.parse(Buffer.from(jws.protected, 'base64url').toString('utf8')),
    payload: payloadText === '' ? '' : JSON.parse(payloadText),
  };
}

export function problem(
  type: string,
  detail: string,
  status: number,
  headers?: Record<string, string>,
): FakeReply {
  return { status, headers, body: { type: `urn:ietf:params:acme:error:${type}`, detail, status } };
}

/** A clock whose sleeps return at once and move time forward; `sleeps` lists them. */
export function fakeClock(start = Date.parse('2030-01-01T00:00:00Z')): {
  clock: AcmeClock;
  sleeps: number[];
} {
  const sleeps: number[] = [];
  let now = start;
  return {
    sleeps,
    clock: {
      now: () => now,
      sleep: async (ms) => {
        sleeps.push(ms);
        now += ms;
      },
    },
  };
}
