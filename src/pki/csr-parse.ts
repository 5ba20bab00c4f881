// Reading a PKCS #10 CSR (RFC 2986) that a user hands in: its names, its key
// and whether its signature holds — enough to refuse, say, a 1024-bit RSA key.
import { createPublicKey, type KeyObject } from 'node:crypto';
import {
  bitStringBytes,
  childrenOf,
  type Der,
  decodeAll,
  decodeOne,
  expectTag,
  malformed,
  oidToString,
  present,
  TAG,
} from './der-read.ts';
import { type CsrSubject, decodeName, type NameAttribute, nameToString } from './distinguished-name.ts';
import { PkiInputError } from './errors.ts';
import { decodeSubjectAltNames, extensionValues, OID_SUBJECT_ALT_NAME } from './extensions.ts';
import { type KeyType, keyTypeOf } from './keys.ts';
import { type Identifier, identifiersFromNames, validateDnsName } from './names.ts';
import { derFrom } from './pem.ts';
import { signatureAlgorithmName, verifySignature } from './signatures.ts';

export interface ParsedCsr {
  commonName?: string;
  /** The subjectAltName DNS names and IPs, then the CN if it is a DNS name or IP not already among them. */
  identifiers: Identifier[];
  /** Node's asymmetricKeyType: 'rsa', 'ec', 'ed25519', 'rsa-pss', ... */
  keyType: string;
  /** RSA modulus length, or the curve's size (256 for P-256). */
  keyBits: number;
  /** EC only: 'P-256', 'P-384', 'P-521', or OpenSSL's name for other curves. */
  curve?: string;
  /** The certkeep key type with this algorithm and size, if there is one. */
  matchingKeyType?: KeyType;
  /** RFC 4514 text, e.g. "CN=example.com, O=Example, C=DE". */
  subject: string;
  subjectFields: CsrSubject;
  signatureAlgorithm: string;
  signatureValid: boolean;
  der: Uint8Array;
}

const WHAT = 'CSR';
const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
const CURVES: Record<string, { name: string; bits: number }> = {
  prime256v1: { name: 'P-256', bits: 256 },
  secp384r1: { name: 'P-384', bits: 384 },
  secp521r1: { name: 'P-521', bits: 521 },
};

/** Parses a CSR given as PEM ("CERTIFICATE REQUEST") or DER. Throws PkiInputError saying what is wrong. */
export function parseCsr(pemOrDer: string | Uint8Array): ParsedCsr {
  const der = derFrom(pemOrDer, ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST'], WHAT);
  const [info, algorithm, signature] = childrenOf(decodeOne(der, WHAT), TAG.sequence, WHAT);
  const [version, subject, spki, attributes] = childrenOf(present(info, WHAT), TAG.sequence, WHAT);
  if (expectTag(version, TAG.integer, WHAT).value.length !== 1 || version.value[0] !== 0) {
    throw malformed(WHAT, 'unknown version; only PKCS #10 v1 exists');
  }
  const algorithmOid = oidToString(
    expectTag(childrenOf(present(algorithm, WHAT), TAG.sequence, WHAT)[0], TAG.oid, WHAT).value,
  );
  const publicKey = readPublicKey(expectTag(spki, TAG.sequence, WHAT).raw);
  const attributeList = nameAttributes(subject);
  const commonName = attributeList.findLast((a) => a.type === 'CN')?.value;
  return {
    commonName,
    identifiers: withCommonName(requestedNames(attributes), commonName),
    ...describeKey(publicKey),
    subject: nameToString(subject, WHAT),
    subjectFields: subjectFields(attributeList),
    signatureAlgorithm: signatureAlgorithmName(algorithmOid),
    signatureValid: verifySignature(
      algorithmOid,
      publicKey,
      info.raw,
      bitStringBytes(present(signature, WHAT), WHAT),
    ),
    der,
  };
}

function nameAttributes(subject: Der | undefined): NameAttribute[] {
  return decodeName(present(subject, WHAT), WHAT);
}

function readPublicKey(spki: Uint8Array): KeyObject {
  try {
    return createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch (error) {
    throw new PkiInputError(`${WHAT}: its public key could not be read (${(error as Error).message})`);
  }
}

function describeKey(key: KeyObject): Pick<ParsedCsr, 'keyType' | 'keyBits' | 'curve' | 'matchingKeyType'> {
  const keyType = key.asymmetricKeyType ?? 'unknown';
  const details = key.asymmetricKeyDetails ?? {};
  const matchingKeyType = keyTypeOf(key);
  if (keyType === 'ec') {
    const curve = CURVES[details.namedCurve ?? ''] ?? { name: details.namedCurve ?? 'unknown', bits: 0 };
    return { keyType, keyBits: curve.bits, curve: curve.name, matchingKeyType };
  }
  if (details.modulusLength) return { keyType, keyBits: details.modulusLength, matchingKeyType };
  const edwardsBits: Record<string, number> = { ed25519: 256, ed448: 456 };
  return { keyType, keyBits: edwardsBits[keyType] ?? 0, matchingKeyType };
}

/** The names in the subjectAltName of the extensionRequest attribute (RFC 2985 §5.4.2). */
function requestedNames(attributes: Der | undefined): Identifier[] {
  if (!attributes) return [];
  expectTag(attributes, 0xa0, WHAT);
  for (const attribute of decodeAll(attributes.value, WHAT)) {
    const [type, values] = childrenOf(attribute, TAG.sequence, WHAT);
    if (oidToString(expectTag(type, TAG.oid, WHAT).value) !== OID_EXTENSION_REQUEST) continue;
    const [extensions] = childrenOf(present(values, WHAT), TAG.set, WHAT);
    const san = extensionValues(present(extensions, WHAT), WHAT).get(OID_SUBJECT_ALT_NAME);
    return san ? decodeSubjectAltNames(san, WHAT) : [];
  }
  return [];
}

function withCommonName(identifiers: Identifier[], commonName: string | undefined): Identifier[] {
  if (!commonName) return identifiers;
  const [fromCn] = identifiersFromNames([commonName]);
  if (fromCn.type === 'dns' && validateDnsName(fromCn.value)) return identifiers;
  const known = identifiers.some((id) => id.type === fromCn.type && id.value === fromCn.value);
  return known ? identifiers : [...identifiers, fromCn];
}

const FIELD_OF: Record<string, keyof CsrSubject> = {
  O: 'organization',
  OU: 'organizationalUnit',
  C: 'country',
  ST: 'state',
  L: 'locality',
  emailAddress: 'email',
};

function subjectFields(attributes: NameAttribute[]): CsrSubject {
  const fields: CsrSubject = {};
  for (const { type, value } of attributes) {
    const field = FIELD_OF[type];
    if (field && fields[field] === undefined) fields[field] = value;
  }
  return fields;
}
