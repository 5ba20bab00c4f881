// HOST:PORT options (--listen, --nameserver, --resolver), read by the DNS
// library's one parser and refused with the option named.
import { formatServer, parseServer } from './dns/transport.ts';
import { UsageError } from './errors.ts';

export interface Address {
  host: string;
  port: number;
}

/** 'host:port', '[v6]:port'; without a port only when `defaultPort` is given. */
export function parseAddress(text: string, option: string, defaultPort?: number): Address {
  try {
    const address = parseServer(text, defaultPort ?? 0);
    if (address.port === 0) throw new Error('no port');
    return address;
  } catch {
    const form = defaultPort ? `HOST[:PORT] (port ${defaultPort} when omitted)` : 'HOST:PORT';
    throw new UsageError(`${option}: "${text}" must be ${form}, e.g. 127.0.0.1:${defaultPort ?? 8080}`, option.replace(/^--/, ''));
  }
}

/** The canonical text of an address, e.g. 127.0.0.1:53 or [::1]:53. */
export function addressText(address: Address): string {
  return formatServer(address);
}
