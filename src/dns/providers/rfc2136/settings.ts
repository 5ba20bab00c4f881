// The rfc2136 provider's settings (ZoneConfig.settings): described as data and
// checked once at create(). Messages name the setting at fault and never echo a secret.
import { type ProviderDefinition, ProviderSettingsError, requireSettings, type ZoneConfig } from '../../provider.ts';
import { parseServer, type ServerAddress } from '../../transport.ts';
import { isTsigAlgorithm, type TsigKey } from '../../tsig.ts';

export const RFC2136_DESCRIPTION = {
  name: 'rfc2136',
  description: 'DNS UPDATE (RFC 2136) with a TSIG key, for BIND, Knot, PowerDNS and other servers',
  required: { server: 'primary server that accepts updates, host:port (port 53 if omitted)' },
  optional: {
    tsigKey: 'TSIG key name (as in the server configuration)',
    tsigSecret: 'TSIG secret, base64',
    tsigAlgorithm: 'hmac-sha256 (default) or hmac-sha512',
    ttl: 'TTL of the challenge TXT record in seconds (default 60)',
  },
  secrets: ['tsigSecret'],
} satisfies Omit<ProviderDefinition, 'create'>;

export interface Rfc2136Settings {
  zone: string;
  server: ServerAddress;
  /** Absent when the server accepts unsigned updates (e.g. allow-update by address). */
  key?: TsigKey;
  ttl: number;
}

export const DEFAULT_TTL = 60;

export function parseRfc2136Settings(config: ZoneConfig): Rfc2136Settings {
  const settings = requireSettings(RFC2136_DESCRIPTION, config);
  const server = parseSetting('server', () => parseServer(settings.server));
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
    throw new ProviderSettingsError(`rfc2136 zone ${config.zone}: give both "tsigKey" and "tsigSecret", or neither`, tsigKey ? 'tsigSecret' : 'tsigKey');
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(tsigSecret)) {
    throw new ProviderSettingsError(`rfc2136 zone ${config.zone}: "tsigSecret" is not base64 (as in BIND's key "secret")`, 'tsigSecret');
  }
  const algorithm = (tsigAlgorithm || 'hmac-sha256').toLowerCase().replace(/\.$/, '');
  if (!isTsigAlgorithm(algorithm)) {
    throw new ProviderSettingsError(`rfc2136 zone ${config.zone}: "tsigAlgorithm" must be hmac-sha256 or hmac-sha512`, 'tsigAlgorithm');
  }
  return { name: tsigKey.replace(/\.$/, ''), algorithm, secret: tsigSecret };
}

function parseTtl(config: ZoneConfig): number {
  const text = config.settings.ttl;
  if (text === undefined || text === '') return DEFAULT_TTL;
  const ttl = Number(text);
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > 86400) {
    throw new ProviderSettingsError(`rfc2136 zone ${config.zone}: "ttl" must be whole seconds from 0 to 86400`, 'ttl');
  }
  return ttl;
}

/** A setting parsed by another module's function, whose error is then about that setting. */
function parseSetting<T>(setting: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new ProviderSettingsError((error as Error).message, setting);
  }
}
