// HOST:PORT in one place: listen options, DNS servers (--nameserver, --resolver
// and the DNS library's own), deploy verify addresses. A leaf: node built-ins
// and errors.ts only, so the DNS and deploy libraries can read addresses too.
import { isIPv6 } from 'node:net';
import { UsageError } from './errors.ts';

export interface Address {
  host: string;
  port: number;
}

/**
 * 'host:port' or '[v6]:port'; with `defaultPort` also 'host', '[v6]' or a bare
 * IPv6 address. Throws a plain Error saying what is wrong with it (callers
 * word it for their field).
 */
export function splitAddress(text: string, defaultPort?: number): Address {
  const value = String(text).trim();
  const bracketed = /^\[([^\]]+)\](?::([^:]*))?$/.exec(value);
  if (bracketed) {
    if (!isIPv6(bracketed[1])) throw new Error(`${bracketed[1]} is not an IPv6 address`);
    return { host: bracketed[1], port: portOf(bracketed[2], defaultPort) };
  }
  if (isIPv6(value)) return { host: value, port: portOf(undefined, defaultPort) };
  const [host, port, extra] = value.split(':');
  if (!host || /\s/.test(host) || extra !== undefined) throw new Error('expected host:port');
  return { host, port: portOf(port, defaultPort) };
}

function portOf(text: string | undefined, defaultPort: number | undefined): number {
  if (text === undefined) {
    if (defaultPort === undefined) throw new Error('the port is missing');
    return defaultPort;
  }
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) throw new Error('port must be 1-65535');
  return port;
}

/** An option's or field's address, refused with it named: 'host:port', '[v6]:port'; without a port only when `defaultPort` is given. */
export function parseAddress(text: string, option: string, defaultPort?: number): Address {
  try {
    return splitAddress(text, defaultPort);
  } catch {
    const form = defaultPort ? `HOST[:PORT] (port ${defaultPort} when omitted)` : 'HOST:PORT';
    throw new UsageError(
      `${option}: "${text}" must be ${form}, IPv6 as [ADDRESS]:PORT, e.g. 127.0.0.1:${defaultPort ?? 8080}`,
      option.replace(/^--/, ''),
    );
  }
}

/** The canonical text of an address, e.g. 127.0.0.1:53 or [::1]:53. */
export function addressText(address: Address): string {
  return isIPv6(address.host) ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
