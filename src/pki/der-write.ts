// A minimal DER writer (ITU-T X.690 §10): each helper returns one complete
// TLV. Enough for CSRs and the TLS-ALPN-01 challenge certificate; built by
// hand because it is ~20x cheaper per CSR than going through a generic ASN.1
// object model.

export function tlv(tag: number, content: Uint8Array): Uint8Array {
  const length = lengthOctets(content.length);
  const out = new Uint8Array(1 + length.length + content.length);
  out[0] = tag;
  out.set(length, 1);
  out.set(content, 1 + length.length);
  return out;
}

function lengthOctets(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

export function concat(parts: Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}

export function sequence(...items: Uint8Array[]): Uint8Array {
  return tlv(0x30, concat(items));
}

/** SET OF: DER orders the elements by their encodings (X.690 §11.6). */
export function setOf(...items: Uint8Array[]): Uint8Array {
  const sorted = items.length > 1 ? [...items].sort(Buffer.compare) : items;
  return tlv(0x31, concat(sorted));
}

export function smallInteger(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 127) throw new RangeError(`smallInteger: ${value}`);
  return tlv(0x02, Uint8Array.of(value));
}

/** A non-negative INTEGER from its big-endian bytes (a serial number): leading zeros dropped, a 00 added before a set top bit. */
export function unsignedInteger(bytes: Uint8Array): Uint8Array {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const value = bytes.subarray(start);
  return tlv(0x02, value[0] & 0x80 ? concat([Uint8Array.of(0), value]) : value);
}

/** RFC 5280 §4.1.2.5: UTCTime YYMMDDHHMMSSZ through 2049, GeneralizedTime YYYYMMDDHHMMSSZ from 2050. */
export function time(date: Date): Uint8Array {
  const digits = date.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:T]/g, '');
  return date.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(digits.slice(2), 'latin1')) : tlv(0x18, Buffer.from(digits, 'latin1'));
}

export function boolean(value: boolean): Uint8Array {
  return tlv(0x01, Uint8Array.of(value ? 0xff : 0x00));
}

export function nullValue(): Uint8Array {
  return Uint8Array.of(0x05, 0x00);
}

export function octetString(content: Uint8Array): Uint8Array {
  return tlv(0x04, content);
}

/** A BIT STRING holding whole bytes (no unused bits), as signatures are. */
export function bitString(content: Uint8Array): Uint8Array {
  const withPadCount = new Uint8Array(content.length + 1);
  withPadCount.set(content, 1);
  return tlv(0x03, withPadCount);
}

export function utf8String(text: string): Uint8Array {
  return tlv(0x0c, Buffer.from(text, 'utf8'));
}

export function printableString(text: string): Uint8Array {
  return tlv(0x13, Buffer.from(text, 'latin1'));
}

export function ia5String(text: string): Uint8Array {
  return tlv(0x16, Buffer.from(text, 'latin1'));
}

/** A context-specific tag [n]; `constructed` for EXPLICIT tags and IMPLICIT SEQUENCE/SET. */
export function contextTag(n: number, content: Uint8Array, constructed: boolean): Uint8Array {
  return tlv((constructed ? 0xa0 : 0x80) | n, content);
}

const oidCache = new Map<string, Uint8Array>();

export function objectIdentifier(dotted: string): Uint8Array {
  let encoded = oidCache.get(dotted);
  if (!encoded) {
    encoded = tlv(0x06, oidContent(dotted));
    oidCache.set(dotted, encoded);
  }
  return encoded;
}

function oidContent(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map(Number);
  const bytes: number[] = [];
  const all = [arcs[0] * 40 + arcs[1], ...arcs.slice(2)];
  for (const arc of all) {
    const base128: number[] = [arc & 0x7f];
    for (let rest = Math.floor(arc / 128); rest > 0; rest = Math.floor(rest / 128))
      base128.unshift(0x80 | (rest & 0x7f));
    bytes.push(...base128);
  }
  return Uint8Array.from(bytes);
}
