// Option parsing shared by several commands.
import type { EabCredentials } from '../../engine/index.ts';
import { UsageError } from '../../errors.ts';

export function collect(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(',').map((v) => v.trim()).filter(Boolean)];
}

export function httpPortFrom(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`--http-port: "${value}" is not a port number (1-65535)`, 'httpPort');
  }
  return port;
}

export function eabFrom(options: { eabKid?: string; eabHmacKey?: string }): EabCredentials | undefined {
  if (!options.eabKid && !options.eabHmacKey) return undefined;
  if (!options.eabKid || !options.eabHmacKey) throw new UsageError('--eab-kid and --eab-hmac-key go together: give both', 'eab');
  return { kid: options.eabKid, hmacKey: options.eabHmacKey };
}
