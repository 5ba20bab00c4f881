// What the store keeps, as the repositories hand it out and take it in: JSON
// columns as objects, enum columns as unions, so that nothing above the store
// parses a column or casts a string. The column names stay those of the schema
// (schema.ts). The engine re-exports the types its callers need.
import type { ChallengeType } from '../acme/index.ts';
import type { CsrSubject, Identifier, KeyType } from '../pki/index.ts';

export type { ChallengeType } from '../acme/index.ts';
export type { CsrSubject, Identifier, KeyType } from '../pki/index.ts';

/** A certificate's state: issuing until its first version, valid after, failed when its first order failed. */
export type CertificateState = 'issuing' | 'valid' | 'failed' | 'revoked' | 'deleted';

/** How a certificate's challenges are answered; stored with the certificate so renewals answer the same way. */
export interface ChallengeConfig {
  httpPort?: number;
  httpHost?: string;
  webroot?: string;
  /** Where this process answers TLS-ALPN-01 (default 443, the port CAs connect to). */
  tlsPort?: number;
  /** The client places the answers itself, from the tokens it is given (server only). */
  manual?: boolean;
  /** The domain the client names its challenge records under (the RCL API's rootDomain); shown to it, never used to answer. */
  rootDomain?: string;
}

/** One CA a certificate may come from, with the account to use there; a certificate lists them in order of preference. */
export interface IssuerSpec {
  caUrl: string; // ACME directory URL
  email?: string;
  /** Extra trust anchor for the CA's HTTPS (test CAs such as Pebble). Public, so stored as is. */
  caCertPem?: string;
  /**
   * EAB for a CA that needs it, kept (HMAC key sealed) so that a fallback CA's
   * account can be created when renewal first falls back to it, maybe months later.
   */
  eab?: { kid: string; hmacKeySealed: string };
}

export interface RenewalPolicy {
  autoRenew: boolean;
  /** A duration before expiry ("30d", "12h", "90m") or a share of the lifetime ("33%"). */
  renewBefore?: string;
}

/** Where an order stands (DESIGN.md, "Issuance, step by step"). */
export type OrderStep = 'new' | 'placed' | 'provisioned' | 'responded' | 'ready' | 'finalized' | 'valid' | 'deployed' | 'invalid' | 'failed';

/** The goals a client may set: stop once the tokens are known, once validated, or run to the end. */
export type OrderGoal = 'placed' | 'ready' | 'valid';

/** What an order remembers of each of its authorizations. */
export interface AuthorizationRecord {
  url: string;
  identifier: Identifier;
  wildcard: boolean;
  status: 'pending' | 'presented' | 'responded' | 'valid';
  challengeUrl?: string;
  token?: string;
  /** The answer (RFC 8555 §8.1), kept so that clients can be shown their tokens without the account key. */
  keyAuthorization?: string;
  /** The DNS-01 TXT value (RFC 8555 §8.4). */
  dnsValue?: string;
}

/** What a key or a person may do; each scope includes the ones before it (write may also read, admin may do everything). */
export type Scope = 'read' | 'write' | 'admin';

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

/** What a person signed in to the portal may do: viewer reads, operator also writes, admin also manages the subscription. */
export type Role = 'viewer' | 'operator' | 'admin';

/** The columns of certificates whose values are JSON or unions, decoded. */
export interface CertificateFields {
  identifiers: Identifier[];
  challenge_type: ChallengeType;
  challenge_config: ChallengeConfig;
  key_type: KeyType;
  issuers: IssuerSpec[];
  renewal_policy: RenewalPolicy;
  csr_info: CsrSubject;
  state: CertificateState;
}

export interface OrderFields {
  step: OrderStep;
  goal: OrderGoal;
  authorizations: AuthorizationRecord[];
}
