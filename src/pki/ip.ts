// IP address literals <-> the bytes an iPAddress SAN holds (RFC 5280 §4.2.1.6:
// 4 octets for IPv4, 16 for IPv6), and <-> the reverse DNS names TLS-ALPN-01
// sends as SNI for them (RFC 8738 §6). Text output follows RFC 5952 (lower case,
// longest run of zero groups compressed), the form RFC 8738 §3 asks ACME for.
import { isIPv4, isIPv6 } from 'node:net';

/** The address bytes of a dotted-quad IPv4 or an IPv6 literal, or undefined if `text` is neither. */
export function ipToBytes(text: string): Uint8Array | undefined {
  if (isIPv4(text)) return Uint8Array.from(text.split('.').map(Number));
  if (isIPv6(text) && !text.includes('%')) return ipv6ToBytes(text);
  return undefined;
}

/** Canonical text of an IP literal, or undefined if `text` is not one. */
export function canonicalIp(text: string): string | undefined {
  const bytes = ipToBytes(text);
  return bytes && ipFromBytes(bytes);
}

export function ipFromBytes(bytes: Uint8Array): string {
  if (bytes.length === 4) return bytes.join('.');
  if (bytes.length !== 16) throw new RangeError(`an IP address has 4 or 16 bytes, not ${bytes.length}`);
  if (isIpv4Mapped(bytes)) return `::ffff:${bytes.subarray(12).join('.')}`; // RFC 5952 §5
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes[i] * 256 + bytes[i + 1]);
  const [runStart, runLength] = longestZeroRun(groups);
  const hex = groups.map((g) => g.toString(16));
  // RFC 5952 §4.2.2: a single zero group is not compressed.
  if (runLength < 2) return hex.join(':');
  return `${hex.slice(0, runStart).join(':')}::${hex.slice(runStart + runLength).join(':')}`;
}

/** The in-addr.arpa (RFC 1035 §3.5) or ip6.arpa (RFC 3596 §2.5) name of an IP literal; undefined if `text` is not one. */
export function reverseName(text: string): string | undefined {
  const bytes = ipToBytes(text);
  if (!bytes) return undefined;
  if (bytes.length === 4) return `${[...bytes].reverse().join('.')}.in-addr.arpa`;
  const nibbles = [...bytes].flatMap((byte) => [byte >> 4, byte & 0x0f]);
  return `${nibbles.reverse().map((n) => n.toString(16)).join('.')}.ip6.arpa`;
}

/** The canonical IP a reverse name stands for (the inverse of reverseName), or undefined when `name` is not one. */
export function ipFromReverseName(name: string): string | undefined {
  const lower = name.toLowerCase().replace(/\.$/, '');
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa$/.exec(lower);
  if (v4) return canonicalIp(v4.slice(1).reverse().join('.'));
  const v6 = /^((?:[0-9a-f]\.){32})ip6\.arpa$/.exec(lower);
  if (!v6) return undefined;
  const nibbles = v6[1].split('.').slice(0, 32).reverse().map((n) => Number.parseInt(n, 16));
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 16; i++) bytes[i] = nibbles[2 * i] * 16 + nibbles[2 * i + 1];
  return ipFromBytes(bytes);
}

function ipv6ToBytes(text: string): Uint8Array {
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups first.
  const hexOnly = text.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_, a, b, c, d) => {
    const group = (high: string, low: string) => (Number(high) * 256 + Number(low)).toString(16);
    return `${group(a, b)}:${group(c, d)}`;
  });
  const [head, rest] = hexOnly.split('::'); // isIPv6 allows at most one '::'
  const headGroups = head ? head.split(':') : [];
  const restGroups = rest ? rest.split(':') : [];
  const zeros = rest === undefined ? 0 : 8 - headGroups.length - restGroups.length;
  const groups = [...headGroups, ...Array<string>(zeros).fill('0'), ...restGroups];
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    const value = Number.parseInt(group, 16);
    bytes[i * 2] = value >> 8;
    bytes[i * 2 + 1] = value & 0xff;
  });
  return bytes;
}

function isIpv4Mapped(bytes: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

function longestZeroRun(groups: number[]): [number, number] {
  let best: [number, number] = [0, 0];
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === 0) j++;
    if (j - i > best[1]) best = [i, j - i];
    i = j;
  }
  return best;
}
