// Requests with ACME's retry rules: badNonce is retried at once with a fresh
// nonce (RFC 8555 §6.5), network errors and 5xx with backoff; every other error
// response becomes a typed error.
import {
  AcmeNetworkError,
  AcmeNotFoundError,
  AcmeProblemError,
  AcmeProtocolError,
  AcmeRateLimitError,
  AcmeUserActionRequiredError,
  shortProblemType,
} from './errors.ts';
import { type AcmeHttp, type HttpResponse, isRetryable } from './http.ts';
import type { JwsSigner } from './jws.ts';
import { linkUrls } from './links.ts';
import type { NoncePool } from './nonces.ts';
import { retryAfterMs } from './retry-after.ts';
import type { AcmeClock, AcmeProblem } from './types.ts';

const BAD_NONCE_RETRIES = 20;
/** A 5xx asking to come back later than this is not retried here; the caller decides. */
const MAX_SERVER_RETRY_AFTER_MS = 30_000;
const NEW_NONCE_TRIES = 5;
const finalErrors = new WeakSet<Error>();

export interface RetryPolicy {
  /** Tries for network errors and 5xx, first one included. */
  attempts: number;
  /** First backoff; doubles each time. */
  delayMs: number;
}

export interface PostOptions {
  operation: string;
  signer: JwsSigner;
  /** Account URL for a `kid` JWS; omitted: the JWS carries the `jwk`. */
  kid?: string;
  accept?: string;
}

export class AcmeTransport {
  private readonly http: AcmeHttp;
  private readonly nonces: NoncePool;
  private readonly clock: AcmeClock;
  private readonly retry: RetryPolicy;
  private readonly newNonceUrl: () => Promise<string>;

  constructor(
    http: AcmeHttp,
    nonces: NoncePool,
    clock: AcmeClock,
    retry: RetryPolicy,
    newNonceUrl: () => Promise<string>,
  ) {
    this.http = http;
    this.nonces = nonces;
    this.clock = clock;
    this.retry = retry;
    this.newNonceUrl = newNonceUrl;
  }

  /** Unauthenticated GET (directory, renewalInfo). */
  get(url: string, operation: string): Promise<HttpResponse> {
    return this.exchange(url, operation, () => this.http.send('GET', url, operation));
  }

  /** Signed POST; `payload` is JSON text, or '' for POST-as-GET (RFC 8555 §6.3). */
  post(url: string, payload: string, opts: PostOptions): Promise<HttpResponse> {
    return this.exchange(url, opts.operation, async () => {
      const nonce = await this.nonce(opts.operation);
      const jws = opts.kid
        ? opts.signer.signWithKid(url, nonce, opts.kid, payload)
        : opts.signer.signWithJwk(url, nonce, payload);
      return this.http.send('POST', url, opts.operation, JSON.stringify(jws), opts.accept);
    });
  }

  /** A pooled nonce; HEAD newNonce only when the pool is empty. */
  private async nonce(operation: string): Promise<string> {
    for (let i = 0; i < NEW_NONCE_TRIES; i++) {
      const nonce = this.nonces.take();
      if (nonce) return nonce;
      const url = await this.newNonceUrl();
      const label = `${operation} (get a nonce)`;
      await this.exchange(url, label, () => this.http.send('HEAD', url, label));
    }
    throw new AcmeProtocolError(
      'the newNonce endpoint gave no Replay-Nonce header',
      operation,
      await this.newNonceUrl(),
    );
  }

  /** Sends with retries; whatever it throws is final (a retried nonce fetch inside a POST is not retried again). */
  private async exchange(url: string, operation: string, send: () => Promise<HttpResponse>) {
    try {
      return await this.sendWithRetries(url, operation, send);
    } catch (err) {
      if (err instanceof Error) finalErrors.add(err);
      throw err;
    }
  }

  private async sendWithRetries(url: string, operation: string, send: () => Promise<HttpResponse>) {
    let failures = 0;
    let badNonces = 0;
    for (;;) {
      let res: HttpResponse;
      try {
        res = await send();
      } catch (err) {
        if (!(err instanceof AcmeNetworkError) || !isRetryable(err) || finalErrors.has(err)) throw err;
        if (++failures >= this.retry.attempts) throw gaveUp(err, failures);
        await this.clock.sleep(this.backoff(failures));
        continue;
      }
      if (res.status < 400) return res;
      const problem = parseProblem(res);
      if (problem && shortProblemType(problem.type) === 'badNonce' && ++badNonces <= BAD_NONCE_RETRIES)
        continue;
      if (res.status >= 500 && ++failures < this.retry.attempts) {
        const wait = this.serverRetryDelay(failures, res);
        if (wait !== undefined) {
          await this.clock.sleep(wait);
          continue;
        }
      }
      throw this.toError(res, problem, operation, url);
    }
  }

  private backoff(failures: number): number {
    const jitter = 0.8 + Math.random() * 0.4;
    return Math.round(this.retry.delayMs * 2 ** (failures - 1) * jitter);
  }

  private serverRetryDelay(failures: number, res: HttpResponse): number | undefined {
    const asked = retryAfterMs(res.headers['retry-after'], this.clock.now());
    if (asked !== undefined && asked > MAX_SERVER_RETRY_AFTER_MS) return undefined;
    return Math.max(asked ?? 0, this.backoff(failures));
  }

  private toError(
    res: HttpResponse,
    problem: AcmeProblem | undefined,
    operation: string,
    url: string,
  ): Error {
    const type = problem ? shortProblemType(problem.type) : undefined;
    // accountDoesNotExist is about the kid, not the URL, whatever the status (RFC 8555 §6.7).
    if (res.status === 404 && type !== 'accountDoesNotExist') return new AcmeNotFoundError(operation, url, problem);
    if (problem) {
      if (type === 'rateLimited') {
        const now = this.clock.now();
        const wait = retryAfterMs(res.headers['retry-after'], now);
        const at = wait === undefined ? undefined : new Date(now + wait);
        return new AcmeRateLimitError(problem, res.status, operation, url, at, now);
      }
      if (type === 'userActionRequired') {
        const terms = linkUrls(res.headers.link, 'terms-of-service', url)[0];
        return new AcmeUserActionRequiredError(problem, res.status, operation, url, terms);
      }
      return new AcmeProblemError(problem, res.status, operation, url);
    }
    if (res.status >= 500) {
      return new AcmeNetworkError(
        `${operation} failed: the CA kept answering HTTP ${res.status} (${url}). It may be down or overloaded: try again later.`,
        operation,
        url,
        `HTTP ${res.status}`,
      );
    }
    return new AcmeProtocolError(`unexpected HTTP ${res.status}: ${res.body.slice(0, 200)}`, operation, url);
  }
}

/** The JSON body of a successful response. */
export function jsonBody<T>(res: HttpResponse, operation: string, url: string): T {
  try {
    return JSON.parse(res.body) as T;
  } catch {
    throw new AcmeProtocolError(`the response is not JSON: ${res.body.slice(0, 200)}`, operation, url);
  }
}

function parseProblem(res: HttpResponse): AcmeProblem | undefined {
  const contentType = String(res.headers['content-type'] ?? '');
  if (!contentType.includes('json')) return undefined;
  try {
    const doc = JSON.parse(res.body) as AcmeProblem;
    return typeof doc?.type === 'string' ? doc : undefined;
  } catch {
    return undefined;
  }
}

function gaveUp(err: AcmeNetworkError, attempts: number): AcmeNetworkError {
  if (attempts <= 1) return err;
  const message = `${err.message} Gave up after ${attempts} attempts.`;
  return new AcmeNetworkError(message, err.operation, err.url ?? '', err.code, err.cause);
}
