// Naming a certificate chain as certbot's and lego's --preferred-chain do:
// by the issuer CN of its topmost certificate, which is the name of the root
// it chains to (RFC 8555 §7.4.2 alternates differ in what sits at the top).
import { parseCertificate } from './certificate.ts';
import { splitPemChain } from './chain.ts';

/** The issuer CN of the chain's last certificate; undefined when that issuer has no CN. */
export function topIssuerName(chainPem: string): string | undefined {
  const certificates = splitPemChain(chainPem);
  return parseCertificate(certificates[certificates.length - 1]).issuerCommonName;
}

/** Whether two chains are for the same leaf certificate (an alternate must be, to stand in for the default). */
export function sameLeaf(chainPem: string, otherPem: string): boolean {
  return splitPemChain(chainPem)[0] === splitPemChain(otherPem)[0];
}
