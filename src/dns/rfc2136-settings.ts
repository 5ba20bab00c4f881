// The rfc2136 provider's settings (ZoneConfig.settings), checked once at create().
// Messages name the setting at fault and never echo a secret.
import { parseServer, type ServerAddress } from './transport.ts';
import { isTsigAlgorithm, type TsigKey } from './tsig.ts';
import type { ZoneConfig } from './provider.ts';

export interface Rfc2136Settings {
  zone: string;
  server: ServerAddress;
  /** Absent when the server accepts unsigned updates (e.g. allow-update by address). */
  key?: TsigKey;
  ttl: number;
}

export const DEFAULT_TTL = 60;

export function parseRfc2136Settings(config: ZoneConfig): Rfc2136Settings {
  const { settings } = config;
  if (!settings.server)
    throw new Error(`rfc2136 zone ${config.zone}: setting "server" (host:port) is required`);
  const server = parseServer(settings.server);
  return {
    zone: config.zone.replace(/\.$/, '').toLowerCase(),
    server,
    key: parseKey(config),
    ttl: parseTtl(config),
  };
}

function parseKey(config: ZoneConfig): TsigKey | undefined {
  const { tsigKey, tsigSecret, tsigAlgorithm } = config.settings;
  if (!tsigKey && !tsigSecret) return undefined;
  if (!tsigKey || !tsigSecret) {
    throw new Error(`rfc2136 zone ${config.zone}: give both "tsigKey" and "tsigSecret", or neither`);
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(tsigSecret)) {
    throw new Error(`rfc2136 zone ${config.zone}: "tsigSecret" is not base64 (as in BIND's key "secret")`);
  }
  const algorithm = (tsigAlgorithm || 'hmac-sha256').toLowerCase().replace(/\.$/, '');
  if (!isTsigAlgorithm(algorithm)) {
    throw new Error(`rfc2136 zone ${config.zone}: "tsigAlgorithm" must be hmac-sha256 or hmac-sha512`);
  }
  return { name: tsigKey.replace(/\.$/, ''), algorithm, secret: tsigSecret };
}

function parseTtl(config: ZoneConfig): number {
  const text = config.settings.ttl;
  if (text === undefined || text === '') return DEFAULT_TTL;
  const ttl = Number(text);
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > 86400) {
    throw new Error(`rfc2136 zone ${config.zone}: "ttl" must be whole seconds from 0 to 86400`);
  }
  return ttl;
}
