// PKCS #12 (RFC 7292) export in the shape OpenSSL 3 writes by default, so
// `openssl pkcs12` reads it without -legacy and Windows (1709+) imports it:
// certificates in an EncryptedData and the key in a PKCS8ShroudedKeyBag, both
// PBES2 (RFC 8018) with PBKDF2-HMAC-SHA-256 and AES-256-CBC, and a SHA-256
// HMAC over the whole (RFC 7292 Appendix B key derivation).
import { createHash, type KeyObject, webcrypto } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { assertKeyMatches, splitPemChain } from './chain.ts';
import { certificateDer } from './certificate.ts';
import { PkiInputError } from './errors.ts';

export interface Pkcs12Options {
  /** Leaf first, then intermediates. */
  chainPem: string;
  key: KeyObject;
  password: string;
  /** Shown by key stores as the entry's name. */
  friendlyName?: string;
}

/** OpenSSL 3's default (PKCS12_DEFAULT_ITER). */
export const PKCS12_ITERATIONS = 2048;

const OID = {
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
};

type Encryption = Omit<pkijs.EncryptedDataEncryptParams, 'contentToEncrypt'>;

const engine = new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as Crypto });

/** A password-protected .pfx/.p12 holding the key and the chain. */
export async function toPkcs12(opts: Pkcs12Options): Promise<Uint8Array> {
  if (!opts.password)
    throw new PkiInputError('a PKCS#12 file needs a password; an empty one is not accepted');
  const chain = splitPemChain(opts.chainPem);
  assertKeyMatches(chain[0], opts.key);
  // PBES2 takes the password as UTF-8 bytes; pkijs turns them into BMPString for the MAC, as OpenSSL does.
  const password = toArrayBuffer(Buffer.from(opts.password, 'utf8'));
  const encryption: Encryption = {
    password,
    // pkijs draws a fresh IV per encryption; its type still asks for one.
    contentEncryptionAlgorithm: { name: 'AES-CBC', length: 256 } as pkijs.ContentEncryptionAlgorithm,
    hmacHashAlgorithm: 'SHA-256',
    iterationCount: PKCS12_ITERATIONS,
  };
  const ders = chain.map(certificateDer);
  // localKeyId pairs the key with its certificate (RFC 7292 §4.2; PKCS #9).
  const leafAttributes = bagAttributes(createHash('sha256').update(ders[0]).digest(), opts.friendlyName);
  const keyBag = await shroudedKeyBag(opts.key, leafAttributes, encryption);
  const certBags = ders.map((der, i) => certificateBag(der, i === 0 ? leafAttributes : undefined));

  const authenticatedSafe = new pkijs.AuthenticatedSafe({
    parsedValue: {
      safeContents: [
        { privacyMode: 1, value: new pkijs.SafeContents({ safeBags: certBags }) },
        { privacyMode: 0, value: new pkijs.SafeContents({ safeBags: [keyBag] }) },
      ],
    },
  });
  await authenticatedSafe.makeInternalValues({ safeContents: [encryption, {}] }, engine);
  const pfx = new pkijs.PFX({ parsedValue: { integrityMode: 0, authenticatedSafe } });
  await pfx.makeInternalValues(
    { password, iterations: PKCS12_ITERATIONS, pbkdf2HashAlgorithm: 'SHA-256', hmacHashAlgorithm: 'SHA-256' },
    engine,
  );
  return new Uint8Array(pfx.toSchema().toBER(false));
}

async function shroudedKeyBag(
  key: KeyObject,
  attributes: pkijs.Attribute[],
  encryption: Encryption,
): Promise<pkijs.SafeBag> {
  if (key.type !== 'private')
    throw new PkiInputError(`a PKCS#12 file needs the private key, not a ${key.type} key`);
  const pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
  const bag = new pkijs.PKCS8ShroudedKeyBag({ parsedValue: pkijs.PrivateKeyInfo.fromBER(pkcs8) });
  await bag.makeInternalValues(encryption, engine);
  return new pkijs.SafeBag({ bagId: OID.shroudedKeyBag, bagValue: bag, bagAttributes: attributes });
}

function certificateBag(der: Uint8Array, attributes: pkijs.Attribute[] | undefined): pkijs.SafeBag {
  // The DER goes in as is (not re-encoded by pkijs), so the signature stays intact.
  const bag = new pkijs.CertBag({
    certId: OID.x509Certificate,
    certValue: new asn1js.OctetString({ valueHex: der }),
  });
  return new pkijs.SafeBag({
    bagId: OID.certBag,
    bagValue: bag,
    ...(attributes && { bagAttributes: attributes }),
  });
}

function bagAttributes(localKeyId: Uint8Array, friendlyName: string | undefined): pkijs.Attribute[] {
  const attributes = [
    new pkijs.Attribute({ type: OID.localKeyId, values: [new asn1js.OctetString({ valueHex: localKeyId })] }),
  ];
  if (friendlyName) {
    attributes.push(
      new pkijs.Attribute({
        type: OID.friendlyName,
        values: [new asn1js.BmpString({ value: friendlyName })],
      }),
    );
  }
  return attributes;
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
