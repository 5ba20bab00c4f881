// Option parsing shared by several commands.
import type { EabCredentials } from '../../engine/index.ts';
import { UsageError } from '../../errors.ts';

export function collect(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(',').map((v) => v.trim()).filter(Boolean)];
}

/** A whole-number option within its bounds, or a usage error naming the option. */
export function wholeNumber(text: string, option: string, min: number, max = 1000): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`${option}: "${text}" must be a whole number from ${min} to ${max}`, option.slice(2));
  }
  return value;
}

/** A port option's value (--http-port, --tls-port); undefined when it was not given. */
export function portFrom(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`${option}: "${value}" is not a port number (1-65535)`, option.slice(2));
  }
  return port;
}

export function eabFrom(options: { eabKid?: string; eabHmacKey?: string }): EabCredentials | undefined {
  if (!options.eabKid && !options.eabHmacKey) return undefined;
  if (!options.eabKid || !options.eabHmacKey) throw new UsageError('--eab-kid and --eab-hmac-key go together: give both', 'eab');
  return { kid: options.eabKid, hmacKey: options.eabHmacKey };
}
