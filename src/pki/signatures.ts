// Signature algorithms for CSRs: which one a key signs with, and checking a
// signature made by someone else (RFC 5758 §3.2 ECDSA, RFC 8017 PKCS #1 v1.5,
// RFC 8410 EdDSA).
import { type KeyObject, sign, verify } from 'node:crypto';
import { nullValue, objectIdentifier, sequence } from './der-write.ts';
import { PkiInputError } from './errors.ts';

interface Scheme {
  name: string;
  /** Digest given to crypto.sign/verify; null for EdDSA, which hashes internally. */
  hash: string | null;
  /** RFC 8017 A.2.4: RSA AlgorithmIdentifiers carry NULL parameters; ECDSA and EdDSA none. */
  nullParameters: boolean;
}

const SCHEMES: Record<string, Scheme> = {
  '1.2.840.113549.1.1.5': { name: 'sha1WithRSAEncryption', hash: 'sha1', nullParameters: true },
  '1.2.840.113549.1.1.11': { name: 'sha256WithRSAEncryption', hash: 'sha256', nullParameters: true },
  '1.2.840.113549.1.1.12': { name: 'sha384WithRSAEncryption', hash: 'sha384', nullParameters: true },
  '1.2.840.113549.1.1.13': { name: 'sha512WithRSAEncryption', hash: 'sha512', nullParameters: true },
  '1.2.840.10045.4.1': { name: 'ecdsa-with-SHA1', hash: 'sha1', nullParameters: false },
  '1.2.840.10045.4.3.2': { name: 'ecdsa-with-SHA256', hash: 'sha256', nullParameters: false },
  '1.2.840.10045.4.3.3': { name: 'ecdsa-with-SHA384', hash: 'sha384', nullParameters: false },
  '1.2.840.10045.4.3.4': { name: 'ecdsa-with-SHA512', hash: 'sha512', nullParameters: false },
  '1.3.101.112': { name: 'Ed25519', hash: null, nullParameters: false },
  '1.3.101.113': { name: 'Ed448', hash: null, nullParameters: false },
};

/** The signature OID certkeep uses for a key: SHA-256 for P-256 and RSA, SHA-384 for P-384 (hash matches curve). */
function schemeOidFor(key: KeyObject): string {
  if (key.asymmetricKeyType === 'rsa') return '1.2.840.113549.1.1.11';
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return '1.2.840.10045.4.3.2';
    if (curve === 'secp384r1') return '1.2.840.10045.4.3.3';
    if (curve === 'secp521r1') return '1.2.840.10045.4.3.4';
  }
  throw new PkiInputError(
    `cannot sign with a ${key.asymmetricKeyType} key${key.asymmetricKeyDetails?.namedCurve ? ` on ${key.asymmetricKeyDetails.namedCurve}` : ''}; use an EC P-256/P-384 or RSA key`,
  );
}

/**
 * Signs `data` with `key`; returns the DER AlgorithmIdentifier and the signature.
 * ECDSA signs inline (tens of microseconds, less than a thread-pool round trip);
 * RSA on the thread pool, since RSA-4096 takes milliseconds.
 */
export async function signWith(
  key: KeyObject,
  data: Uint8Array,
): Promise<{ algorithm: Uint8Array; signature: Uint8Array }> {
  const scheme = SCHEMES[schemeOidFor(key)];
  const algorithm = signatureAlgorithm(key);
  if (key.asymmetricKeyType === 'ec') return { algorithm, signature: sign(scheme.hash, data, key) }; // DER is the default encoding
  const signature = await new Promise<Uint8Array>((resolve, reject) => {
    sign(scheme.hash, data, key, (error, result) => (error ? reject(error) : resolve(result)));
  });
  return { algorithm, signature };
}

/** The DER AlgorithmIdentifier `key` signs with; a certificate names it inside what is signed, too. */
export function signatureAlgorithm(key: KeyObject): Uint8Array {
  const oid = schemeOidFor(key);
  return SCHEMES[oid].nullParameters ? sequence(objectIdentifier(oid), nullValue()) : sequence(objectIdentifier(oid));
}

export function signatureAlgorithmName(oid: string): string {
  return SCHEMES[oid]?.name ?? oid;
}

/** Whether `signature` over `data` verifies; false also for algorithms not listed above (e.g. RSA-PSS). */
export function verifySignature(
  oid: string,
  key: KeyObject,
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  const scheme = SCHEMES[oid];
  if (!scheme) return false;
  try {
    return verify(scheme.hash, data, { key, dsaEncoding: 'der' }, signature);
  } catch {
    return false; // e.g. an ECDSA scheme with an RSA key
  }
}
