// Lookups through a list of DNS servers: the first usable answer wins.
// Used to find zones, their nameservers and CNAME targets.
import { getServers } from 'node:dns';
import type { RecordType } from 'dns-packet';
import { type DnsResponse, queryDns } from './query.ts';

export interface LookupOptions {
  /** Servers (host:port) to query exactly; when given, discovery is skipped. */
  nameservers?: string[];
  /** Recursive resolvers for discovery (zone, NS, CNAME); default: the system's (/etc/resolv.conf). */
  resolvers?: string[];
  signal?: AbortSignal;
}

/** Only the server list is read from node:dns; queries never go through its cache. */
export function systemResolvers(): string[] {
  const servers = getServers();
  if (servers.length === 0) {
    throw new Error('no DNS resolver is configured on this machine; give the nameservers to query');
  }
  return servers;
}

const USABLE = new Set(['NOERROR', 'NXDOMAIN']);

/** Asks each server in turn (recursion desired) until one answers NOERROR or NXDOMAIN. */
export async function askFirst(
  servers: string[],
  name: string,
  type: RecordType,
  signal?: AbortSignal,
): Promise<DnsResponse> {
  const problems: string[] = [];
  for (const server of servers) {
    try {
      const response = await queryDns(server, name, type, {
        recursionDesired: true,
        timeoutMs: 2000,
        signal,
      });
      if (USABLE.has(response.rcode)) return response;
      problems.push(`${server} answered ${response.rcode}`);
    } catch (error) {
      signal?.throwIfAborted();
      problems.push(error instanceof Error ? error.message : String(error));
    }
  }
  throw new Error(`DNS lookup of ${name} ${type} failed: ${problems.join('; ')}`);
}
