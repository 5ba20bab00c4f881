// An issuer is one CA a certificate may come from, with the account to use there.
// A certificate lists its issuers in order of preference (DESIGN.md, renewal).
import { issuerIndex } from './planner.ts';

export interface IssuerSpec {
  caUrl: string; // ACME directory URL
  email?: string;
  /** Extra trust anchor for the CA's HTTPS (test CAs such as Pebble). Public, so stored as is. */
  caCertPem?: string;
}

/** External Account Binding credentials (RFC 8555 §7.3.4): used once, when the account is created; never stored. */
export interface EabCredentials {
  kid: string;
  hmacKey: string; // base64url
}

export function parseIssuers(json: string): IssuerSpec[] {
  return JSON.parse(json) as IssuerSpec[];
}

/** The CA to order from now: the first, or the next one after repeated failures (planner.ts). */
export function currentIssuer(certificate: { issuers: string; failure_count: number }): IssuerSpec {
  const issuers = parseIssuers(certificate.issuers);
  return issuers[issuerIndex(certificate.failure_count, issuers.length)];
}
