// DNS wire format pieces that dns-packet cannot produce: class NONE (RFC 2136
// §2.5.4), the UPDATE opcode, TSIG records (RFC 8945), and record offsets in a
// raw message (TSIG signs the exact bytes). Names are written uncompressed.
import { Buffer } from 'node:buffer';

export const TYPE = { A: 1, NS: 2, CNAME: 5, SOA: 6, TXT: 16, AAAA: 28, TSIG: 250 } as const;
export const CLASS = { IN: 1, NONE: 254, ANY: 255 } as const;
export const OPCODE_UPDATE = 5;
export const HEADER_LENGTH = 12;

/** RFC 1035 §3.3 with RFC 6895 names; 16-23 are the TSIG error codes of RFC 8945 §3. */
const RCODE_NAMES: Record<number, string> = {
  0: 'NOERROR',
  1: 'FORMERR',
  2: 'SERVFAIL',
  3: 'NXDOMAIN',
  4: 'NOTIMP',
  5: 'REFUSED',
  6: 'YXDOMAIN',
  7: 'YXRRSET',
  8: 'NXRRSET',
  9: 'NOTAUTH',
  10: 'NOTZONE',
  16: 'BADSIG',
  17: 'BADKEY',
  18: 'BADTIME',
  19: 'BADMODE',
  20: 'BADNAME',
  21: 'BADALG',
  22: 'BADTRUNC',
};

export function rcodeName(code: number): string {
  return RCODE_NAMES[code] ?? `RCODE_${code}`;
}

/** A domain name in uncompressed wire form; `lowerCase` gives the canonical form TSIG signs. */
export function encodeName(name: string, lowerCase = false): Buffer {
  const text = name.replace(/\.$/, '');
  const labels = text === '' ? [] : text.split('.');
  const parts: Buffer[] = [];
  for (const label of labels) {
    const bytes = Buffer.from(lowerCase ? label.toLowerCase() : label, 'utf8');
    if (bytes.length === 0 || bytes.length > 63) throw new Error(`invalid DNS name "${name}": bad label`);
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  const wire = Buffer.concat(parts);
  if (wire.length > 255) throw new Error(`invalid DNS name "${name}": longer than 255 bytes`);
  return wire;
}

/** TXT RDATA: the value split into character-strings of at most 255 bytes (RFC 1035 §3.3.14). */
export function encodeTxtData(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length === 0) return Buffer.from([0]);
  const parts: Buffer[] = [];
  for (let start = 0; start < bytes.length; start += 255) {
    const chunk = bytes.subarray(start, start + 255);
    parts.push(Buffer.from([chunk.length]), chunk);
  }
  return Buffer.concat(parts);
}

export interface WireRecord {
  name: string;
  type: number;
  klass: number;
  ttl: number;
  rdata: Buffer;
}

export function encodeRecord(record: WireRecord): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(record.type, 0);
  fixed.writeUInt16BE(record.klass, 2);
  fixed.writeUInt32BE(record.ttl, 4);
  fixed.writeUInt16BE(record.rdata.length, 8);
  return Buffer.concat([encodeName(record.name), fixed, record.rdata]);
}

export interface WireHeader {
  id: number;
  flags: number;
  counts: [number, number, number, number];
}

export function encodeHeader(header: WireHeader): Buffer {
  const bytes = Buffer.alloc(HEADER_LENGTH);
  bytes.writeUInt16BE(header.id, 0);
  bytes.writeUInt16BE(header.flags, 2);
  header.counts.forEach((count, index) => {
    bytes.writeUInt16BE(count, 4 + index * 2);
  });
  return bytes;
}

/** Reads a possibly compressed name (RFC 1035 §4.1.4); `end` is where the name ends at `offset`. */
export function readName(message: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let position = offset;
  let end = -1;
  for (let jumps = 0; jumps < 64; ) {
    const length = byteAt(message, position);
    if (length === 0) {
      return { name: labels.join('.'), end: end === -1 ? position + 1 : end };
    }
    if ((length & 0xc0) === 0xc0) {
      if (end === -1) end = position + 2;
      position = ((length & 0x3f) << 8) | byteAt(message, position + 1);
      jumps++;
      continue;
    }
    if (position + 1 + length > message.length)
      throw new Error('malformed DNS message: name runs past the end');
    labels.push(message.toString('utf8', position + 1, position + 1 + length));
    position += 1 + length;
  }
  throw new Error('malformed DNS message: too many compression pointers');
}

function byteAt(message: Buffer, position: number): number {
  if (position >= message.length) throw new Error('malformed DNS message: truncated name');
  return message[position];
}

export interface RawRecord {
  start: number;
  name: string;
  type: number;
  klass: number;
  ttl: number;
  rdataStart: number;
  end: number;
}

/** Every resource record of a message with its byte range, in section order. */
export function listRecords(message: Buffer): RawRecord[] {
  if (message.length < HEADER_LENGTH) throw new Error('malformed DNS message: shorter than its header');
  const questions = message.readUInt16BE(4);
  const records = message.readUInt16BE(6) + message.readUInt16BE(8) + message.readUInt16BE(10);
  let offset = HEADER_LENGTH;
  for (let i = 0; i < questions; i++) offset = readName(message, offset).end + 4;
  const list: RawRecord[] = [];
  for (let i = 0; i < records; i++) {
    const { name, end } = readName(message, offset);
    if (end + 10 > message.length) throw new Error('malformed DNS message: record header runs past the end');
    const rdataStart = end + 10;
    const recordEnd = rdataStart + message.readUInt16BE(end + 8);
    if (recordEnd > message.length) throw new Error('malformed DNS message: record data runs past the end');
    list.push({
      start: offset,
      name,
      type: message.readUInt16BE(end),
      klass: message.readUInt16BE(end + 2),
      ttl: message.readUInt32BE(end + 4),
      rdataStart,
      end: recordEnd,
    });
    offset = recordEnd;
  }
  return list;
}

/** 48-bit unsigned integer, as TSIG's Time Signed (RFC 8945 §4.2). */
export function writeUInt48(value: number): Buffer {
  const bytes = Buffer.alloc(6);
  bytes.writeUIntBE(value, 0, 6);
  return bytes;
}
