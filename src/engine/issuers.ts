// An issuer is one CA a certificate may come from, with the account to use there.
// A certificate lists its issuers in order of preference (DESIGN.md, renewal).
import { ConflictError } from '../errors.ts';
import { issuerIndex } from './planner.ts';

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

/** External Account Binding credentials (RFC 8555 §7.3.4), used when the account is created. */
export interface EabCredentials {
  kid: string;
  hmacKey: string; // base64url
}

/** Binds a sealed EAB key to its CA and key id: copied onto another issuer it does not open. */
export const eabAad = (caUrl: string, kid: string) => `issuer:${caUrl}:eab:${kid}`;

/** An issuer that keeps its EAB credentials, sealed, for an account created later. */
export function withEab(issuer: IssuerSpec, eab: EabCredentials | undefined, seal: (plain: string, aad: string) => string): IssuerSpec {
  if (!eab) return issuer;
  return { ...issuer, eab: { kid: eab.kid, hmacKeySealed: seal(eab.hmacKey, eabAad(issuer.caUrl, eab.kid)) } };
}

export function parseIssuers(json: string): IssuerSpec[] {
  return JSON.parse(json) as IssuerSpec[];
}

/** The CA to order from now: the first, or the next one after repeated failures (planner.ts). */
export function currentIssuer(certificate: { issuers: string; failure_count: number }): IssuerSpec {
  const issuers = parseIssuers(certificate.issuers);
  return issuers[issuerIndex(certificate.failure_count, issuers.length)];
}

/** The certificate's issuer at `caUrl` (where an order was placed, where a version came from), if it still lists it. */
export function findIssuerAt(certificate: { issuers: string }, caUrl: string): IssuerSpec | undefined {
  return parseIssuers(certificate.issuers).find((issuer) => issuer.caUrl === caUrl);
}

/** As findIssuerAt, for work that cannot go on without it. */
export function issuerAt(certificate: { name: string; issuers: string }, caUrl: string): IssuerSpec {
  const issuer = findIssuerAt(certificate, caUrl);
  if (!issuer) throw new ConflictError(`certificate "${certificate.name}" was ordered at ${caUrl}, which is no longer among its CAs`);
  return issuer;
}
