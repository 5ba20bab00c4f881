// ACME resource shapes (RFC 8555 §7.1, RFC 9773 for renewalInfo, draft-ietf-acme-profiles
// for meta.profiles). Only the fields certkeep reads are typed; servers may send more.

export interface AcmeDirectory {
  newNonce: string;
  newAccount: string;
  newOrder: string;
  revokeCert: string;
  keyChange: string;
  newAuthz?: string;
  renewalInfo?: string;
  meta?: AcmeDirectoryMeta;
}

export interface AcmeDirectoryMeta {
  termsOfService?: string;
  website?: string;
  caaIdentities?: string[];
  externalAccountRequired?: boolean;
  /** profile name -> human description */
  profiles?: Record<string, string>;
}

export type AcmeAccountStatus = 'valid' | 'deactivated' | 'revoked';

export interface AcmeAccount {
  status: AcmeAccountStatus;
  contact?: string[];
  termsOfServiceAgreed?: boolean;
  orders?: string;
}

export interface AcmeIdentifier {
  type: 'dns' | 'ip';
  value: string;
}

/** The challenge types certkeep answers: RFC 8555 §8.3 and §8.4, RFC 8737. */
export type ChallengeType = 'http-01' | 'dns-01' | 'tls-alpn-01';

export type AcmeOrderStatus = 'pending' | 'ready' | 'processing' | 'valid' | 'invalid';

export interface AcmeOrder {
  status: AcmeOrderStatus;
  expires?: string;
  identifiers: AcmeIdentifier[];
  notBefore?: string;
  notAfter?: string;
  error?: AcmeProblem;
  authorizations: string[];
  finalize: string;
  certificate?: string;
  profile?: string;
  replaces?: string;
}

export type AcmeAuthorizationStatus = 'pending' | 'valid' | 'invalid' | 'deactivated' | 'expired' | 'revoked';

export interface AcmeAuthorization {
  identifier: AcmeIdentifier;
  status: AcmeAuthorizationStatus;
  expires?: string;
  challenges: AcmeChallenge[];
  wildcard?: boolean;
}

export type AcmeChallengeStatus = 'pending' | 'processing' | 'valid' | 'invalid';

export interface AcmeChallenge {
  type: string;
  url: string;
  status: AcmeChallengeStatus;
  token: string;
  validated?: string;
  error?: AcmeProblem;
}

/** RFC 7807 problem document as ACME uses it (RFC 8555 §6.7). */
export interface AcmeProblem {
  type: string;
  detail?: string;
  status?: number;
  instance?: string;
  subproblems?: AcmeSubproblem[];
}

export interface AcmeSubproblem extends AcmeProblem {
  identifier?: AcmeIdentifier;
}

export interface AcmeRenewalInfo {
  suggestedWindow: { start: Date; end: Date };
  explanationURL?: string;
  /** When to ask again (the Retry-After header, RFC 9773 §4.3). */
  retryAfter?: Date;
}

/** Time source, so tests can observe polling waits without real sleeps. */
export interface AcmeClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}
