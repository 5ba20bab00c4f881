// An issuer is one CA a certificate may come from, with the account to use there.
// A certificate lists its issuers in order of preference (DESIGN.md, renewal).
import { ConflictError } from '../errors.ts';
import type { IssuerSpec } from '../store/records.ts';
import { issuerIndex } from './planner.ts';

export type { IssuerSpec } from '../store/records.ts';

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

/** The CA to order from now: the first, or the next one after repeated failures (planner.ts). */
export function currentIssuer(certificate: { issuers: IssuerSpec[]; failure_count: number }): IssuerSpec {
  return certificate.issuers[issuerIndex(certificate.failure_count, certificate.issuers.length)];
}

/** The certificate's issuer at `caUrl` (where an order was placed, where a version came from), if it still lists it. */
export function findIssuerAt(certificate: { issuers: IssuerSpec[] }, caUrl: string): IssuerSpec | undefined {
  return certificate.issuers.find((issuer) => issuer.caUrl === caUrl);
}

/** As findIssuerAt, for work that cannot go on without it. */
export function issuerAt(certificate: { name: string; issuers: IssuerSpec[] }, caUrl: string): IssuerSpec {
  const issuer = findIssuerAt(certificate, caUrl);
  if (!issuer) throw new ConflictError(`certificate "${certificate.name}" was ordered at ${caUrl}, which is no longer among its CAs`);
  return issuer;
}
