// One typed configuration: flags > environment (CERTKEEP_*) > file > defaults.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { addressText, parseAddress } from './address.ts';
import { UsageError } from './errors.ts';
import { EMAIL_EXAMPLE, senderAddress } from './notify/email-address.ts';
import type { SmtpSettings } from './notify/email.ts';

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
  /** Where notification mail is sent from and through; undefined: no mail. Holds the SMTP password: never print it whole. */
  smtp: SmtpSettings | undefined;
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
  smtpUrl?: string;
  smtpFrom?: string;
  json?: boolean;
  debug?: boolean;
  config?: string;
}

type FileConfig = Partial<
  Record<'dataDir' | 'databaseUrl' | 'ca' | 'caCert' | 'email' | 'resolver' | 'dnsTimeout' | 'smtpUrl' | 'smtpFrom', string>
>;

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
    smtp: parseSmtp(pick(flags.smtpUrl, 'CERTKEEP_SMTP_URL', file.smtpUrl), pick(flags.smtpFrom, 'CERTKEEP_SMTP_FROM', file.smtpFrom)),
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

const SMTP_URL_EXAMPLE = 'smtp://user:password@smtp.example.com:587 (smtps:// for TLS from the first byte)';

/** --smtp-url and --smtp-from. Errors never echo the URL: it may hold a password. */
export function parseSmtp(url: string | undefined, from: string | undefined): SmtpSettings | undefined {
  if (!url) {
    if (from) throw new UsageError('--smtp-from needs --smtp-url (env CERTKEEP_SMTP_URL): the server to send through', 'smtpUrl');
    return undefined;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--smtp-url: not a URL; write it as ${SMTP_URL_EXAMPLE}`, 'smtpUrl');
  }
  if (parsed.protocol !== 'smtp:' && parsed.protocol !== 'smtps:') {
    throw new UsageError(`--smtp-url: the scheme is ${parsed.protocol}; write it as ${SMTP_URL_EXAMPLE}`, 'smtpUrl');
  }
  if (!parsed.hostname) throw new UsageError(`--smtp-url: no host; write it as ${SMTP_URL_EXAMPLE}`, 'smtpUrl');
  const secure = parsed.protocol === 'smtps:';
  const user = decodeUrlPart(parsed.username, 'user name');
  const password = decodeUrlPart(parsed.password, 'password');
  const sender = from ?? (senderAddress(user) ? user : undefined);
  if (!sender) throw new UsageError('--smtp-from (env CERTKEEP_SMTP_FROM): give the sender address, e.g. certkeep@example.com', 'smtpFrom');
  if (!senderAddress(sender)) {
    throw new UsageError(`--smtp-from: "${sender}" is not an email address; write it as ${EMAIL_EXAMPLE} or "certkeep <${EMAIL_EXAMPLE}>"`, 'smtpFrom');
  }
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port ? Number(parsed.port) : secure ? 465 : 587,
    secure,
    user: user || undefined,
    password: password || undefined,
    from: sender,
  };
}

function decodeUrlPart(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new UsageError(`--smtp-url: the ${what} has a stray %; write a literal % as %25`, 'smtpUrl');
  }
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
