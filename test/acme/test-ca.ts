// A throwaway CA made with node:crypto, for tests that need real certificates
// with chosen dates: a P-256 root with a subjectKeyIdentifier, and leaves for a
// CSR's key with SANs, an authorityKeyIdentifier and a random serial — what the
// engine reads from a leaf (serial, dates, the RFC 9773 CertID).
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { childrenOf, decodeOne, present, TAG } from '../../src/pki/der-read.ts';
import {
  boolean,
  bitString,
  contextTag,
  objectIdentifier,
  octetString,
  sequence,
  setOf,
  smallInteger,
  tlv,
  utf8String,
} from '../../src/pki/der-write.ts';
import { subjectAltNameExtension } from '../../src/pki/extensions.ts';
import type { Identifier } from '../../src/pki/names.ts';
import { pemEncode } from '../../src/pki/pem.ts';

const ECDSA_SHA256 = sequence(objectIdentifier('1.2.840.10045.4.3.2'));
const OID = { commonName: '2.5.4.3', basicConstraints: '2.5.29.19', subjectKeyId: '2.5.29.14', authorityKeyId: '2.5.29.35' };

export interface LeafRequest {
  /** The DER SubjectPublicKeyInfo to certify (a CSR's). */
  spki: Uint8Array;
  identifiers: Identifier[];
  notBefore: number;
  notAfter: number;
}

export interface IssuedLeaf {
  pem: string;
  /** The RFC 9773 §4.1 CertID, as the CA itself derives it. */
  certId: string;
  serialHex: string;
}

export class TestCa {
  readonly pem: string;
  readonly keyId: Uint8Array;
  readonly #key: KeyObject;
  readonly #name: Uint8Array;

  constructor(commonName = 'certkeep test CA', now = Date.now()) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    this.#key = privateKey;
    this.#name = name(commonName);
    this.keyId = createHash('sha1').update(spki).digest();
    const extensions = [extension(OID.basicConstraints, sequence(boolean(true)), true), extension(OID.subjectKeyId, octetString(this.keyId))];
    this.pem = pemEncode('CERTIFICATE', this.#sign(serial(), this.#name, spki, now - 86_400_000, now + 3650 * 86_400_000, extensions));
  }

  issue(request: LeafRequest): IssuedLeaf {
    const number = serial();
    const extensions = [
      extension(OID.basicConstraints, sequence(), true),
      extension(OID.authorityKeyId, sequence(contextTag(0, this.keyId, false))),
      subjectAltNameExtension(request.identifiers, false),
    ];
    const subject = name(request.identifiers[0].value);
    const der = this.#sign(number, subject, request.spki, request.notBefore, request.notAfter, extensions);
    return {
      pem: `${pemEncode('CERTIFICATE', der)}${this.pem}`,
      certId: `${Buffer.from(this.keyId).toString('base64url')}.${Buffer.from(number).toString('base64url')}`,
      serialHex: Buffer.from(number).toString('hex'),
    };
  }

  #sign(number: Uint8Array, subject: Uint8Array, spki: Uint8Array, notBefore: number, notAfter: number, extensions: Uint8Array[]): Uint8Array {
    const tbs = sequence(
      contextTag(0, smallInteger(2), true),
      tlv(TAG.integer, number),
      ECDSA_SHA256,
      this.#name,
      sequence(time(notBefore), time(notAfter)),
      subject,
      spki,
      contextTag(3, sequence(...extensions), true),
    );
    return sequence(tbs, ECDSA_SHA256, bitString(sign('sha256', tbs, this.#key)));
  }
}

/** The SubjectPublicKeyInfo of a DER CSR (RFC 2986: info = version, subject, spki, attributes). */
export function csrPublicKeyInfo(csrDer: Uint8Array): Uint8Array {
  const [info] = childrenOf(decodeOne(csrDer, 'CSR'), TAG.sequence, 'CSR');
  return present(childrenOf(present(info, 'CSR'), TAG.sequence, 'CSR')[2], 'CSR').raw;
}

/** Positive, 16 bytes, no leading zero byte needed. */
function serial(): Uint8Array {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] & 0x7f) | 0x01;
  return bytes;
}

function name(commonName: string): Uint8Array {
  return sequence(setOf(sequence(objectIdentifier(OID.commonName), utf8String(commonName))));
}

function extension(oid: string, value: Uint8Array, critical = false): Uint8Array {
  return sequence(objectIdentifier(oid), ...(critical ? [boolean(true)] : []), octetString(value));
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime after; whole seconds. */
function time(ms: number): Uint8Array {
  const iso = new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/[-:T]/g, '').replace(/\.000Z$/, 'Z');
  const year = Number(iso.slice(0, 4));
  return year < 2050 ? tlv(TAG.utcTime, Buffer.from(iso.slice(2), 'latin1')) : tlv(TAG.generalizedTime, Buffer.from(iso, 'latin1'));
}
