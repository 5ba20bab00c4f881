// Reading an X.509 certificate (RFC 5280 §4.1) — the fields certkeep stores,
// shows and needs for renewal — straight from its DER.
import { hash } from 'node:crypto';
import { childrenOf, type Der, decodeOne, expectTag, malformed, present, TAG } from './der-read.ts';
import { decodeName, nameToString } from './distinguished-name.ts';
import { PkiInputError } from './errors.ts';
import {
  authorityKeyIdentifier,
  decodeSubjectAltNames,
  extensionValues,
  OID_AUTHORITY_KEY_ID,
  OID_SUBJECT_ALT_NAME,
} from './extensions.ts';
import type { Identifier } from './names.ts';
import { derFrom, pemEncode } from './pem.ts';

export interface ParsedCertificate {
  /**
   * Lower-case hex of the serial number's value in whole bytes, without the
   * 00 byte DER puts in front of a value whose top bit is set:
   * DER 02 03 00 ff 01 -> "ff01"; DER 02 01 0a -> "0a".
   */
  serial: string;
  notBefore: Date;
  notAfter: Date;
  /** subjectAltName DNS names and IP addresses, in certificate order. */
  identifiers: Identifier[];
  commonName?: string;
  /** RFC 4514 text, e.g. "CN=example.com". */
  subject: string;
  issuer: string;
  /** The issuer's CN, by which certbot and lego name a chain (--preferred-chain). */
  issuerCommonName?: string;
  /** Lower-case hex of the AuthorityKeyIdentifier keyIdentifier. */
  authorityKeyId?: string;
  /** RFC 9773 §4.1 CertID; absent when the certificate has no AKI keyIdentifier. */
  ariCertId?: string;
  /** Lower-case hex SHA-256 of the DER, no separators. */
  fingerprintSha256: string;
  /** This certificate alone, as normalized PEM. */
  pem: string;
  der: Uint8Array;
}

const WHAT = 'certificate';

/** Parses a certificate from PEM (the first one, i.e. the leaf of a chain) or DER. */
export function parseCertificate(pem: string | Uint8Array): ParsedCertificate {
  const der = derFrom(pem, ['CERTIFICATE'], WHAT);
  const fields = tbsFields(der);
  const extensions = fields.extensions
    ? extensionValues(fields.extensions, WHAT)
    : new Map<string, Uint8Array>();
  const san = extensions.get(OID_SUBJECT_ALT_NAME);
  const aki = extensions.get(OID_AUTHORITY_KEY_ID);
  const keyIdentifier = aki && authorityKeyIdentifier(aki, WHAT);
  const [notBefore, notAfter] = childrenOf(fields.validity, TAG.sequence, WHAT);
  return {
    serial: serialHex(fields.serial.value),
    notBefore: readTime(present(notBefore, WHAT)),
    notAfter: readTime(present(notAfter, WHAT)),
    identifiers: san ? decodeSubjectAltNames(san, WHAT) : [],
    commonName: decodeName(fields.subject, WHAT).findLast((a) => a.type === 'CN')?.value,
    subject: nameToString(fields.subject, WHAT),
    issuer: nameToString(fields.issuer, WHAT),
    issuerCommonName: decodeName(fields.issuer, WHAT).findLast((a) => a.type === 'CN')?.value,
    authorityKeyId: keyIdentifier && Buffer.from(keyIdentifier).toString('hex'),
    ariCertId: keyIdentifier && formatAriCertId(keyIdentifier, fields.serial.value),
    fingerprintSha256: hash('sha256', der, 'hex'),
    pem: pemEncode('CERTIFICATE', der),
    der,
  };
}

/**
 * The ARI CertID (RFC 9773 §4.1): base64url(AKI keyIdentifier) "." base64url(serial
 * INTEGER content octets, including a leading 00), both without padding.
 */
export function ariCertId(certPem: string): string {
  const id = parseCertificate(certPem).ariCertId;
  if (!id) {
    throw new PkiInputError(
      'the certificate has no Authority Key Identifier, so it has no ARI CertID (RFC 9773 §4.1)',
    );
  }
  return id;
}

/** The DER of the first certificate in `pem`. */
export function certificateDer(pem: string): Uint8Array {
  const der = derFrom(pem, ['CERTIFICATE'], WHAT);
  decodeOne(der, WHAT);
  return der;
}

interface TbsFields {
  serial: Der;
  issuer: Der;
  validity: Der;
  subject: Der;
  extensions?: Der;
}

function tbsFields(der: Uint8Array): TbsFields {
  const [tbs] = childrenOf(decodeOne(der, WHAT), TAG.sequence, WHAT);
  const fields = childrenOf(present(tbs, WHAT), TAG.sequence, WHAT);
  const start = fields[0]?.tag === 0xa0 ? 1 : 0; // [0] EXPLICIT version, absent for v1
  const [serial, , issuer, validity, subject] = fields.slice(start);
  const extensionsWrapper = fields.find((f) => f.tag === 0xa3); // [3] EXPLICIT Extensions
  return {
    serial: expectTag(serial, TAG.integer, WHAT),
    issuer: expectTag(issuer, TAG.sequence, WHAT),
    validity: expectTag(validity, TAG.sequence, WHAT),
    subject: expectTag(subject, TAG.sequence, WHAT),
    extensions: extensionsWrapper && decodeOne(extensionsWrapper.value, WHAT),
  };
}

function serialHex(content: Uint8Array): string {
  const value = content.length > 1 && content[0] === 0 ? content.subarray(1) : content;
  return Buffer.from(value).toString('hex');
}

function formatAriCertId(keyIdentifier: Uint8Array, serialContent: Uint8Array): string {
  return `${Buffer.from(keyIdentifier).toString('base64url')}.${Buffer.from(serialContent).toString('base64url')}`;
}

/** RFC 5280 §4.1.2.5: UTCTime YYMMDDHHMMSSZ (YY < 50 is 20YY) or GeneralizedTime YYYYMMDDHHMMSSZ. */
function readTime(node: Der): Date {
  const text = Buffer.from(node.value).toString('latin1');
  const match =
    node.tag === TAG.utcTime
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
      : node.tag === TAG.generalizedTime
        ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.\d+)?Z$/.exec(text)
        : null;
  if (!match) throw malformed(WHAT, `validity time ${JSON.stringify(text)} is not a UTC time`);
  const [, y, mo, d, h, mi, s] = match.map(Number);
  const year = node.tag === TAG.utcTime ? (y < 50 ? 2000 + y : 1900 + y) : y;
  return new Date(Date.UTC(year, mo - 1, d, h, mi, s));
}
