// Private keys for certificates: the types certkeep offers, generation, PEM.
import { createPrivateKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { PkiInputError } from './errors.ts';

export type KeyType = 'ec-p256' | 'ec-p384' | 'rsa-2048' | 'rsa-3072' | 'rsa-4096';

export const KEY_TYPES: readonly KeyType[] = ['ec-p256', 'ec-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096'];

export const DEFAULT_KEY_TYPE: KeyType = 'ec-p256';

export function isKeyType(s: string): s is KeyType {
  return (KEY_TYPES as readonly string[]).includes(s);
}

/** Node's names for the curves (OpenSSL short names). */
const CURVES: Record<string, KeyType> = { prime256v1: 'ec-p256', secp384r1: 'ec-p384' };

const generate = promisify(generateKeyPair);

/** A new private key. Runs on libuv's thread pool, so RSA generation does not block the event loop. */
export async function generateKey(type: KeyType): Promise<KeyObject> {
  switch (type) {
    case 'ec-p256':
      return (await generate('ec', { namedCurve: 'P-256' })).privateKey;
    case 'ec-p384':
      return (await generate('ec', { namedCurve: 'P-384' })).privateKey;
    case 'rsa-2048':
    case 'rsa-3072':
    case 'rsa-4096':
      return (await generate('rsa', { modulusLength: Number(type.slice(4)), publicExponent: 65537 }))
        .privateKey;
    default:
      throw new PkiInputError(`unknown key type ${JSON.stringify(type)}; use one of ${KEY_TYPES.join(', ')}`);
  }
}

/** The certkeep key type of a private or public key, or undefined if it is none of KEY_TYPES. */
export function keyTypeOf(key: KeyObject): KeyType | undefined {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'ec') return CURVES[details?.namedCurve ?? ''];
  if (key.asymmetricKeyType === 'rsa') {
    const type = `rsa-${details?.modulusLength}`;
    return isKeyType(type) ? type : undefined;
  }
  return undefined;
}

/** PKCS#8 PEM ("BEGIN PRIVATE KEY"), unencrypted. */
export function privateKeyToPem(key: KeyObject): string {
  if (key.type !== 'private') throw new PkiInputError(`expected a private key, got a ${key.type} key`);
  return key.export({ type: 'pkcs8', format: 'pem' }) as string;
}

/** Reads an unencrypted private key in PEM: PKCS#8, SEC 1 ("EC PRIVATE KEY") or PKCS#1 ("RSA PRIVATE KEY"). */
export function privateKeyFromPem(pem: string): KeyObject {
  if (pem.includes('ENCRYPTED')) {
    throw new PkiInputError(
      'the private key is encrypted; decrypt it first (openssl pkey -in key.pem -out plain.pem)',
    );
  }
  if (!pem.includes('PRIVATE KEY-----')) {
    throw new PkiInputError('no PEM private key found (expected a "-----BEGIN PRIVATE KEY-----" block)');
  }
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch (error) {
    // The cause is OpenSSL's decoder message; it never contains key material.
    throw new PkiInputError(`the private key PEM could not be read: ${(error as Error).message}`);
  }
}
