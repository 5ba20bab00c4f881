// One keep-alive connection pool per CA (undici Agent: a Pool per origin), one
// attempt per call. Retries live in transport.ts because a retried POST needs a
// new nonce and so a new signature.
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { Agent, buildConnector, type Dispatcher } from 'undici';
import { AcmeNetworkError, AcmeTlsTrustError } from './errors.ts';

export type HttpHeaders = Record<string, string | string[] | undefined>;

export interface HttpResponse {
  status: number;
  headers: HttpHeaders;
  body: string;
}

export interface AcmeHttpOptions {
  userAgent: string;
  /** Extra trust anchor (PEM) for the CA's HTTPS, added to the system roots. */
  caCert?: string;
  connections: number;
  /** For one request, from connecting to the last byte of the answer. */
  timeoutMs: number;
  /** Called with every response's Replay-Nonce header. */
  onNonce: (nonce: string | string[] | undefined) => void;
  guard?: ConnectionGuard;
  /** Told of every request when it ends: the client's operation, the HTTP status (0: no answer) and how long it took. */
  onRequest?: RequestObserver;
}

export type RequestObserver = (operation: string, status: number, seconds: number) => void;

/**
 * For a CA the server's operator did not choose: every new connection goes through
 * `wrap` (an address check), and a network failure is told as `explain` says
 * (which may log the details) instead of with its cause.
 */
export interface ConnectionGuard {
  wrap(base: buildConnector.connector): buildConnector.connector;
  explain(error: unknown, url: string): string;
}

const TLS_TRUST_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Errors worth another try: the CA may be restarting or the network hiccuped. DNS names that do not exist are not. */
const PERMANENT_NETWORK_CODES = new Set(['ENOTFOUND', 'ERR_INVALID_URL', 'UND_ERR_INVALID_ARG']);

export class AcmeHttp {
  private readonly agent: Agent;
  private readonly userAgent: string;
  private readonly timeoutMs: number;
  private readonly onNonce: AcmeHttpOptions['onNonce'];
  private readonly guard: ConnectionGuard | undefined;
  private readonly onRequest: RequestObserver | undefined;
  private closing: Promise<void> | undefined;

  constructor(opts: AcmeHttpOptions) {
    this.userAgent = opts.userAgent;
    this.timeoutMs = opts.timeoutMs;
    this.onNonce = opts.onNonce;
    this.guard = opts.guard;
    this.onRequest = opts.onRequest;
    const tls = opts.caCert ? { secureContext: secureContextTrusting(opts.caCert) } : {};
    this.agent = new Agent({
      connections: opts.connections,
      pipelining: 1, // keep-alive, one request at a time per connection
      keepAliveTimeout: 30_000,
      connect: opts.guard ? opts.guard.wrap(buildConnector({ ...tls, timeout: Math.min(10_000, opts.timeoutMs) })) : tls,
    });
  }

  /** One request. Network failures become AcmeNetworkError (AcmeTlsTrustError for certificate trust). */
  async send(
    method: 'GET' | 'HEAD' | 'POST',
    url: string,
    operation: string,
    body?: string,
    accept?: string,
  ) {
    const { origin, pathname, search } = new URL(url);
    const headers: Record<string, string> = { 'user-agent': this.userAgent };
    if (body !== undefined) headers['content-type'] = 'application/jose+json';
    if (accept) headers.accept = accept;
    const started = performance.now();
    try {
      const res = await this.exchange({
        origin,
        path: pathname + search,
        method,
        headers,
        body,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      this.onNonce(res.headers['replay-nonce']);
      this.onRequest?.(operation, res.status, (performance.now() - started) / 1000);
      return res;
    } catch (err) {
      this.onRequest?.(operation, 0, (performance.now() - started) / 1000);
      throw networkError(err, operation, `${method} ${url}`, url, this.guard);
    }
  }

  /**
   * One request through a plain dispatch handler that gathers the body, rather
   * than request(), which wraps every body in a Readable stream: ACME bodies are
   * small, and that stream was a measurable share of the CPU per certificate.
   */
  private exchange(options: Dispatcher.DispatchOptions): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
      let status = 0;
      let headers: HttpHeaders = {};
      const chunks: Buffer[] = [];
      // One bound for the whole exchange, connecting included: a CA that trickles its answer cannot hold the request longer.
      let abortRequest: ((error: Error) => void) | undefined;
      let timedOut: Error | undefined;
      const deadline = setTimeout(() => {
        timedOut = Object.assign(new Error(`no complete answer within ${this.timeoutMs / 1000} s`), { code: 'ETIMEDOUT' });
        if (abortRequest) abortRequest(timedOut);
        else reject(timedOut);
      }, this.timeoutMs);
      const settle = () => clearTimeout(deadline);
      this.agent.dispatch(options, {
        onConnect(abort) {
          if (timedOut) abort(timedOut);
          else abortRequest = abort;
        },
        onHeaders(statusCode, rawHeaders) {
          status = statusCode;
          headers = headerObject(rawHeaders);
          return true;
        },
        onData(chunk) {
          chunks.push(chunk);
          return true;
        },
        onComplete() {
          settle();
          resolve({ status, headers, body: Buffer.concat(chunks).toString('utf8') });
        },
        onError(error) {
          settle();
          reject(error);
        },
      });
    });
  }

  /** Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.agent.close();
    return this.closing;
  }
}

/** Raw header pairs as an object with lower-case names; a repeated header (Link) becomes an array. */
function headerObject(raw: Buffer[]): HttpHeaders {
  const headers: HttpHeaders = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i].toString('latin1').toLowerCase();
    const value = raw[i + 1].toString('latin1');
    const existing = headers[name];
    headers[name] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return headers;
}

// One SecureContext per extra CA, shared by all connections and clients: a `ca`
// list in the connect options would parse ~150 PEM roots for every connection.
const secureContexts = new Map<string, SecureContext>();

function secureContextTrusting(caCert: string): SecureContext {
  let context = secureContexts.get(caCert);
  if (!context) {
    context = createSecureContext({ ca: [...rootCertificates, caCert] });
    secureContexts.set(caCert, context);
  }
  return context;
}

export function isRetryable(err: AcmeNetworkError): boolean {
  return !(err instanceof AcmeTlsTrustError) && !PERMANENT_NETWORK_CODES.has(err.code);
}

function networkError(err: unknown, operation: string, request: string, url: string, guard: ConnectionGuard | undefined): AcmeNetworkError {
  const code = errorCode(err);
  if (guard) {
    // The same words and the same retries whatever failed (refused, unknown name, TLS, timeout): the caller is not told how the network looks.
    return new AcmeNetworkError(`${operation} failed: could not reach the ACME CA at ${url}: ${guard.explain(err, url)}`, operation, url, 'UNREACHABLE', err);
  }
  if (TLS_TRUST_CODES.has(code)) return new AcmeTlsTrustError(operation, url, code, err);
  const message = (err as Error)?.message ?? String(err);
  const reason = message.includes(code) ? message : `${code} ${message}`;
  return new AcmeNetworkError(
    `${operation} failed: could not reach the ACME CA (${request}: ${reason}). ` +
      'Check the directory URL, that the CA is up, and that this machine can reach it (DNS, proxy, firewall).',
    operation,
    url,
    code,
    err,
  );
}

function errorCode(err: unknown): string {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
  if (typeof e?.code === 'string') return e.code;
  if (typeof e?.cause?.code === 'string') return e.cause.code;
  return 'ERROR';
}
