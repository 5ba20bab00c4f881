// `certkeep serve`'s options for what the operator allows tenants (commands,
// outbound ranges) and for how the API treats its connections (timeouts, the
// connection cap, trusted proxies), read and checked in one place.
import { isAbsolute } from 'node:path';
import type { Command } from 'commander';
import { parseCidr, type TenantLimitOptions } from '../../engine/index.ts';
import { UsageError } from '../../errors.ts';
import type { ApiBuildOptions } from '../surfaces.ts';
import { collect, wholeNumber } from './options.ts';

export interface ServeLimitFlags {
  allowExec: string[];
  allowOutbound: string[];
  trustProxy: string[];
  requestTimeout: string;
  maxConnections: string;
}

export function limitOptions(command: Command): Command {
  return command
    .option('--allow-exec <path>', 'a program the exec DNS provider may run for tenants (repeat for more); none by default', collect, [])
    .option(
      '--allow-outbound <cidr>',
      "a private or loopback range tenants' URLs and DNS servers may reach (repeat for more); by default only public addresses",
      collect,
      [],
    )
    .option('--request-timeout <seconds>', 'a client must send its whole request within this (headers within 10 s)', '30')
    .option('--max-connections <n>', 'connections the API holds at once; more are closed as they arrive', '10000')
    .option('--trust-proxy <cidr>', 'a reverse proxy whose X-Forwarded-For names the client (repeat for more); none by default', collect, []);
}

export function readServeLimits(flags: ServeLimitFlags): {
  tenants: Omit<TenantLimitOptions, 'operatorCaUrls' | 'log'>;
  connections: NonNullable<ApiBuildOptions['connections']>;
  trustProxy: string[];
} {
  for (const path of flags.allowExec) {
    if (!isAbsolute(path)) throw new UsageError(`--allow-exec: "${path}" must be an absolute path, e.g. /usr/local/bin/dns-hook`, 'allow-exec');
  }
  return {
    tenants: { allowExec: flags.allowExec, allowOutbound: ranges(flags.allowOutbound, '--allow-outbound') },
    connections: {
      requestTimeoutMs: wholeNumber(flags.requestTimeout, '--request-timeout', 1, 3600) * 1000,
      maxConnections: wholeNumber(flags.maxConnections, '--max-connections', 1, 1_000_000),
    },
    trustProxy: ranges(flags.trustProxy, '--trust-proxy'),
  };
}

function ranges(values: string[], option: string): string[] {
  for (const value of values) {
    try {
      parseCidr(value);
    } catch (error) {
      throw new UsageError(`${option}: ${(error as Error).message}`, option.slice(2));
    }
  }
  return values;
}
