// JWS in the flattened JSON serialization (RFC 7515 §7.2.2) as ACME uses it
// (RFC 8555 §6.2), JWK thumbprints (RFC 7638) and External Account Binding MACs.
// The parts that never change per key (alg, JWK JSON, thumbprint) are computed once.
import { createHash, createHmac, createPublicKey, type KeyObject, sign } from 'node:crypto';

export type JwsAlgorithm = 'ES256' | 'ES384' | 'RS256';

export interface FlattenedJws {
  protected: string;
  payload: string;
  signature: string;
}

export function b64url(data: string | Uint8Array): string {
  return Buffer.from(data as Uint8Array).toString('base64url');
}

/** Signs ACME requests with one account (or certificate) key. */
export class JwsSigner {
  readonly key: KeyObject;
  readonly algorithm: JwsAlgorithm;
  /** The public JWK as canonical JSON (members in lexicographic order, RFC 7638 §3.3). */
  readonly jwkJson: string;
  /** base64url SHA-256 JWK thumbprint (RFC 7638). */
  readonly thumbprint: string;
  private readonly digest: string;
  /** Bytes per ECDSA r and s, 0 for RSA. */
  private readonly ecSize: number;
  private readonly headerStart: string;

  constructor(privateKey: KeyObject) {
    if (privateKey.type !== 'private') {
      throw new TypeError('the ACME account key must be a private key (got a public or secret key)');
    }
    this.key = privateKey;
    this.algorithm = algorithmFor(privateKey);
    this.digest = this.algorithm === 'ES384' ? 'sha384' : 'sha256';
    this.ecSize = { ES256: 32, ES384: 48, RS256: 0 }[this.algorithm];
    this.jwkJson = canonicalPublicJwk(privateKey);
    this.thumbprint = thumbprintOfJwk(this.jwkJson);
    this.headerStart = `{"alg":"${this.algorithm}",`;
  }

  /** JWS authenticated by account URL (`kid`), RFC 8555 §6.2. `payload` is JSON text, or '' for POST-as-GET. */
  signWithKid(url: string, nonce: string, kid: string, payload: string): FlattenedJws {
    const header = `${this.headerStart}"kid":${JSON.stringify(kid)},"nonce":${JSON.stringify(nonce)},"url":${JSON.stringify(url)}}`;
    return this.signParts(header, payload);
  }

  /** JWS carrying the public key (`jwk`): newAccount, revocation by certificate key, inner key-change JWS (no nonce). */
  signWithJwk(url: string, nonce: string | undefined, payload: string): FlattenedJws {
    const noncePart = nonce === undefined ? '' : `"nonce":${JSON.stringify(nonce)},`;
    const header = `${this.headerStart}"jwk":${this.jwkJson},${noncePart}"url":${JSON.stringify(url)}}`;
    return this.signParts(header, payload);
  }

  private signParts(headerJson: string, payloadJson: string): FlattenedJws {
    const protectedB64 = b64url(headerJson);
    const payloadB64 = payloadJson === '' ? '' : b64url(payloadJson);
    // Signing with the bare KeyObject is ~3x cheaper than passing { key, dsaEncoding }.
    const signature = sign(this.digest, Buffer.from(`${protectedB64}.${payloadB64}`), this.key);
    const raw = this.ecSize ? derToRawEcdsa(signature, this.ecSize) : signature;
    return { protected: protectedB64, payload: payloadB64, signature: raw.toString('base64url') };
  }
}

/** JWS wants ECDSA signatures as fixed-size r||s, not DER (RFC 7518 §3.4). */
export function derToRawEcdsa(der: Buffer, size: number): Buffer {
  let offset = der[1] & 0x80 ? 2 + (der[1] & 0x7f) : 2; // skip SEQUENCE tag and length
  const out = Buffer.alloc(size * 2);
  for (let i = 0; i < 2; i++) {
    const length = der[offset + 1]; // INTEGER tag, then a short-form length (< 128 for P-256/P-384)
    let start = offset + 2;
    let bytes = length;
    while (bytes > size && der[start] === 0) {
      start++; // sign padding
      bytes--;
    }
    der.copy(out, i * size + (size - bytes), start, start + bytes);
    offset += 2 + length;
  }
  return out;
}

/** External Account Binding (RFC 8555 §7.3.4): an HS256 JWS over the account's public JWK. */
export function externalAccountBinding(
  eab: { kid: string; hmacKey: string },
  newAccountUrl: string,
  accountJwkJson: string,
): FlattenedJws {
  const macKey = Buffer.from(eab.hmacKey, 'base64url');
  if (macKey.length === 0) {
    throw new TypeError(
      'the EAB HMAC key is empty or not base64url: copy it again from your account at the CA',
    );
  }
  const protectedB64 = b64url(JSON.stringify({ alg: 'HS256', kid: eab.kid, url: newAccountUrl }));
  const payloadB64 = b64url(accountJwkJson);
  const signature = createHmac('sha256', macKey).update(`${protectedB64}.${payloadB64}`).digest('base64url');
  return { protected: protectedB64, payload: payloadB64, signature };
}

function algorithmFor(key: KeyObject): JwsAlgorithm {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'ec') {
    if (details?.namedCurve === 'prime256v1') return 'ES256';
    if (details?.namedCurve === 'secp384r1') return 'ES384';
  }
  if (key.asymmetricKeyType === 'rsa' && (details?.modulusLength ?? 0) >= 2048) return 'RS256';
  const kind = `${key.asymmetricKeyType ?? 'unknown'}${details?.namedCurve ? ` ${details.namedCurve}` : ''}`;
  throw new TypeError(
    `unsupported ACME account key (${kind}): use an EC P-256 (default), EC P-384 or RSA 2048+ key`,
  );
}

/** RFC 7638 thumbprint (base64url SHA-256) of a key, private or public. */
export function jwkThumbprint(key: KeyObject): string {
  return thumbprintOfJwk(canonicalPublicJwk(key));
}

function thumbprintOfJwk(canonicalJwkJson: string): string {
  return createHash('sha256').update(canonicalJwkJson).digest('base64url');
}

/** The public JWK with only the required members, in lexicographic order (RFC 7638 §3.2). */
function canonicalPublicJwk(key: KeyObject): string {
  const jwk = (key.type === 'public' ? key : createPublicKey(key)).export({ format: 'jwk' });
  if (jwk.kty === 'EC') return JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n });
}
