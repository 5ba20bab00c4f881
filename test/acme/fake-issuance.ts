// FakeAcme as a small but whole CA: account, newOrder (with RFC 9773 `replaces`),
// authorizations with one http-01 challenge, finalize, certificate download (a
// real leaf from TestCa, dated by the test's clock) and renewalInfo windows the
// test chooses. Enough to drive the engine's issuance and renewal end to end.
import { createHash } from 'node:crypto';
import { parseCsr } from '../../src/pki/index.ts';
import type { Identifier } from '../../src/pki/names.ts';
import { type FakeAcme, type FakeReply, type FakeRequest, problem } from './fake-acme.ts';
import { csrPublicKeyInfo, type IssuedLeaf, TestCa } from './test-ca.ts';

export interface FakeIssuanceOptions {
  clock: { now(): number };
  /** Lifetime of the certificates issued (default 90 days). */
  lifetimeMs?: number;
  /** 'valid': authorizations the account already holds (no challenge to answer). Default 'pending'. */
  authorizations?: 'pending' | 'valid';
  /** What this account's HTTP-01 responder serves for a token, as the CA's validation would fetch it. */
  http01?: (token: string) => string | undefined;
}

export interface IssuedCertificate extends IssuedLeaf {
  identifiers: Identifier[];
  notBefore: number;
  notAfter: number;
}

export interface Window {
  start: number;
  end: number;
}

interface Order {
  identifiers: Identifier[];
  authorizations: number[];
  finalized: boolean;
  certificate?: number;
}

interface Authorization {
  identifier: Identifier;
  token: string;
  status: 'pending' | 'valid' | 'invalid';
}

const DAY = 86_400_000;

export class FakeIssuance {
  readonly ca = new TestCa();
  /** Every newOrder, refused ones included, with the `replaces` it carried. */
  readonly newOrders: { identifiers: Identifier[]; replaces?: string }[] = [];
  readonly issued: IssuedCertificate[] = [];
  /** Replies for newOrder requests that carry `replaces`, used up in turn (a CA that refuses them). */
  readonly refuseReplaces: FakeReply[] = [];
  /** The renewalInfo answer for a certificate this CA issued. */
  renewalInfo: (certificate: IssuedCertificate) => FakeReply = (certificate) => windowReply(defaultWindow(certificate), 21_600);
  readonly #fake: FakeAcme;
  readonly #options: Required<Omit<FakeIssuanceOptions, 'http01'>> & Pick<FakeIssuanceOptions, 'http01'>;
  readonly #orders: Order[] = [];
  readonly #authorizations: Authorization[] = [];
  #thumbprint = '';

  constructor(fake: FakeAcme, options: FakeIssuanceOptions) {
    this.#fake = fake;
    this.#options = { ...options, lifetimeMs: options.lifetimeMs ?? 90 * DAY, authorizations: options.authorizations ?? 'pending' };
    fake.route('POST /acct', (req) => this.#newAccount(req));
    fake.route('POST /order', (req) => this.#newOrder(req));
    fake.route('POST /order/*', (req) => this.#authenticated(req, () => this.#orderResource(req)));
    fake.route('POST /authz/*', (req) => this.#authenticated(req, () => this.#authorization(Number(req.path.split('/')[2]))));
    fake.route('POST /chall/*', (req) => this.#authenticated(req, () => this.#challenge(req)));
    fake.route('POST /cert/*', (req) => this.#authenticated(req, () => this.#download(Number(req.path.split('/')[2]))));
    fake.route('GET /renewal-info/*', (req) => this.#renewalInfo(decodeURIComponent(req.path.slice('/renewal-info/'.length))));
  }

  /** Every certificate gets this window from now on, with this Retry-After (seconds). */
  setWindow(window: Window, retryAfterSeconds = 21_600): void {
    this.renewalInfo = () => windowReply(window, retryAfterSeconds);
  }

  #url(path: string): string {
    return `${this.#fake.base}${path}`;
  }

  #newAccount(req: FakeRequest): FakeReply {
    const jwk = req.protected?.jwk as Record<string, string> | undefined;
    if (!jwk) return problem('malformed', 'newAccount must be signed with a jwk', 400);
    this.#thumbprint = thumbprint(jwk);
    return { status: 201, headers: { location: this.#url('/acct/1') }, body: { status: 'valid', contact: [] } };
  }

  #authenticated(req: FakeRequest, answer: () => FakeReply): FakeReply {
    if (req.protected?.kid !== this.#url('/acct/1')) return problem('unauthorized', 'sign with the account URL (kid)', 401);
    return answer();
  }

  #newOrder(req: FakeRequest): FakeReply {
    return this.#authenticated(req, () => {
      const payload = req.payload as { identifiers: Identifier[]; replaces?: string };
      this.newOrders.push({ identifiers: payload.identifiers, ...(payload.replaces === undefined ? {} : { replaces: payload.replaces }) });
      if (payload.replaces !== undefined) {
        const refusal = this.refuseReplaces.shift();
        if (refusal) return refusal;
        if (!this.issued.some((c) => c.certId === payload.replaces)) return problem('malformed', `replaces: no certificate ${payload.replaces}`, 400);
      }
      const authorizations = payload.identifiers.map((identifier) => this.#newAuthorization(identifier));
      this.#orders.push({ identifiers: payload.identifiers, authorizations, finalized: false });
      const id = this.#orders.length - 1;
      return { status: 201, headers: { location: this.#url(`/order/${id}`) }, body: this.#orderJson(id) };
    });
  }

  #newAuthorization(identifier: Identifier): number {
    const token = `token-${this.#authorizations.length}-${Math.random().toString(36).slice(2)}`;
    return this.#authorizations.push({ identifier, token, status: this.#options.authorizations }) - 1;
  }

  #orderJson(id: number) {
    const order = this.#orders[id];
    const authorizations = order.authorizations.map((a) => this.#authorizations[a]);
    const status =
      order.certificate !== undefined ? 'valid'
      : authorizations.some((a) => a.status === 'invalid') ? 'invalid'
      : authorizations.every((a) => a.status === 'valid') ? 'ready'
      : 'pending';
    return {
      status,
      identifiers: order.identifiers,
      authorizations: order.authorizations.map((a) => this.#url(`/authz/${a}`)),
      finalize: this.#url(`/order/${id}/finalize`),
      ...(order.certificate === undefined ? {} : { certificate: this.#url(`/cert/${order.certificate}`) }),
    };
  }

  #orderResource(req: FakeRequest): FakeReply {
    const [, , id, action] = req.path.split('/');
    if (!this.#orders[Number(id)]) return problem('malformed', `no order ${id}`, 404);
    return action === 'finalize' ? this.#finalize(Number(id), req.payload as { csr: string }) : { body: this.#orderJson(Number(id)) };
  }

  #authorization(id: number): FakeReply {
    const authorization = this.#authorizations[id];
    if (!authorization) return problem('malformed', `no authorization ${id}`, 404);
    return { body: { status: authorization.status, identifier: authorization.identifier, challenges: [this.#challengeJson(id)] } };
  }

  #challengeJson(id: number) {
    const { token, status } = this.#authorizations[id];
    return { type: 'http-01', url: this.#url(`/chall/${id}`), token, status: status === 'pending' ? 'pending' : status };
  }

  /** Responding (payload {}) validates at once: the answer served must be the key authorization (RFC 8555 §8.3). */
  #challenge(req: FakeRequest): FakeReply {
    const id = Number(req.path.split('/')[2]);
    const authorization = this.#authorizations[id];
    if (!authorization) return problem('malformed', `no challenge ${id}`, 404);
    if (req.payload !== '' && authorization.status === 'pending') {
      const served = this.#options.http01?.(authorization.token);
      authorization.status = served === `${authorization.token}.${this.#thumbprint}` ? 'valid' : 'invalid';
    }
    return { body: this.#challengeJson(id) };
  }

  #finalize(id: number, payload: { csr: string }): FakeReply {
    const order = this.#orders[id];
    if (this.#orderJson(id).status !== 'ready') return problem('orderNotReady', `order ${id} is ${this.#orderJson(id).status}`, 403);
    const der = Buffer.from(payload.csr, 'base64url');
    const csr = parseCsr(der);
    const wanted = order.identifiers.map((i) => i.value).sort();
    const named = csr.identifiers.map((i) => i.value).sort();
    if (!csr.signatureValid || wanted.join() !== named.join()) return problem('badCSR', `the CSR names ${named.join(', ')}`, 400);
    const notBefore = Math.floor(this.#options.clock.now() / 1000) * 1000;
    const notAfter = notBefore + this.#options.lifetimeMs;
    const leaf = this.ca.issue({ spki: csrPublicKeyInfo(der), identifiers: order.identifiers, notBefore, notAfter });
    order.certificate = this.issued.push({ ...leaf, identifiers: order.identifiers, notBefore, notAfter }) - 1;
    return { body: this.#orderJson(id) };
  }

  #download(id: number): FakeReply {
    const certificate = this.issued[id];
    if (!certificate) return problem('malformed', `no certificate ${id}`, 404);
    return { headers: { 'content-type': 'application/pem-certificate-chain' }, body: certificate.pem };
  }

  #renewalInfo(certId: string): FakeReply {
    const certificate = this.issued.find((c) => c.certId === certId);
    if (!certificate) return problem('malformed', `no certificate with CertID ${certId}`, 404);
    return this.renewalInfo(certificate);
  }
}

/** A renewalInfo answer (RFC 9773 §4.2). */
export function windowReply(window: Window, retryAfterSeconds: number): FakeReply {
  return {
    headers: { 'retry-after': String(retryAfterSeconds) },
    body: { suggestedWindow: { start: new Date(window.start).toISOString(), end: new Date(window.end).toISOString() } },
  };
}

/** Half-way through the lifetime, two days wide: unlike the one-third-left policy time. */
function defaultWindow(certificate: IssuedCertificate): Window {
  const start = certificate.notBefore + (certificate.notAfter - certificate.notBefore) / 2;
  return { start, end: start + 2 * DAY };
}

/** RFC 7638 JWK thumbprint: the required members in lexicographic order, SHA-256, base64url. */
function thumbprint(jwk: Record<string, string>): string {
  const members = jwk.kty === 'EC' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { e: jwk.e, kty: jwk.kty, n: jwk.n };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}
