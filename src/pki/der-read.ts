// A minimal, bounds-checked DER reader: it splits bytes into TLVs and leaves
// the meaning to the caller. `what` names the structure being read so that
// an error says where the input is broken ("certificate: truncated ...").
import { PkiInputError } from './errors.ts';

export interface Der {
  tag: number;
  /** The content octets. */
  value: Uint8Array;
  /** The whole TLV (tag, length and content), e.g. for hashing or signature checks. */
  raw: Uint8Array;
}

export const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  oid: 0x06,
  sequence: 0x30,
  set: 0x31,
  utcTime: 0x17,
  generalizedTime: 0x18,
} as const;

/** Exactly one TLV covering all of `bytes`. */
export function decodeOne(bytes: Uint8Array, what: string): Der {
  const node = readAt(bytes, 0, what);
  if (node.raw.length !== bytes.length) throw malformed(what, 'trailing bytes after the DER structure');
  return node;
}

/** The consecutive TLVs inside `bytes` (the children of a constructed value). */
export function decodeAll(bytes: Uint8Array, what: string): Der[] {
  const nodes: Der[] = [];
  for (let offset = 0; offset < bytes.length; ) {
    const node = readAt(bytes, offset, what);
    nodes.push(node);
    offset += node.raw.length;
  }
  return nodes;
}

/** The children of `node`, checking its tag first. */
export function childrenOf(node: Der, tag: number, what: string): Der[] {
  expectTag(node, tag, what);
  return decodeAll(node.value, what);
}

export function present(node: Der | undefined, what: string): Der {
  if (!node) throw malformed(what, 'a required field is missing');
  return node;
}

export function expectTag(node: Der | undefined, tag: number, what: string): Der {
  if (!node) throw malformed(what, 'a required field is missing');
  if (node.tag !== tag) throw malformed(what, `expected tag 0x${hex2(tag)}, found 0x${hex2(node.tag)}`);
  return node;
}

export function oidToString(value: Uint8Array): string {
  const arcs: number[] = [];
  let arc = 0;
  for (const byte of value) {
    arc = arc * 128 + (byte & 0x7f);
    if (byte & 0x80) continue;
    if (arcs.length === 0) arcs.push(arc < 80 ? Math.floor(arc / 40) : 2, arc < 80 ? arc % 40 : arc - 80);
    else arcs.push(arc);
    arc = 0;
  }
  return arcs.join('.');
}

/** The bytes of a BIT STRING that holds whole bytes (keys, signatures). */
export function bitStringBytes(node: Der, what: string): Uint8Array {
  expectTag(node, TAG.bitString, what);
  if (node.value.length === 0 || node.value[0] !== 0) throw malformed(what, 'bit string with unused bits');
  return node.value.subarray(1);
}

export function malformed(what: string, detail: string): PkiInputError {
  return new PkiInputError(`${what}: malformed DER (${detail})`);
}

function readAt(bytes: Uint8Array, offset: number, what: string): Der {
  if (offset + 2 > bytes.length) throw malformed(what, 'truncated');
  const tag = bytes[offset];
  if ((tag & 0x1f) === 0x1f) throw malformed(what, 'multi-byte tags are not supported');
  let length = bytes[offset + 1];
  let header = 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0) throw malformed(what, 'indefinite length is not DER');
    if (count > 4) throw malformed(what, 'length too large');
    if (offset + 2 + count > bytes.length) throw malformed(what, 'truncated');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[offset + 2 + i];
    header += count;
  }
  const end = offset + header + length;
  if (end > bytes.length) throw malformed(what, 'truncated');
  return { tag, value: bytes.subarray(offset + header, end), raw: bytes.subarray(offset, end) };
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}
