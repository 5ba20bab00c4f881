// Typed errors. Every message says what failed (operation, URL) and what to do.
import type { AcmeAuthorization, AcmeOrder, AcmeProblem, AcmeSubproblem } from './types.ts';

const ACME_ERROR_PREFIX = 'urn:ietf:params:acme:error:';

/** Base class of every error this module throws. */
export class AcmeError extends Error {
  /** What the client was doing, e.g. "create account". */
  readonly operation: string;
  /** The URL involved, when there is one. */
  readonly url: string | undefined;

  constructor(message: string, operation: string, url?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AcmeError';
    this.operation = operation;
    this.url = url;
  }
}

/** The CA answered with a problem document (RFC 7807, RFC 8555 §6.7). */
export class AcmeProblemError extends AcmeError {
  readonly type: string;
  readonly detail: string;
  readonly status: number;
  readonly subproblems: AcmeSubproblem[];
  readonly problem: AcmeProblem;

  constructor(problem: AcmeProblem, status: number, operation: string, url: string, hintOverride?: string) {
    super(problemMessage(problem, status, operation, url, hintOverride), operation, url);
    this.name = 'AcmeProblemError';
    this.problem = problem;
    this.type = problem.type;
    this.detail = problem.detail ?? '';
    this.status = status;
    this.subproblems = problem.subproblems ?? [];
  }

  /** The short type, e.g. "badNonce" for urn:ietf:params:acme:error:badNonce. */
  get acmeType(): string {
    return shortProblemType(this.type);
  }
}

/** `rateLimited`: try again at `retryAfter`. */
export class AcmeRateLimitError extends AcmeProblemError {
  /** From Retry-After; one hour from now when the CA sent none. */
  readonly retryAfter: Date;
  readonly retryAfterFromServer: boolean;

  constructor(
    problem: AcmeProblem,
    status: number,
    operation: string,
    url: string,
    retryAfter: Date | undefined,
    now: number,
  ) {
    const when = retryAfter ?? new Date(now + 3_600_000);
    super(problem, status, operation, url, `wait until ${when.toISOString()} and try again`);
    this.name = 'AcmeRateLimitError';
    this.retryAfter = when;
    this.retryAfterFromServer = retryAfter !== undefined;
  }
}

/** `userActionRequired`: a person must visit a page (often new terms of service). */
export class AcmeUserActionRequiredError extends AcmeProblemError {
  readonly instanceUrl: string | undefined;
  readonly termsOfServiceUrl: string | undefined;

  constructor(
    problem: AcmeProblem,
    status: number,
    operation: string,
    url: string,
    termsOfServiceUrl?: string,
  ) {
    const page = problem.instance ?? termsOfServiceUrl;
    const hint = page
      ? `open ${page} in a browser, do what it asks (e.g. accept new terms of service), then retry`
      : 'check the CA account in a browser, then retry';
    super(problem, status, operation, url, hint);
    this.name = 'AcmeUserActionRequiredError';
    this.instanceUrl = problem.instance;
    this.termsOfServiceUrl = termsOfServiceUrl;
  }
}

/** The CA could not be reached (connection, timeout, TLS) or kept failing with 5xx. */
export class AcmeNetworkError extends AcmeError {
  /** Node/undici error code, e.g. ECONNREFUSED, or `HTTP 503`. */
  readonly code: string;

  constructor(message: string, operation: string, url: string, code: string, cause?: unknown) {
    super(message, operation, url, { cause });
    this.name = 'AcmeNetworkError';
    this.code = code;
  }
}

/** The CA's HTTPS certificate is not trusted by this machine. */
export class AcmeTlsTrustError extends AcmeNetworkError {
  constructor(operation: string, url: string, code: string, cause?: unknown) {
    super(
      `${operation} failed: the CA's TLS certificate is not trusted (${code} for ${url}). ` +
        'If this is a private or test CA, pass --ca-cert FILE with the PEM of the CA that signed its HTTPS certificate.',
      operation,
      url,
      code,
      cause,
    );
    this.name = 'AcmeTlsTrustError';
  }
}

/**
 * The CA answered 404: it does not know the URL. For one it gave us (order,
 * authorization, challenge, finalize, certificate) that means it no longer
 * knows it, as after a reset, or a restart of a CA that keeps its state in
 * memory; nothing sent there can succeed any more.
 */
export class AcmeNotFoundError extends AcmeError {
  /** The CA's problem document, when it sent one (Pebble 2.4 does for finalize only). */
  readonly problem: AcmeProblem | undefined;

  constructor(operation: string, url: string, problem?: AcmeProblem) {
    const detail = problem?.detail ? `: ${problem.detail}` : '';
    super(
      `${operation} failed: the CA does not know ${url} (HTTP 404${detail}). ` +
        'A CA that was reset or restarted forgets its orders and authorizations: place a new order. ' +
        'If this is the directory URL, check it.',
      operation,
      url,
    );
    this.name = 'AcmeNotFoundError';
    this.problem = problem;
  }
}

/** The CA answered something that is not valid ACME (bad JSON, missing Location, unexpected status). */
export class AcmeProtocolError extends AcmeError {
  constructor(message: string, operation: string, url: string) {
    super(
      `${operation} failed: ${message} (${url}). Check that the URL is an ACME (RFC 8555) endpoint; ` +
        'if it is, report this CA response as a certkeep bug.',
      operation,
      url,
    );
    this.name = 'AcmeProtocolError';
  }
}

/** Polling did not reach the wanted status in time. */
export class AcmeTimeoutError extends AcmeError {
  readonly lastStatus: string;

  constructor(what: string, url: string, lastStatus: string, timeoutMs: number) {
    super(
      `${what} was still "${lastStatus}" after ${timeoutMs} ms (${url}). ` +
        'The CA may be slow: wait and check it again later, or raise the timeout.',
      `wait for ${what}`,
      url,
    );
    this.name = 'AcmeTimeoutError';
    this.lastStatus = lastStatus;
  }
}

/** An authorization ended invalid (or expired, deactivated, revoked); `challengeError` says why. */
export class AcmeAuthorizationError extends AcmeError {
  readonly authorization: AcmeAuthorization;
  readonly challengeType: string | undefined;
  readonly challengeError: AcmeProblem | undefined;

  constructor(authorization: AcmeAuthorization, url: string) {
    const failed = authorization.challenges.find((c) => c.status === 'invalid' && c.error);
    const id = `${authorization.identifier.type}:${authorization.identifier.value}`;
    const why = failed?.error
      ? `the ${failed.type} challenge failed: ${failed.error.detail ?? shortProblemType(failed.error.type)} ` +
        `(${shortProblemType(failed.error.type)}). ${challengeHint(failed.type, failed.error.type)}`
      : 'the CA gave no challenge error. Place a new order and try again.';
    super(`authorization for ${id} is ${authorization.status}: ${why}`, 'validate authorization', url);
    this.name = 'AcmeAuthorizationError';
    this.authorization = authorization;
    this.challengeType = failed?.type;
    this.challengeError = failed?.error;
  }
}

/** An order ended invalid; `orderError` is the CA's problem document if it gave one. */
export class AcmeOrderError extends AcmeError {
  readonly order: AcmeOrder;
  readonly orderError: AcmeProblem | undefined;

  constructor(order: AcmeOrder, url: string) {
    const why = order.error
      ? `${order.error.detail ?? ''} (${shortProblemType(order.error.type)}). ${hintFor(order.error.type)}`
      : 'the CA gave no reason. Check its authorizations, then place a new order.';
    super(`order ${url} is invalid: ${why}`, 'wait for order', url);
    this.name = 'AcmeOrderError';
    this.order = order;
    this.orderError = order.error;
  }
}

/** The CA does not know the account the request was signed for (its kid). */
export function isAccountGone(err: unknown): err is AcmeProblemError {
  return err instanceof AcmeProblemError && err.acmeType === 'accountDoesNotExist';
}

export function shortProblemType(type: string): string {
  return type.startsWith(ACME_ERROR_PREFIX) ? type.slice(ACME_ERROR_PREFIX.length) : type;
}

function problemMessage(problem: AcmeProblem, status: number, operation: string, url: string, hint?: string) {
  const type = shortProblemType(problem.type);
  const detail = problem.detail ? `${problem.detail} ` : '';
  const subs = (problem.subproblems ?? [])
    .map((s) => `; ${s.identifier ? `${s.identifier.value}: ` : ''}${s.detail ?? shortProblemType(s.type)}`)
    .join('');
  return `${operation} failed: ${detail}(${type}, HTTP ${status}, ${url})${subs}. ${hint ?? hintFor(problem.type)}`;
}

const HINTS: Record<string, string> = {
  accountDoesNotExist: 'Create the account first, or check that the right account key is used.',
  agreementRequired: "Agree to the CA's terms of service (termsOfServiceAgreed: true, e.g. --agree-tos).",
  alreadyRevoked: 'Nothing to do: the certificate is already revoked.',
  badCSR:
    'Check the CSR: its names must match the order and its key type and size must be accepted by the CA.',
  badNonce:
    'Retry the request (certkeep retries this itself; repeated failures point to a proxy or clock problem).',
  badPublicKey: 'Use an EC P-256/P-384 or RSA (2048+) key the CA accepts.',
  badRevocationReason:
    'Use a revocation reason the CA accepts (e.g. 0 unspecified, 1 keyCompromise, 4 superseded).',
  badSignatureAlgorithm: 'Use an ES256, ES384 or RS256 account key.',
  caa: "The domain's CAA records forbid this CA: add a CAA record that allows it.",
  compound: 'See the subproblems for each identifier.',
  connection: 'Make sure the CA can reach the challenge responder (DNS, firewall, port 80/443).',
  dns: "Check the domain's DNS records and that its name servers answer from the internet.",
  externalAccountRequired:
    'This CA requires External Account Binding: pass --eab-kid and --eab-hmac-key from your account at the CA.',
  incorrectResponse:
    'The CA fetched a wrong value: check the responder or TXT record serves the current token.',
  invalidContact: 'Use a valid contact such as mailto:admin@example.com.',
  malformed:
    'The CA rejected the request as malformed: check the input; if it is right, report a certkeep bug.',
  orderNotReady: 'Finalize only when the order is "ready" (all authorizations valid).',
  rateLimited: 'Wait and try again later.',
  rejectedIdentifier: 'The CA will not issue for this name: remove it from the order.',
  serverInternal: 'The CA failed internally: try again later.',
  tls: 'Check the TLS-ALPN-01 responder the CA reaches on port 443 of the name.',
  unauthorized:
    'The account is not allowed to do this: check the account key, the EAB credentials or the authorizations.',
  unsupportedContact: 'Use a mailto: contact.',
  unsupportedIdentifier: 'The CA does not issue for this kind of identifier.',
  userActionRequired: 'Visit the CA (see the instance URL) to do what it asks, then retry.',
};

/** CAs report an unreachable or wrong TLS-ALPN-01 answer as unauthorized, connection, tls or incorrectResponse. */
const TLS_ALPN_FAILURES = ['unauthorized', 'connection', 'tls', 'incorrectResponse'];

/** What to check after a failed challenge: where the CA looked for the answer, rather than the account. */
function challengeHint(challengeType: string, problemType: string): string {
  if (challengeType === 'tls-alpn-01' && TLS_ALPN_FAILURES.includes(shortProblemType(problemType))) {
    return (
      'The CA connects to port 443 of the name and asks for the acme-tls/1 protocol: certkeep must answer there — ' +
      'issue with --tls-port 443 or forward port 443 to --tls-port (serve: --tls-alpn-listen), and stop a web server holding 443 meanwhile.'
    );
  }
  return hintFor(problemType);
}

export function hintFor(type: string): string {
  return HINTS[shortProblemType(type)] ?? 'See the CA documentation for this error.';
}

/** The caller asked for a certificate profile the CA does not offer. */
export class AcmeProfileError extends AcmeError {
  readonly requested: string;
  readonly offered: string[];

  constructor(requested: string, offered: string[], directoryUrl: string) {
    const choice = offered.length
      ? `it offers: ${offered.join(', ')}. Pick one of those or leave the profile out.`
      : 'it offers no profiles. Leave the profile out for this CA.';
    super(
      `new order failed: the CA does not offer the profile "${requested}"; ${choice}`,
      'new order',
      directoryUrl,
    );
    this.name = 'AcmeProfileError';
    this.requested = requested;
    this.offered = offered;
  }
}
