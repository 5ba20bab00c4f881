// PEM (RFC 7468): finding blocks in text that may have CRLF line ends, odd
// indentation or explanatory text around them, and writing them back in the
// strict form (64-character lines, LF, one trailing newline).
import { PkiInputError } from './errors.ts';

export function pemEncode(label: string, der: Uint8Array): string {
  const base64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  let lines = '';
  for (let i = 0; i < base64.length; i += 64) lines += `${base64.slice(i, i + 64)}\n`;
  return `-----BEGIN ${label}-----\n${lines}-----END ${label}-----\n`;
}

/** The DER contents of the `label` blocks in `text`, in order, at most `limit` of them; [] when there is none. */
export function pemBlocks(text: string, label: string, what: string, limit = Infinity): Uint8Array[] {
  const begin = `-----BEGIN ${label}-----`;
  const end = `-----END ${label}-----`;
  const blocks: Uint8Array[] = [];
  for (let at = text.indexOf(begin); at !== -1 && blocks.length < limit; at = text.indexOf(begin, at)) {
    const bodyStart = at + begin.length;
    const bodyEnd = text.indexOf(end, bodyStart);
    const nextBegin = text.indexOf(begin, bodyStart);
    if (bodyEnd === -1 || (nextBegin !== -1 && nextBegin < bodyEnd)) {
      throw new PkiInputError(`${what}: a "${begin}" block has no matching "${end}" line`);
    }
    blocks.push(decodeBody(text.slice(bodyStart, bodyEnd), blocks.length + 1, what));
    at = bodyEnd + end.length;
  }
  return blocks;
}

function decodeBody(body: string, index: number, what: string): Uint8Array {
  const base64 = body.replace(/\s+/g, '');
  const bytes = Buffer.from(base64, 'base64');
  // Node skips characters that are not base64; encoding back shows whether any were there.
  if (bytes.length === 0 || bytes.toString('base64') !== base64) {
    throw new PkiInputError(`${what}: PEM block ${index} is not valid base64`);
  }
  return new Uint8Array(bytes);
}

/** DER bytes from PEM text, PEM bytes or DER bytes (the first block of the first of `labels` found). */
export function derFrom(input: string | Uint8Array, labels: string[], what: string): Uint8Array {
  if (typeof input !== 'string') {
    if (input.length > 0 && input[0] === 0x30) return input; // a DER SEQUENCE
    return derFrom(Buffer.from(input).toString('latin1'), labels, what);
  }
  for (const label of labels) {
    const [first] = pemBlocks(input, label, what, 1);
    if (first) return first;
  }
  throw new PkiInputError(`${what}: no "-----BEGIN ${labels[0]}-----" PEM block found`);
}
