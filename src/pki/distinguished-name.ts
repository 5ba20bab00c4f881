// X.501 distinguished names: building a CSR subject from user fields, and
// reading any Name back as RFC 4514 text.
import { type Der, childrenOf, expectTag, oidToString, present, TAG } from './der-read.ts';
import { ia5String, objectIdentifier, printableString, sequence, setOf, utf8String } from './der-write.ts';

/** Optional subject fields for a CSR (CAs that validate domains only usually ignore them). */
export interface CsrSubject {
  organization?: string;
  organizationalUnit?: string;
  /** ISO 3166 two-letter code, e.g. "DE". */
  country?: string;
  state?: string;
  locality?: string;
  email?: string;
}

export interface SubjectProblem {
  field: keyof CsrSubject;
  reason: string;
}

const OID = {
  commonName: '2.5.4.3',
  country: '2.5.4.6',
  locality: '2.5.4.7',
  state: '2.5.4.8',
  organization: '2.5.4.10',
  organizationalUnit: '2.5.4.11',
  email: '1.2.840.113549.1.9.1',
} as const;

/** Upper bounds from RFC 5280 Appendix A.1 (ub-*). */
const MAX_LENGTH: Record<keyof CsrSubject, number> = {
  organization: 64,
  organizationalUnit: 64,
  country: 2,
  state: 128,
  locality: 128,
  email: 255,
};

export const MAX_COMMON_NAME_LENGTH = 64;

/** DER order of the subject: the conventional C, ST, L, O, OU, CN, emailAddress. */
const FIELD_ORDER: (keyof CsrSubject)[] = [
  'country',
  'state',
  'locality',
  'organization',
  'organizationalUnit',
];

/** The first field that cannot go into an X.509 name, and why; null when all can. Empty fields count as absent. */
export function validateCsrSubject(subject: CsrSubject): SubjectProblem | null {
  for (const field of Object.keys(MAX_LENGTH) as (keyof CsrSubject)[]) {
    const raw: unknown = subject[field];
    if (raw === undefined || raw === null) continue;
    if (typeof raw !== 'string') return { field, reason: 'must be text' };
    const value = raw.trim();
    if (!value) continue;
    const reason = fieldProblem(field, value);
    if (reason) return { field, reason };
  }
  return null;
}

function fieldProblem(field: keyof CsrSubject, value: string): string | null {
  if (field === 'country')
    return /^[A-Za-z]{2}$/.test(value) ? null : 'must be a two-letter ISO 3166 code, e.g. "DE"';
  if (field === 'email' && !/^[\x21-\x7e]+@[\x21-\x7e]+$/.test(value)) {
    return 'must be an ASCII e-mail address like name@example.com';
  }
  if (!value.isWellFormed()) return 'contains invalid Unicode (an unpaired surrogate)';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\x00-\x1f\x7f]/.test(value)) return 'contains control characters';
  const length = [...value].length; // characters, not UTF-16 units
  if (length > MAX_LENGTH[field])
    return `is ${length} characters long; at most ${MAX_LENGTH[field]} are allowed`;
  return null;
}

/** The DER Name for a CSR. Call validateCsrSubject first; fields are trimmed, empty ones left out. */
export function encodeSubject(subject: CsrSubject, commonName: string | undefined): Uint8Array {
  const rdns: Uint8Array[] = [];
  for (const field of FIELD_ORDER) {
    const value = subject[field]?.trim();
    if (!value) continue;
    const encoded = field === 'country' ? printableString(value.toUpperCase()) : utf8String(value);
    rdns.push(rdn(OID[field], encoded));
  }
  if (commonName) rdns.push(rdn(OID.commonName, utf8String(commonName)));
  const email = subject.email?.trim();
  if (email) rdns.push(rdn(OID.email, ia5String(email)));
  return sequence(...rdns);
}

function rdn(oid: string, value: Uint8Array): Uint8Array {
  return setOf(sequence(objectIdentifier(oid), value));
}

export interface NameAttribute {
  /** Short name (CN, O, C, ...) or the dotted OID when there is none. */
  type: string;
  value: string;
}

const SHORT_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'STREET',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '0.9.2342.19200300.100.1.1': 'UID',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

/** The attributes of a Name in DER order (most significant first), multi-valued RDNs flattened. */
export function decodeName(name: Der, what: string): NameAttribute[] {
  return decodeRdns(name, what).flat();
}

/** RFC 4514 text of a Name: least significant RDN first, e.g. "CN=R3, O=Let's Encrypt, C=US". */
export function nameToString(name: Der, what: string): string {
  return decodeRdns(name, what)
    .map((rdn) => rdn.map(({ type, value }) => `${type}=${escapeValue(value)}`).join('+'))
    .reverse()
    .join(', ');
}

function decodeRdns(name: Der, what: string): NameAttribute[][] {
  return childrenOf(name, TAG.sequence, what).map((rdnSet) =>
    childrenOf(rdnSet, TAG.set, what).map((pair) => {
      const [type, value] = childrenOf(pair, TAG.sequence, what);
      const oid = oidToString(expectTag(type, TAG.oid, what).value);
      return { type: SHORT_NAMES[oid] ?? oid, value: decodeString(present(value, what)) };
    }),
  );
}

/** RFC 4514 §2.4 escaping. */
function escapeValue(value: string): string {
  return value
    .replace(/[\\,+"<>;]/g, '\\$&')
    .replace(/^[ #]/, '\\$&')
    .replace(/ $/, '\\ ');
}

function decodeString(node: Der): string {
  switch (node.tag) {
    case 0x1e: // BMPString
      return Buffer.from(node.value).swap16().toString('utf16le');
    case 0x1c: // UniversalString (UTF-32BE)
      return decodeUtf32(node.value);
    case 0x13: // PrintableString
    case 0x16: // IA5String
    case 0x14: // T61String: treated as Latin-1, as most readers do
      return Buffer.from(node.value).toString('latin1');
    default: // UTF8String and anything unexpected
      return Buffer.from(node.value).toString('utf8');
  }
}

function decodeUtf32(bytes: Uint8Array): string {
  const points: number[] = [];
  for (let i = 0; i + 3 < bytes.length; i += 4)
    points.push(((bytes[i] << 24) | (bytes[i + 1] << 16) | (bytes[i + 2] << 8) | bytes[i + 3]) >>> 0);
  return String.fromCodePoint(...points.filter((p) => p <= 0x10ffff));
}
