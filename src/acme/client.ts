// ACME client (RFC 8555) for one CA and one account key. Knows no database:
// callers keep the account URL, order URLs and certificates.
import { createHash, type KeyObject } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AcmeError, AcmeProblemError, AcmeProtocolError, isAccountGone } from './errors.ts';
import { AcmeHttp, type ConnectionGuard, type HttpResponse, type RequestObserver } from './http.ts';
import { b64url, externalAccountBinding, JwsSigner } from './jws.ts';
import { linkUrls } from './links.ts';
import { NoncePool } from './nonces.ts';
import { authorizationSettled, challengeSettled, type NewOrderRequest, newOrderPayload, orderSettled } from './orders.ts';
import { poll } from './polling.ts';
import { parseRenewalInfo, renewalInfoUrl } from './renewal-info.ts';
import { retryAfterMs } from './retry-after.ts';
import { AcmeTransport, jsonBody, type RetryPolicy } from './transport.ts';
import type {
  AcmeAccount,
  AcmeAuthorization,
  AcmeChallenge,
  AcmeIdentifier,
  AcmeClock,
  AcmeDirectory,
  AcmeOrder,
  AcmeOrderStatus,
  AcmeRenewalInfo,
} from './types.ts';

export interface AcmeClientOptions {
  directoryUrl: string;
  accountKey: KeyObject;
  /** Known account URL (kid); otherwise set by createAccount() / findAccount(). */
  accountUrl?: string;
  /** Extra trust anchor (PEM) for the CA's HTTPS, added to the system roots. */
  caCert?: string;
  userAgent?: string;
  /** Keep-alive connections allowed to the CA (default 64). */
  connections?: number;
  /** Per-request timeout (default 30 s). */
  requestTimeoutMs?: number;
  /** Network error / 5xx retries (default 4 attempts, 500 ms first backoff). */
  retry?: Partial<RetryPolicy>;
  clock?: AcmeClock;
  /** Register the key again when the CA no longer knows the account; without it, accountDoesNotExist is thrown. */
  recovery?: AccountRecovery;
  /** For a CA the operator did not choose: connections checked, network failures told without their cause. */
  guard?: ConnectionGuard;
  /** Told of every request the client makes (its operation, the status, 0 for no answer, and the seconds it took). */
  onRequest?: RequestObserver;
}

/**
 * What the client needs to register its key again when the CA answers
 * accountDoesNotExist for its account URL (a reset CA, a deleted account):
 * newAccount with the same key (RFC 8555 §7.3) — a CA that still knows the
 * key answers with the existing account — then the failed request once more.
 */
export interface AccountRecovery {
  /** Sent with newAccount. EAB is not: its key is used once, so a CA that requires EAB must still know the key. */
  registration: Omit<CreateAccountOptions, 'externalAccountBinding'>;
  /** Told the new account URL before any request uses it, to store it. */
  onNewAccountUrl(url: string, previousUrl: string): Promise<void>;
}

export interface ExternalAccountBinding {
  kid: string;
  /** base64url HMAC key from the CA. */
  hmacKey: string;
}

export interface CreateAccountOptions {
  contact?: string[];
  termsOfServiceAgreed?: boolean;
  externalAccountBinding?: ExternalAccountBinding;
}

export interface WaitOptions {
  timeoutMs?: number;
  /** Wait this long before the first look, for a resource the CA has just been asked to change. */
  initialDelayMs?: number;
}

const DEFAULT_WAIT_MS = 120_000;
const PEM_CHAIN = 'application/pem-certificate-chain';
const realClock: AcmeClock = { now: () => Date.now(), sleep: (ms) => sleep(ms) };

export class AcmeClient {
  accountUrl: string | undefined;
  private signer: JwsSigner;
  private readonly directoryUrl: string;
  private readonly clock: AcmeClock;
  private readonly http: AcmeHttp;
  private readonly transport: AcmeTransport;
  private readonly nonces = new NoncePool();
  private readonly recovery: AccountRecovery | undefined;
  private directoryPromise: Promise<AcmeDirectory> | undefined;
  /** The re-registration under way, shared by every request that found the account gone. */
  private reRegistering: Promise<string> | undefined;

  constructor(opts: AcmeClientOptions) {
    this.directoryUrl = opts.directoryUrl;
    this.accountUrl = opts.accountUrl;
    this.signer = new JwsSigner(opts.accountKey);
    this.clock = opts.clock ?? realClock;
    this.recovery = opts.recovery;
    this.http = new AcmeHttp({
      userAgent: opts.userAgent ?? 'certkeep-acme/0.1',
      caCert: opts.caCert,
      connections: opts.connections ?? 64,
      timeoutMs: opts.requestTimeoutMs ?? 30_000,
      guard: opts.guard,
      onRequest: opts.onRequest,
      onNonce: (nonce) => this.nonces.add(nonce),
    });
    const retry = { attempts: 4, delayMs: 500, ...opts.retry };
    this.transport = new AcmeTransport(
      this.http,
      this.nonces,
      this.clock,
      retry,
      async () => (await this.directory()).newNonce,
    );
  }

  /** The directory, fetched once per client (RFC 8555 §7.1.1). */
  directory(): Promise<AcmeDirectory> {
    this.directoryPromise ??= this.fetchDirectory().catch((err) => {
      this.directoryPromise = undefined; // let the next call try again
      throw err;
    });
    return this.directoryPromise;
  }

  // --- accounts (RFC 8555 §7.3) ---

  async createAccount(opts: CreateAccountOptions = {}): Promise<{ url: string; account: AcmeAccount }> {
    const dir = await this.directory();
    const payload: Record<string, unknown> = {};
    if (opts.contact) payload.contact = opts.contact;
    if (opts.termsOfServiceAgreed !== undefined) payload.termsOfServiceAgreed = opts.termsOfServiceAgreed;
    if (opts.externalAccountBinding) {
      payload.externalAccountBinding = externalAccountBinding(
        opts.externalAccountBinding,
        dir.newAccount,
        this.signer.jwkJson,
      );
    }
    const operation = 'create account';
    const res = await this.transport.post(dir.newAccount, JSON.stringify(payload), {
      operation,
      signer: this.signer,
    });
    return this.rememberAccount(res, operation, dir.newAccount);
  }

  /** The account of this key, or null when the CA has none (§7.3.1 onlyReturnExisting). */
  async findAccount(): Promise<{ url: string; account: AcmeAccount } | null> {
    const dir = await this.directory();
    const operation = 'find account';
    try {
      const res = await this.transport.post(dir.newAccount, '{"onlyReturnExisting":true}', {
        operation,
        signer: this.signer,
      });
      return this.rememberAccount(res, operation, dir.newAccount);
    } catch (err) {
      if (err instanceof AcmeProblemError && err.acmeType === 'accountDoesNotExist') return null;
      throw err;
    }
  }

  /** Replaces the account key (§7.3.5); afterwards this client signs with `newKey`. */
  async rolloverKey(newKey: KeyObject): Promise<void> {
    const operation = 'roll over account key';
    const kid = this.requireAccount(operation);
    const keyChange = await this.endpoint('keyChange', operation);
    const next = new JwsSigner(newKey);
    const inner = next.signWithJwk(
      keyChange,
      undefined,
      `{"account":${JSON.stringify(kid)},"oldKey":${this.signer.jwkJson}}`,
    );
    await this.transport.post(keyChange, JSON.stringify(inner), { operation, signer: this.signer, kid });
    this.signer = next;
  }

  async deactivateAccount(): Promise<AcmeAccount> {
    const operation = 'deactivate account';
    const kid = this.requireAccount(operation);
    const res = await this.transport.post(kid, '{"status":"deactivated"}', {
      operation,
      signer: this.signer,
      kid,
    });
    return jsonBody<AcmeAccount>(res, operation, kid);
  }

  // --- orders (§7.4) ---

  async newOrder(req: NewOrderRequest): Promise<{ url: string; order: AcmeOrder }> {
    const operation = 'new order';
    const dir = await this.directory();
    const payload = newOrderPayload(dir, req, this.directoryUrl);
    const res = await this.signedPost(dir.newOrder, payload, operation);
    return {
      url: requireLocation(res, operation, dir.newOrder),
      order: jsonBody<AcmeOrder>(res, operation, dir.newOrder),
    };
  }

  async getOrder(url: string): Promise<AcmeOrder> {
    return jsonBody<AcmeOrder>(await this.signedPost(url, '', 'get order'), 'get order', url);
  }

  async getAuthorization(url: string): Promise<AcmeAuthorization> {
    const operation = 'get authorization';
    return jsonBody<AcmeAuthorization>(await this.signedPost(url, '', operation), operation, url);
  }

  /** Gives up an authorization (§7.5.2), so that a pending one no longer counts against the CA's limits. */
  async deactivateAuthorization(url: string): Promise<AcmeAuthorization> {
    const operation = 'deactivate authorization';
    return jsonBody<AcmeAuthorization>(await this.signedPost(url, '{"status":"deactivated"}', operation), operation, url);
  }

  /** The challenge as it stands (POST-as-GET, §7.5). */
  async getChallenge(url: string): Promise<AcmeChallenge> {
    const operation = 'get challenge';
    return jsonBody<AcmeChallenge>(await this.signedPost(url, '', operation), operation, url);
  }

  /** Tells the CA the challenge is ready to be checked (§7.5.1). */
  async respondToChallenge(url: string): Promise<AcmeChallenge> {
    const operation = 'respond to challenge';
    return jsonBody<AcmeChallenge>(await this.signedPost(url, '{}', operation), operation, url);
  }

  /** Resolves when the authorization is valid; throws AcmeAuthorizationError with the challenge error otherwise. */
  waitForAuthorization(url: string, opts: WaitOptions = {}): Promise<AcmeAuthorization> {
    return poll({
      what: 'authorization',
      url,
      timeoutMs: opts.timeoutMs ?? DEFAULT_WAIT_MS,
      initialDelayMs: opts.initialDelayMs,
      clock: this.clock,
      fetch: () => this.pollStep<AcmeAuthorization>(url, 'get authorization'),
      settled: authorizationSettled(url),
      status: (authz) => authz.status,
    });
  }

  /**
   * Resolves when the challenge is valid, which makes its authorization valid (§7.1.6);
   * throws AcmeAuthorizationError with the challenge error when it is invalid.
   */
  waitForChallenge(url: string, identifier: AcmeIdentifier, opts: WaitOptions = {}): Promise<AcmeChallenge> {
    return poll({
      what: 'challenge',
      url,
      timeoutMs: opts.timeoutMs ?? DEFAULT_WAIT_MS,
      initialDelayMs: opts.initialDelayMs,
      clock: this.clock,
      fetch: () => this.pollStep<AcmeChallenge>(url, 'get challenge'),
      settled: challengeSettled(url, identifier),
      status: (challenge) => challenge.status,
    });
  }

  /** Sends the CSR (DER) to the order's finalize URL (§7.4). */
  async finalize(finalizeUrl: string, csrDer: Uint8Array): Promise<AcmeOrder> {
    const operation = 'finalize order';
    const res = await this.signedPost(finalizeUrl, `{"csr":"${b64url(csrDer)}"}`, operation);
    return jsonBody<AcmeOrder>(res, operation, finalizeUrl);
  }

  /** Resolves when the order reaches (or passes) one of `until`; throws AcmeOrderError when it is invalid. */
  waitForOrder(url: string, until: AcmeOrderStatus[], opts: WaitOptions = {}): Promise<AcmeOrder> {
    return poll({
      what: 'order',
      url,
      timeoutMs: opts.timeoutMs ?? DEFAULT_WAIT_MS,
      initialDelayMs: opts.initialDelayMs,
      clock: this.clock,
      fetch: () => this.pollStep<AcmeOrder>(url, 'get order'),
      settled: orderSettled(until, url),
      status: (order) => order.status,
    });
  }

  /** The PEM chain and the URLs of alternate chains (§7.4.2). */
  async downloadCertificate(url: string): Promise<{ pem: string; alternates: string[] }> {
    const operation = 'download certificate';
    const res = await this.signedPost(url, '', operation, PEM_CHAIN);
    if (!res.body.includes('-----BEGIN CERTIFICATE-----')) {
      throw new AcmeProtocolError('the response holds no PEM certificate', operation, url);
    }
    return { pem: res.body, alternates: linkUrls(res.headers.link, 'alternate', url) };
  }

  /** Revokes with the account key (kid), or with the certificate's own key (jwk) when given (§7.6). */
  async revokeCertificate(
    certDer: Uint8Array,
    opts: { reason?: number; certificateKey?: KeyObject } = {},
  ): Promise<void> {
    const operation = 'revoke certificate';
    const revokeCert = await this.endpoint('revokeCert', operation);
    const reason = opts.reason === undefined ? '' : `,"reason":${Math.trunc(opts.reason)}`;
    const payload = `{"certificate":"${b64url(certDer)}"${reason}}`;
    if (opts.certificateKey) {
      await this.transport.post(revokeCert, payload, {
        operation,
        signer: new JwsSigner(opts.certificateKey),
      });
    } else {
      await this.signedPost(revokeCert, payload, operation);
    }
  }

  /** The CA's suggested renewal window (RFC 9773), or null when the CA has no renewalInfo. */
  async renewalInfo(certId: string): Promise<AcmeRenewalInfo | null> {
    const dir = await this.directory();
    if (!dir.renewalInfo) return null;
    const url = renewalInfoUrl(dir.renewalInfo, certId);
    const res = await this.transport.get(url, 'get renewal info');
    return parseRenewalInfo(res, url, this.clock.now());
  }

  // --- challenge helpers (§8.1, §8.4) ---

  keyAuthorization(token: string): string {
    return `${token}.${this.signer.thumbprint}`;
  }

  /** The TXT record value for dns-01: base64url(SHA-256(key authorization)). */
  dns01TxtValue(token: string): string {
    return createHash('sha256').update(this.keyAuthorization(token)).digest('base64url');
  }

  thumbprint(): string {
    return this.signer.thumbprint;
  }

  close(): Promise<void> {
    return this.http.close();
  }

  // --- internals ---

  private async fetchDirectory(): Promise<AcmeDirectory> {
    const operation = 'get directory';
    const dir = jsonBody<AcmeDirectory>(
      await this.transport.get(this.directoryUrl, operation),
      operation,
      this.directoryUrl,
    );
    for (const field of ['newNonce', 'newAccount', 'newOrder'] as const) {
      if (typeof dir?.[field] !== 'string') {
        throw new AcmeProtocolError(`the directory has no "${field}" URL`, operation, this.directoryUrl);
      }
    }
    return dir;
  }

  private async endpoint(field: 'keyChange' | 'revokeCert', operation: string): Promise<string> {
    const url = (await this.directory())[field];
    if (typeof url !== 'string') {
      throw new AcmeProtocolError(`the CA's directory has no "${field}" URL`, operation, this.directoryUrl);
    }
    return url;
  }

  /** A kid-signed POST; an account the CA no longer knows is registered again and the POST sent once more. */
  private async signedPost(
    url: string,
    payload: string,
    operation: string,
    accept?: string,
  ): Promise<HttpResponse> {
    const kid = this.requireAccount(operation);
    try {
      return await this.transport.post(url, payload, { operation, signer: this.signer, kid, accept });
    } catch (err) {
      if (!this.recovery || !isAccountGone(err)) throw err;
      const fresh = await this.registerAgain(this.recovery, kid);
      return this.transport.post(url, payload, { operation, signer: this.signer, kid: fresh, accept });
    }
  }

  /** One newAccount for all the requests that were refused with `lostUrl`; the later ones use its answer. */
  private registerAgain(recovery: AccountRecovery, lostUrl: string): Promise<string> {
    if (this.accountUrl && this.accountUrl !== lostUrl) return Promise.resolve(this.accountUrl);
    this.reRegistering ??= this.reRegister(recovery, lostUrl).finally(() => {
      this.reRegistering = undefined;
    });
    return this.reRegistering;
  }

  private async reRegister(recovery: AccountRecovery, lostUrl: string): Promise<string> {
    // A CA that forgot the account may have a new directory, and its old nonces are worthless.
    this.directoryPromise = undefined;
    this.nonces.clear();
    const dir = await this.directory();
    const operation = 'register the account again';
    const res = await this.transport.post(dir.newAccount, JSON.stringify(recovery.registration), {
      operation,
      signer: this.signer,
    });
    const url = requireLocation(res, operation, dir.newAccount);
    await recovery.onNewAccountUrl(url, lostUrl);
    this.accountUrl = url;
    return url;
  }

  private async pollStep<T>(url: string, operation: string) {
    const res = await this.signedPost(url, '', operation);
    return {
      value: jsonBody<T>(res, operation, url),
      retryAfterMs: retryAfterMs(res.headers['retry-after'], this.clock.now()),
    };
  }

  private requireAccount(operation: string): string {
    if (this.accountUrl) return this.accountUrl;
    throw new AcmeError(
      `${operation} failed: the client has no account URL yet. Call createAccount() or findAccount() first, or pass accountUrl.`,
      operation,
    );
  }

  private rememberAccount(
    res: HttpResponse,
    operation: string,
    url: string,
  ): { url: string; account: AcmeAccount } {
    this.accountUrl = requireLocation(res, operation, url);
    return { url: this.accountUrl, account: jsonBody<AcmeAccount>(res, operation, url) };
  }
}

function requireLocation(res: HttpResponse, operation: string, url: string): string {
  const location = res.headers.location;
  const value = Array.isArray(location) ? location[0] : location;
  if (!value)
    throw new AcmeProtocolError(`the response has no Location header (HTTP ${res.status})`, operation, url);
  return new URL(value, url).href;
}
