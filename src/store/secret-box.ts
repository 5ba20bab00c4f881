// Secrets at rest: AES-256-GCM under the master key. A sealed value is one
// compact string, `v1.<iv>.<tag>.<ciphertext>` (base64url parts), so it fits a
// text column. Callers pass AAD naming the row and purpose (e.g.
// `acme_accounts.key_enc:<id>`): a ciphertext copied onto another row then
// fails to open instead of silently becoming that row's secret.
import { createCipheriv, createDecipheriv, createSecretKey, hkdfSync, type KeyObject, randomBytes } from 'node:crypto';
import { StoreError } from './errors.ts';

const VERSION = 'v1';
const KEY_BYTES = 32;
const IV_BYTES = 12; // NIST SP 800-38D recommends 96-bit IVs for GCM
const TAG_BYTES = 16;

export class SecretBox {
  #key: KeyObject;

  constructor(key: Uint8Array) {
    if (key.length !== KEY_BYTES)
      throw new StoreError(`a master key must be ${KEY_BYTES} bytes, not ${key.length}`);
    this.#key = createSecretKey(key);
  }

  encrypt(plain: string | Uint8Array, aad?: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    if (aad) cipher.setAAD(Buffer.from(aad, 'utf8'));
    const data = typeof plain === 'string' ? Buffer.from(plain, 'utf8') : plain;
    const ciphertext = Buffer.concat([cipher.update(data), cipher.final()]);
    const tag = cipher.getAuthTag();
    return `${VERSION}.${iv.toString('base64url')}.${tag.toString('base64url')}.${ciphertext.toString('base64url')}`;
  }

  decrypt(token: string, aad?: string): Buffer {
    const { iv, tag, ciphertext } = parseToken(token, aad);
    const decipher = createDecipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
    if (aad) decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    } catch {
      throw new StoreError(
        `cannot decrypt a stored secret${describe(aad)}: the master key differs from the one these secrets ` +
          'were written with, or the value was altered or belongs to another record. ' +
          'Use the original CERTKEEP_MASTER_KEY or master.key file.',
      );
    }
  }

  decryptString(token: string, aad?: string): string {
    return this.decrypt(token, aad).toString('utf8');
  }

  /**
   * A 32-byte key for one purpose (e.g. `download-links`), derived from the master
   * key with HKDF-SHA256 (RFC 5869): the master key itself never signs or MACs anything.
   */
  deriveKey(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.#key, Buffer.alloc(0), `certkeep ${purpose}`, KEY_BYTES));
  }
}

function parseToken(token: string, aad: string | undefined): { iv: Buffer; tag: Buffer; ciphertext: Buffer } {
  const parts = typeof token === 'string' ? token.split('.') : [];
  const [version, iv, tag, ciphertext] = parts;
  const wellFormed =
    parts.length === 4 &&
    version === VERSION &&
    [iv, tag, ciphertext].every((p) => /^[A-Za-z0-9_-]*$/.test(p));
  const decoded = wellFormed
    ? {
        iv: Buffer.from(iv, 'base64url'),
        tag: Buffer.from(tag, 'base64url'),
        ciphertext: Buffer.from(ciphertext, 'base64url'),
      }
    : undefined;
  if (!decoded || decoded.iv.length !== IV_BYTES || decoded.tag.length !== TAG_BYTES) {
    // Only a version-shaped prefix is echoed: the value itself could be a misplaced plaintext secret.
    const newer =
      /^v[0-9]+$/.test(version ?? '') && version !== VERSION ? ` (it is ${version}: a newer certkeep?)` : '';
    throw new StoreError(
      `cannot decrypt a stored secret${describe(aad)}: it is not a ${VERSION}.<iv>.<tag>.<ciphertext> value${newer}`,
    );
  }
  return decoded;
}

function describe(aad: string | undefined): string {
  return aad ? ` (${aad})` : '';
}
