// The X.509 extensions certkeep writes or reads (RFC 5280 §4.2): subjectAltName
// and authorityKeyIdentifier.
import { type Der, childrenOf, decodeOne, malformed, oidToString, TAG } from './der-read.ts';
import { boolean, objectIdentifier, octetString, sequence, tlv } from './der-write.ts';
import { ipFromBytes, ipToBytes } from './ip.ts';
import type { Identifier } from './names.ts';

export const OID_SUBJECT_ALT_NAME = '2.5.29.17';
export const OID_AUTHORITY_KEY_ID = '2.5.29.35';

const DNS_NAME = 0x82; // [2] IMPLICIT IA5String
const IP_ADDRESS = 0x87; // [7] IMPLICIT OCTET STRING

/** A subjectAltName Extension. RFC 5280 §4.2.1.6: critical when the subject is empty. */
export function subjectAltNameExtension(identifiers: Identifier[], critical: boolean): Uint8Array {
  const names = identifiers.map((id) => {
    if (id.type === 'dns') return tlv(DNS_NAME, Buffer.from(id.value, 'latin1'));
    const bytes = ipToBytes(id.value);
    if (!bytes) throw new TypeError(`not an IP address: ${id.value}`);
    return tlv(IP_ADDRESS, bytes);
  });
  const fields = [objectIdentifier(OID_SUBJECT_ALT_NAME)];
  if (critical) fields.push(boolean(true));
  fields.push(octetString(sequence(...names)));
  return sequence(...fields);
}

/** extnValue -> extension content, keyed by OID, from an Extensions SEQUENCE. */
export function extensionValues(extensions: Der, what: string): Map<string, Uint8Array> {
  const values = new Map<string, Uint8Array>();
  for (const extension of childrenOf(extensions, TAG.sequence, what)) {
    const fields = childrenOf(extension, TAG.sequence, what);
    const value = fields[fields.length - 1];
    if (fields.length < 2 || fields[0].tag !== TAG.oid || value.tag !== TAG.octetString) {
      throw malformed(what, 'an extension is not OID, [critical], OCTET STRING');
    }
    values.set(oidToString(fields[0].value), value.value);
  }
  return values;
}

/** The DNS names (lower-cased) and IP addresses of a GeneralNames value; other name forms are skipped. */
export function decodeSubjectAltNames(extnValue: Uint8Array, what: string): Identifier[] {
  const identifiers: Identifier[] = [];
  for (const name of childrenOf(decodeOne(extnValue, what), TAG.sequence, what)) {
    if (name.tag === DNS_NAME) {
      identifiers.push({ type: 'dns', value: Buffer.from(name.value).toString('latin1').toLowerCase() });
    }
    if (name.tag === IP_ADDRESS && (name.value.length === 4 || name.value.length === 16)) {
      identifiers.push({ type: 'ip', value: ipFromBytes(name.value) });
    }
  }
  return identifiers;
}

/** The keyIdentifier of an AuthorityKeyIdentifier extension value, if it has one. */
export function authorityKeyIdentifier(extnValue: Uint8Array, what: string): Uint8Array | undefined {
  const keyIdentifier = childrenOf(decodeOne(extnValue, what), TAG.sequence, what).find(
    (f) => f.tag === 0x80,
  );
  return keyIdentifier?.value;
}
