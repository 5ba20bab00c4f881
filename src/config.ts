// One typed configuration: flags > environment (CERTKEEP_*) > file > defaults.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { addressText, parseAddress } from './address.ts';
import { UsageError } from './errors.ts';

export const CA_SHORTCUTS: Record<string, string> = {
  letsencrypt: 'https://acme-v02.api.letsencrypt.org/directory',
  'letsencrypt-staging': 'https://acme-staging-v02.api.letsencrypt.org/directory',
  zerossl: 'https://acme.zerossl.com/v2/DV90',
  google: 'https://dv.acme-v02.api.pki.goog/directory',
  'google-staging': 'https://dv.acme-v02.test-api.pki.goog/directory',
  buypass: 'https://api.buypass.com/acme/directory',
};

export interface Config {
  dataDir: string;
  databaseUrl: string | undefined;
  masterKey: string | undefined;
  ca: string; // directory URL
  caCertFile: string | undefined;
  caCertPem: string | undefined;
  email: string | undefined;
  /** Recursive resolvers (host:port) for DNS-01 CNAME and nameserver discovery; empty: the system's. */
  resolvers: string[];
  /** How long DNS-01 waits for every authoritative server to serve a record. */
  dnsTimeoutMs: number;
  json: boolean;
  debug: boolean;
}

/** What the user gave on the command line; undefined means "not given". */
export interface ConfigFlags {
  dataDir?: string;
  ca?: string;
  caCert?: string;
  email?: string;
  resolver?: string;
  dnsTimeout?: string;
  json?: boolean;
  debug?: boolean;
  config?: string;
}

type FileConfig = Partial<Record<'dataDir' | 'databaseUrl' | 'ca' | 'caCert' | 'email' | 'resolver' | 'dnsTimeout', string>>;

export function loadConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv = process.env): Config {
  const file = readConfigFile(flags.config ?? env.CERTKEEP_CONFIG);
  const pick = (flag: string | undefined, envName: string, fileValue: string | undefined) =>
    flag ?? nonEmpty(env[envName]) ?? fileValue;
  const caCertFile = pick(flags.caCert, 'CERTKEEP_CA_CERT', file.caCert);
  return {
    dataDir: resolve(pick(flags.dataDir, 'CERTKEEP_DATA_DIR', file.dataDir) ?? './certkeep-data'),
    databaseUrl: nonEmpty(env.CERTKEEP_DATABASE_URL) ?? file.databaseUrl,
    masterKey: nonEmpty(env.CERTKEEP_MASTER_KEY),
    ca: resolveCaUrl(pick(flags.ca, 'CERTKEEP_CA', file.ca) ?? 'letsencrypt'),
    caCertFile,
    caCertPem: caCertFile ? readCaCert(caCertFile) : undefined,
    email: pick(flags.email, 'CERTKEEP_EMAIL', file.email),
    resolvers: parseResolvers(pick(flags.resolver, 'CERTKEEP_RESOLVER', file.resolver)),
    dnsTimeoutMs: parseSeconds(pick(flags.dnsTimeout, 'CERTKEEP_DNS_TIMEOUT', file.dnsTimeout) ?? '120', 'dns-timeout') * 1000,
    json: flags.json ?? false,
    debug: flags.debug ?? env.CERTKEEP_DEBUG === '1',
  };
}

export function resolveCaUrl(ca: string): string {
  const shortcut = CA_SHORTCUTS[ca.toLowerCase()];
  if (shortcut) return shortcut;
  let url: URL;
  try {
    url = new URL(ca);
  } catch {
    throw new UsageError(
      `--ca: "${ca}" is neither a URL nor a known CA; use an ACME directory URL or one of ${Object.keys(CA_SHORTCUTS).join(', ')}`,
      'ca',
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError(`--ca: "${ca}" must be an https:// ACME directory URL`, 'ca');
  }
  return url.toString();
}

function parseResolvers(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((server) => addressText(parseAddress(server, '--resolver', 53)));
}

function parseSeconds(value: string, option: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`--${option}: "${value}" is not a number of seconds`, option);
  return seconds;
}

function readCaCert(path: string): string {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--ca-cert: cannot read ${path} (${(error as NodeJS.ErrnoException).code})`, 'caCert');
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new UsageError(`--ca-cert: ${path} holds no PEM certificate`, 'caCert');
  }
  return pem;
}

function readConfigFile(path: string | undefined): FileConfig {
  if (!path) return {};
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as FileConfig;
  } catch (error) {
    throw new UsageError(`--config: cannot read ${path} as JSON: ${(error as Error).message}`, 'config');
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
