// The agent's side of /api/v1/agent: plain HTTP(S) with keep-alive, the token
// as a bearer, JSON in and out; the stream read as server-sent events. A
// refused token is an AgentRefused (the agent stops), anything else that fails
// to reach the server is a ServerUnreachable (the agent keeps what it has and
// tries again).
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { rootCertificates } from 'node:tls';
import type { DeployFormat } from '../deploy/index.ts';

/** A target as the server assigns it (GET /api/v1/agent/targets). */
export interface Assignment {
  id: string;
  certificate: string;
  names: string[];
  to: string;
  format: DeployFormat;
  reload: string | null;
  deployHook: string | null;
  verify: string[];
  verifyTimeoutMs: number;
  version: { id: string; serial: string } | null;
}

export interface AssignmentList {
  agent: { id: string; host: string };
  targets: Assignment[];
  digest: string;
}

export interface Bundle {
  certificate: string;
  names: string[];
  versionId: string;
  serial: string;
  certPem: string;
  chainPem: string;
  fullchainPem: string;
  keyPem: string;
  pfx: string | null;
}

export interface Report {
  target: string;
  versionId: string;
  status: 'pending' | 'deployed' | 'failed';
  stage?: string;
  error?: string;
  rollbackError?: string;
  rolledBack?: boolean;
  verifiedAt?: string;
}

/** The server refused the token (rotated, removed, mistyped): nothing the agent can fix by retrying. */
export class AgentRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AgentRefused';
  }
}

/** The server could not be reached, or answered with a failure worth retrying. */
export class ServerUnreachable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServerUnreachable';
  }
}

/** The server has no stream for us (a proxy in the way, an older server): long polling instead. */
export class StreamUnavailable extends Error {}

const REQUEST_TIMEOUT_MS = 30_000;

export class ServerClient {
  readonly #base: URL;
  readonly #token: string;
  readonly #agent: http.Agent;
  readonly #request: typeof http.request;

  /** `ca`: PEM trust anchors for the server's HTTPS, beside the system's. */
  constructor(server: URL, token: string, ca?: string) {
    this.#base = new URL(server.href.endsWith('/') ? server.href : `${server.href}/`);
    this.#token = token;
    const secure = this.#base.protocol === 'https:';
    this.#request = secure ? https.request : http.request;
    this.#agent = secure
      ? new https.Agent({ keepAlive: true, ...(ca ? { ca: [...rootCertificates, ca] } : {}) })
      : new http.Agent({ keepAlive: true });
  }

  targets(): Promise<AssignmentList> {
    return this.#json('GET', 'api/v1/agent/targets') as Promise<AssignmentList>;
  }

  bundle(certificate: string): Promise<Bundle> {
    return this.#json('GET', `api/v1/agent/certificates/${encodeURIComponent(certificate)}`) as Promise<Bundle>;
  }

  async report(report: Report): Promise<void> {
    await this.#json('POST', 'api/v1/agent/deployments', report);
  }

  /** Long poll: the list when its digest differs from `digest`, undefined after `waitSeconds` without a change. */
  async changes(digest: string, waitSeconds: number, signal: AbortSignal): Promise<AssignmentList | undefined> {
    const path = `api/v1/agent/changes?digest=${encodeURIComponent(digest)}&wait=${waitSeconds}`;
    return (await this.#json('GET', path, undefined, signal, (waitSeconds + 30) * 1000)) as AssignmentList | undefined;
  }

  /** Follows the stream, calling `onTargets` with each list, until it ends (resolves) or fails (rejects). */
  stream(onTargets: (list: AssignmentList) => void, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const request = this.#send('GET', 'api/v1/agent/stream', { accept: 'text/event-stream' }, signal);
      request.on('error', (error) => reject(signal.aborted ? new ServerUnreachable('stopped') : unreachable(error)));
      request.on('response', (response) => {
        const type = String(response.headers['content-type'] ?? '');
        if (response.statusCode !== 200 || !type.startsWith('text/event-stream')) {
          readText(response).then((body) => reject(answerError(response.statusCode ?? 0, body, true)), reject);
          return;
        }
        request.setTimeout(0);
        // Heartbeats come every 20 s: a stream silent for much longer is dead (a network gone quiet).
        response.setTimeout(60_000, () => response.destroy(new Error('the stream went silent')));
        let buffer = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          buffer += chunk.replaceAll('\r\n', '\n');
          for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
            const message = parseMessage(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
            if (message.event === 'targets') onTargets(JSON.parse(message.data) as AssignmentList);
            if (message.event === 'revoked') {
              response.destroy();
              reject(new AgentRefused("the server revoked this agent's token (rotated, or the agent removed)"));
              return;
            }
          }
        });
        response.on('end', () => resolve());
        response.on('error', (error) => reject(signal.aborted ? new ServerUnreachable('stopped') : unreachable(error)));
        response.on('close', () => resolve());
      });
      request.end();
    });
  }

  close(): void {
    this.#agent.destroy();
  }

  async #json(method: string, path: string, body?: unknown, signal?: AbortSignal, timeoutMs = REQUEST_TIMEOUT_MS): Promise<unknown> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { accept: 'application/json', ...(payload ? { 'content-type': 'application/json' } : {}) };
    const response = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const request = this.#send(method, path, headers, signal, timeoutMs);
      request.on('error', (error) => reject(unreachable(error)));
      request.on('response', (answer) => readText(answer).then((text) => resolve({ status: answer.statusCode ?? 0, text }), reject));
      request.end(payload);
    });
    if (response.status === 204) return undefined;
    if (response.status >= 200 && response.status < 300) return JSON.parse(response.text);
    throw answerError(response.status, response.text, false);
  }

  #send(method: string, path: string, headers: Record<string, string>, signal?: AbortSignal, timeoutMs = REQUEST_TIMEOUT_MS): http.ClientRequest {
    const url = new URL(path, this.#base);
    const request = this.#request(url, { method, agent: this.#agent, headers: { ...headers, authorization: `Bearer ${this.#token}` }, signal });
    request.setTimeout(timeoutMs, () => request.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    return request;
  }
}

function parseMessage(text: string): { event: string; data: string } {
  let event = 'message';
  const data: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    if (field === 'data') data.push(value);
  }
  return { event, data: data.join('\n') };
}

function readText(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', reject);
  });
}

function answerError(status: number, body: string, stream: boolean): Error {
  const detail = problemDetail(body);
  if (status === 401 || status === 403) return new AgentRefused(`the server refused the token (${status}${detail ? `: ${detail}` : ''})`);
  // Any other answer to the stream (a proxy that does not pass it, an older server): the long poll instead.
  if (stream && status !== 429) return new StreamUnavailable(`no event stream (${status}${detail ? `: ${detail}` : ''})`);
  if (status === 404 || status === 400 || status === 409) return new Error(`the server answered ${status}${detail ? `: ${detail}` : ''}`);
  return new ServerUnreachable(`the server answered ${status}${detail ? `: ${detail}` : ''}`);
}

function problemDetail(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { detail?: unknown };
    return typeof parsed.detail === 'string' ? parsed.detail : undefined;
  } catch {
    return body.trim().slice(0, 200) || undefined;
  }
}

/** What Node calls a server certificate the agent cannot trust (node:tls, OpenSSL's verify errors). */
const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function unreachable(error: Error): ServerUnreachable {
  const code = (error as NodeJS.ErrnoException).code;
  if (code && UNTRUSTED.has(code)) {
    return new ServerUnreachable(
      `the server's certificate is not trusted (${code}: ${error.message}); if the server uses a private CA, give its certificate with --server-ca FILE`,
    );
  }
  return new ServerUnreachable(`cannot reach the server (${code ?? error.message})`);
}
