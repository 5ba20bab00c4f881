// Where the DNS-01 TXT record has to be written: `_acme-challenge.<domain>`
// (RFC 8555 §8.4), or wherever a CNAME chain from there leads, since the CA
// follows CNAMEs when it looks the record up.
import { askFirst, type LookupOptions, systemResolvers } from './lookup.ts';
import { nameData } from './query.ts';

const PREFIX = '_acme-challenge.';
const MAX_CNAME_DEPTH = 8;

/** `foo.example.test` or `*.example.test` → `_acme-challenge.foo.example.test` / `_acme-challenge.example.test`. */
export function challengeRecordName(domain: string): string {
  const name = domain.replace(/\.$/, '').replace(/^\*\./, '');
  return name.toLowerCase().startsWith(PREFIX) ? name : `${PREFIX}${name}`;
}

/**
 * Follows the CNAME chain at `_acme-challenge.<domain>` and returns the name the
 * TXT record must be written at (the name itself when there is no CNAME).
 * Asks `nameservers` first when given, then the resolvers: a CNAME often leads
 * into a zone the configured nameservers do not serve (and answer REFUSED for).
 */
export async function resolveChallengeName(domain: string, opts: LookupOptions = {}): Promise<string> {
  const servers = discoveryServers(opts);
  const start = challengeRecordName(domain);
  const seen = new Set<string>();
  let current = start;
  for (let depth = 0; depth <= MAX_CNAME_DEPTH; depth++) {
    seen.add(current.toLowerCase());
    const response = await askFirst(servers, current, 'CNAME', opts.signal);
    const [cname] = nameData(response.answers, 'CNAME', current);
    if (cname === undefined) return current;
    const target = cname.replace(/\.$/, '');
    if (seen.has(target.toLowerCase()))
      throw new Error(`CNAME loop at ${start}: ${[...seen, target].join(' → ')}`);
    current = target;
  }
  throw new Error(`CNAME chain at ${start} is longer than ${MAX_CNAME_DEPTH} links`);
}

function discoveryServers(opts: LookupOptions): string[] {
  const nameservers = opts.nameservers ?? [];
  if (opts.resolvers) return [...nameservers, ...opts.resolvers];
  if (nameservers.length === 0) return systemResolvers();
  try {
    return [...nameservers, ...systemResolvers()];
  } catch {
    return nameservers;
  }
}
