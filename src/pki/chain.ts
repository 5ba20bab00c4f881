// Certificate chains as PEM text: splitting what a CA or a user sends, and the
// file set web servers expect (cert, chain, fullchain, key).
import { type KeyObject, X509Certificate } from 'node:crypto';
import { PkiInputError } from './errors.ts';
import { privateKeyToPem } from './keys.ts';
import { pemBlocks, pemEncode } from './pem.ts';

export interface ExportFiles {
  /** The leaf certificate. */
  cert: string;
  /** The intermediates, without the leaf ('' when the CA sent none). */
  chain: string;
  /** Leaf then intermediates — what nginx's ssl_certificate wants. */
  fullchain: string;
  /** The private key, PKCS#8 PEM. */
  key: string;
}

/**
 * Each CERTIFICATE block of `pem`, in order, normalized (64-character lines,
 * LF, trailing newline). Text between blocks and other block types are
 * ignored. Throws when there is no certificate or a block is broken.
 */
export function splitPemChain(pem: string): string[] {
  const blocks = pemBlocks(pem, 'CERTIFICATE', 'certificate chain');
  if (blocks.length === 0) {
    throw new PkiInputError('certificate chain: no "-----BEGIN CERTIFICATE-----" PEM block found');
  }
  return blocks.map((der) => pemEncode('CERTIFICATE', der));
}

/** The PEM files for a chain (leaf first) and its private key; throws if the key is not the leaf's. */
export function pemBundle(chainPem: string, key: KeyObject): ExportFiles {
  const [leaf, ...intermediates] = splitPemChain(chainPem);
  assertKeyMatches(leaf, key);
  return {
    cert: leaf,
    chain: intermediates.join(''),
    fullchain: leaf + intermediates.join(''),
    key: privateKeyToPem(key),
  };
}

export function assertKeyMatches(leafPem: string, key: KeyObject): void {
  let matches: boolean;
  try {
    matches = new X509Certificate(leafPem).checkPrivateKey(key);
  } catch (error) {
    throw new PkiInputError(`the leaf certificate could not be read: ${(error as Error).message}`);
  }
  if (!matches)
    throw new PkiInputError('the private key does not belong to the leaf certificate (public keys differ)');
}
