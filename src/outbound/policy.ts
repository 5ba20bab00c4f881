// Which addresses the server may connect to for a tenant (DESIGN.md, trust
// boundaries): public ones, and the ranges the operator allowed with
// `certkeep serve --allow-outbound CIDR`. Loopback, private, link-local and the
// other special-purpose ranges (IANA's registries) are refused otherwise.
import { lookup } from 'node:dns/promises';
import { BlockList, isIP, isIPv4 } from 'node:net';

const NON_PUBLIC: [string, number][] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
  ['::', 128],
  ['::1', 128],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001::', 23],
  ['2001:db8::', 32],
  ['2002::', 16],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
];

const ALLOW_OUTBOUND = '--allow-outbound';

/** The server refused to connect: the address is not public and no allowed range holds it. */
export class OutboundRefusedError extends Error {
  readonly code = 'ECERTKEEP_OUTBOUND';
  constructor(host: string, address: string) {
    super(
      `${host}${host === address ? '' : ` (${address})`} is not a public address; the server connects to loopback, ` +
        `private and reserved ranges only where its operator allows them (certkeep serve ${ALLOW_OUTBOUND} CIDR)`,
    );
    this.name = 'OutboundRefusedError';
  }
}

export class OutboundPolicy {
  readonly #nonPublic = new BlockList();
  readonly #allowed = new BlockList();
  /** The ranges the operator allowed, as given. */
  readonly allowedRanges: readonly string[];

  /** `allow`: CIDRs (or single addresses) that may be reached although they are not public. */
  constructor(allow: readonly string[] = []) {
    for (const [network, prefix] of NON_PUBLIC) this.#nonPublic.addSubnet(network, prefix, isIPv4(network) ? 'ipv4' : 'ipv6');
    for (const range of allow) {
      const { network, prefix } = parseCidr(range);
      this.#allowed.addSubnet(network, prefix, isIPv4(network) ? 'ipv4' : 'ipv6');
    }
    this.allowedRanges = [...allow];
  }

  /** Whether an IP address may be connected to. */
  allows(address: string): boolean {
    const ip = plainAddress(address);
    const family = isIPv4(ip) ? 'ipv4' : 'ipv6';
    if (this.#allowed.check(ip, family)) return true;
    const embedded = embeddedIPv4(ip);
    if (embedded) return this.allows(embedded);
    return !this.#nonPublic.check(ip, family);
  }

  /**
   * The address to connect to for `host` (a name or an IP): the first address it
   * resolves to that is allowed. A name is resolved here, once, and the connection
   * goes to the address returned, so a name that changes its answer (DNS
   * rebinding) cannot slip a refused address in after the check.
   */
  async resolve(host: string): Promise<{ address: string; family: 4 | 6 }> {
    const literal = plainAddress(host);
    const candidates = isIP(literal)
      ? [{ address: literal, family: isIP(literal) as 4 | 6 }]
      : ((await lookup(literal, { all: true, verbatim: true })) as { address: string; family: 4 | 6 }[]);
    const allowed = candidates.find((candidate) => this.allows(candidate.address));
    if (!allowed) throw new OutboundRefusedError(host, candidates[0]?.address ?? host);
    return allowed;
  }

  /**
   * For a check when a tenant hands in an address: refused when it is, or resolves
   * only to, addresses that are not allowed. A name that does not resolve (yet) is
   * let through: the check at connection time still holds.
   */
  async check(host: string): Promise<void> {
    try {
      await this.resolve(host);
    } catch (error) {
      if (error instanceof OutboundRefusedError) throw error;
    }
  }
}

/** `10.0.0.0/8`, `fd00::/8`, or a single address (a /32 or /128). */
export function parseCidr(text: string): { network: string; prefix: number } {
  const [network, prefixText, extra] = text.trim().split('/');
  const family = isIP(network ?? '');
  const max = family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!family || extra !== undefined || !/^\d+$/.test(prefixText ?? String(max)) || prefix > max) {
    throw new Error(`"${text}" is not an address range; write it as CIDR, e.g. 10.0.0.0/8, 127.0.0.0/8 or fd00::/8`);
  }
  return { network, prefix };
}

/** Without the brackets of a URL's IPv6 host, or an IPv6 zone. */
function plainAddress(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
}

/** The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d) or NAT64 (64:ff9b::/96) address. */
function embeddedIPv4(ip: string): string | undefined {
  if (isIPv4(ip)) return undefined;
  const match = /^(?:::ffff:|64:ff9b::)(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(ip);
  if (!match) return undefined;
  if (match[1]) return match[1];
  const high = Number.parseInt(match[2], 16);
  const low = Number.parseInt(match[3], 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}
