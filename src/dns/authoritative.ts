// Which zone holds a name, and which servers are authoritative for it
// (RFC 1034 §4.3.2): SOA to find the apex, NS for the servers, A for their addresses.
import { isIPv6 } from 'node:net';
import type { Answer } from 'dns-packet';
import { askFirst, type LookupOptions, systemResolvers } from './lookup.ts';
import { nameData, sameName } from './query.ts';

/** The apex of the zone `name` is in, e.g. `example.test` for `_acme-challenge.foo.example.test`. */
export async function findZoneApex(name: string, opts: LookupOptions = {}): Promise<string> {
  const resolvers = opts.resolvers ?? systemResolvers();
  let candidate = name.replace(/\.$/, '').toLowerCase();
  for (;;) {
    const response = await askFirst(resolvers, candidate, 'SOA', opts.signal);
    if (response.answers.some((answer) => answer.type === 'SOA' && sameName(answer.name, candidate)))
      return candidate;
    // NXDOMAIN / NODATA carry the zone's SOA in the authority section (RFC 2308 §2.1),
    // unless a CNAME led the resolver into another zone.
    const soa = response.authorities.find((record) => record.type === 'SOA');
    const followedCname = response.answers.some((answer) => answer.type === 'CNAME');
    if (soa && !followedCname && isSubdomain(candidate, soa.name))
      return soa.name.replace(/\.$/, '').toLowerCase();
    const dot = candidate.indexOf('.');
    if (dot === -1) throw new Error(`no zone found for ${name}: no SOA record up to the root`);
    candidate = candidate.slice(dot + 1);
  }
}

/**
 * The addresses ('ip:53') of the nameservers of the zone holding `zoneOrName`.
 * IPv4 when a nameserver has it (many hosts have no IPv6 route); IPv6 otherwise.
 */
export async function findAuthoritativeServers(
  zoneOrName: string,
  opts: LookupOptions = {},
): Promise<string[]> {
  const resolvers = opts.resolvers ?? systemResolvers();
  const zone = await findZoneApex(zoneOrName, { ...opts, resolvers });
  const response = await askFirst(resolvers, zone, 'NS', opts.signal);
  const hosts = nameData(response.answers, 'NS', zone);
  if (hosts.length === 0) throw new Error(`zone ${zone} has no NS records`);
  const addresses = new Set<string>();
  for (const host of hosts) {
    for (const address of await addressesOf(host, response.additionals, resolvers, opts.signal)) {
      addresses.add(isIPv6(address) ? `[${address}]:53` : `${address}:53`);
    }
  }
  if (addresses.size === 0)
    throw new Error(`no address found for the nameservers of ${zone}: ${hosts.join(', ')}`);
  return [...addresses];
}

async function addressesOf(
  host: string,
  glue: Answer[],
  resolvers: string[],
  signal?: AbortSignal,
): Promise<string[]> {
  for (const type of ['A', 'AAAA'] as const) {
    const fromGlue = nameData(glue, type, host);
    if (fromGlue.length > 0) return fromGlue;
    const looked = nameData((await askFirst(resolvers, host, type, signal)).answers, type, host);
    if (looked.length > 0) return looked;
  }
  return [];
}

function isSubdomain(name: string, zone: string): boolean {
  const apex = zone.replace(/\.$/, '').toLowerCase();
  return apex !== '' && (name === apex || name.endsWith(`.${apex}`));
}
