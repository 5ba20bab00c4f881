// The SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) of a private key, for CSRs.
// For EC keys it is assembled from the JWK coordinates (RFC 5480 §2), which is
// several times cheaper than Node's SPKI export through OpenSSL's encoders.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { bitString, concat, objectIdentifier, sequence } from './der-write.ts';

const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const CURVE_OIDS: Record<string, string> = { 'P-256': '1.2.840.10045.3.1.7', 'P-384': '1.3.132.0.34' };

export function subjectPublicKeyInfo(key: KeyObject): Uint8Array {
  if (key.asymmetricKeyType === 'ec') {
    const jwk = key.export({ format: 'jwk' });
    const curveOid = CURVE_OIDS[jwk.crv ?? ''];
    if (curveOid && jwk.x && jwk.y) {
      // Uncompressed point: 04 || x || y (SEC 1 §2.3.3).
      const point = concat([
        Uint8Array.of(4),
        Buffer.from(jwk.x, 'base64url'),
        Buffer.from(jwk.y, 'base64url'),
      ]);
      return sequence(
        sequence(objectIdentifier(OID_EC_PUBLIC_KEY), objectIdentifier(curveOid)),
        bitString(point),
      );
    }
  }
  return createPublicKey(key).export({ type: 'spki', format: 'der' });
}
