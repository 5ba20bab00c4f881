// The TLS-ALPN-01 validation certificate (RFC 8737 §3): self-signed, for the
// one name being validated, with the critical acmeIdentifier extension holding
// the SHA-256 of the key authorization. Responders present it on the
// acme-tls/1 protocol; it is never stored.
import { createHash, randomBytes } from 'node:crypto';
import { bitString, boolean, contextTag, objectIdentifier, octetString, sequence, smallInteger, time, unsignedInteger } from './der-write.ts';
import { encodeSubject, MAX_COMMON_NAME_LENGTH } from './distinguished-name.ts';
import { PkiInputError } from './errors.ts';
import { subjectAltNameExtension } from './extensions.ts';
import { canonicalIp, ipFromReverseName } from './ip.ts';
import { generateKey, privateKeyToPem } from './keys.ts';
import type { Identifier } from './names.ts';
import { pemEncode } from './pem.ts';
import { subjectPublicKeyInfo } from './public-key.ts';
import { signatureAlgorithm, signWith } from './signatures.ts';

/** id-pe-acmeIdentifier (RFC 8737 §6.1). */
export const OID_ACME_IDENTIFIER = '1.3.6.1.5.5.7.1.31';

/** The ALPN protocol name a CA validates on (RFC 8737 §6.2). */
export const ACME_TLS_PROTOCOL = 'acme-tls/1';

const HOUR = 3_600_000;

export interface ChallengeCertificate {
  certPem: string;
  keyPem: string;
}

/** A fresh P-256 key and the validation certificate for `identifier` and `keyAuthorization`. */
export async function createTlsAlpnCertificate(identifier: Identifier, keyAuthorization: string, now = new Date()): Promise<ChallengeCertificate> {
  if (identifier.type === 'ip' && !canonicalIp(identifier.value)) throw new PkiInputError(`TLS-ALPN-01: "${identifier.value}" is not an IP address`);
  const key = await generateKey('ec-p256');
  const commonName = identifier.type === 'dns' && identifier.value.length <= MAX_COMMON_NAME_LENGTH ? identifier.value : undefined;
  const name = encodeSubject({}, commonName);
  const tbs = sequence(
    contextTag(0, smallInteger(2), true), // v3
    unsignedInteger(randomBytes(16)),
    signatureAlgorithm(key),
    name, // self-signed: the issuer is the subject
    sequence(time(new Date(now.getTime() - HOUR)), time(new Date(now.getTime() + 24 * HOUR))),
    name,
    subjectPublicKeyInfo(key),
    contextTag(3, sequence(subjectAltNameExtension([identifier], commonName === undefined), acmeIdentifierExtension(keyAuthorization)), true),
  );
  const { algorithm, signature } = await signWith(key, tbs);
  return { certPem: pemEncode('CERTIFICATE', sequence(tbs, algorithm, bitString(signature))), keyPem: privateKeyToPem(key) };
}

/** Critical, so that no other software takes the certificate for anything else (RFC 8737 §3); its value is `Authorization ::= OCTET STRING (SIZE (32))`. */
function acmeIdentifierExtension(keyAuthorization: string): Uint8Array {
  const digest = createHash('sha256').update(keyAuthorization).digest();
  return sequence(objectIdentifier(OID_ACME_IDENTIFIER), boolean(true), octetString(octetString(digest)));
}

/** The identifier a CA validates when it sends `serverName` as SNI: a DNS name, or an IP by its reverse name (RFC 8738 §6). */
export function identifierFromServerName(serverName: string): Identifier {
  const ip = ipFromReverseName(serverName);
  return ip ? { type: 'ip', value: ip } : { type: 'dns', value: serverName.toLowerCase().replace(/\.$/, '') };
}
