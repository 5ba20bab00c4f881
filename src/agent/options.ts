// certkeep agent's options: flags > CERTKEEP_AGENT_TOKEN (the token only) >
// the config file (--config, JSON, which can hold every option) > defaults.
// The allow-lists are the host's own decisions: the server only names things.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.ts';

export interface AgentOptions {
  server: URL;
  token: string;
  /** NAME → command for /bin/sh -c, from --allow-reload NAME=CMD. */
  allowReload: Map<string, string>;
  /** NAME → command, from --allow-hook NAME=CMD. */
  allowHook: Map<string, string>;
  /** Directories under which targets may write (absolute). */
  allowDir: string[];
  /** HOST:PORT the TLS check may connect to; empty: this host's own loopback and interface addresses. */
  allowVerify: string[];
  stateDir: string;
  once: boolean;
  /** Trust anchors for the server's HTTPS (PEM text, read from --server-ca), beside the system's. */
  serverCa?: string;
  help: boolean;
}

export const USAGE = `Usage: certkeep agent --server URL --token TOKEN [options]

Pulls this host's certificates from certkeep serve, deploys them, checks they
are served, and reports back; follows the server's changes until stopped.

  --server URL              the certkeep server, e.g. https://certkeep.example.com
  --token TOKEN             the agent's token (or CERTKEEP_AGENT_TOKEN, or the config file)
  --allow-reload NAME=CMD   a reload the server may name (repeatable; CMD runs with /bin/sh -c)
  --allow-hook NAME=CMD     a deploy hook the server may name (repeatable)
  --allow-dir PREFIX        targets may write under PREFIX only (repeatable; none: every target is refused)
  --allow-verify HOST:PORT  where the TLS check may connect (repeatable; default: this host's own addresses)
  --server-ca FILE          trust anchor (PEM) for the server's HTTPS, beside the system's
  --config FILE             JSON file holding any of these options (server, token, allowReload…)
  --state-dir DIR           what the agent remembers between runs (default /var/lib/certkeep-agent as root)
  --once                    converge once and exit: 0 when every target is on its version, 1 otherwise
  -h, --help                this help
`;

const FLAGS = {
  server: { type: 'string' },
  token: { type: 'string' },
  'allow-reload': { type: 'string', multiple: true },
  'allow-hook': { type: 'string', multiple: true },
  'allow-dir': { type: 'string', multiple: true },
  'allow-verify': { type: 'string', multiple: true },
  'server-ca': { type: 'string' },
  config: { type: 'string' },
  'state-dir': { type: 'string' },
  once: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type FileOptions = Partial<{
  server: string;
  token: string;
  allowReload: string[] | Record<string, string>;
  allowHook: string[] | Record<string, string>;
  allowDir: string[];
  allowVerify: string[];
  serverCa: string;
  stateDir: string;
  once: boolean;
}>;

export function parseAgentOptions(argv: string[], env: NodeJS.ProcessEnv = process.env): AgentOptions {
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message.split('\n')[0]}; see certkeep agent --help`);
  }
  const file = values.config ? readConfigFile(String(values.config)) : {};
  const help = values.help === true;
  const server = (values.server as string | undefined) ?? file.server;
  const token = (values.token as string | undefined) ?? nonEmpty(env.CERTKEEP_AGENT_TOKEN) ?? file.token;
  if (help) return { help, server: new URL('http://localhost'), token: '', allowReload: new Map(), allowHook: new Map(), allowDir: [], allowVerify: [], stateDir: '', once: false };
  if (!server) throw new UsageError('--server: give the certkeep server, e.g. --server https://certkeep.example.com', 'server');
  if (!token) throw new UsageError("--token: give the agent's token (from certkeep admin agent create), or set CERTKEEP_AGENT_TOKEN", 'token');
  return {
    help,
    server: serverUrl(server),
    token: token.trim(),
    allowReload: commands('--allow-reload', (values['allow-reload'] as string[] | undefined) ?? file.allowReload),
    allowHook: commands('--allow-hook', (values['allow-hook'] as string[] | undefined) ?? file.allowHook),
    allowDir: directories((values['allow-dir'] as string[] | undefined) ?? file.allowDir ?? []),
    allowVerify: (values['allow-verify'] as string[] | undefined) ?? file.allowVerify ?? [],
    ...serverCa((values['server-ca'] as string | undefined) ?? file.serverCa),
    stateDir: resolve((values['state-dir'] as string | undefined) ?? file.stateDir ?? defaultStateDir(env)),
    once: values.once === true || file.once === true,
  };
}

/** --server-ca read now, so that a missing or wrong file is one line at start, not a failure at the first request. */
function serverCa(path: string | undefined): { serverCa?: string } {
  if (path === undefined) return {};
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--server-ca: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 'server-ca');
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new UsageError(`--server-ca: ${path} holds no PEM certificate; give the CA certificate that signed the server's (-----BEGIN CERTIFICATE-----)`, 'server-ca');
  }
  return { serverCa: pem };
}

function serverUrl(text: string): URL {
  try {
    const url = new URL(text);
    if (url.protocol === 'http:' || url.protocol === 'https:') return url;
  } catch {}
  throw new UsageError(`--server: "${text}" must be an http(s) URL, e.g. https://certkeep.example.com`, 'server');
}

/** NAME=CMD, split at the first `=`, as a list or (in the config file) an object. */
function commands(option: string, given: string[] | Record<string, string> | undefined): Map<string, string> {
  const entries = Array.isArray(given) ? given.map((text) => splitCommand(option, text)) : Object.entries(given ?? {});
  const map = new Map<string, string>();
  for (const [name, command] of entries) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name) || !command.trim()) {
      throw new UsageError(`${option}: "${name}=${command}" must be NAME=CMD, e.g. nginx='nginx -t && nginx -s reload'`, option.slice(2));
    }
    map.set(name, command);
  }
  return map;
}

function splitCommand(option: string, text: string): [string, string] {
  const at = text.indexOf('=');
  if (at <= 0) throw new UsageError(`${option}: "${text}" must be NAME=CMD, e.g. nginx='nginx -s reload'`, option.slice(2));
  return [text.slice(0, at), text.slice(at + 1)];
}

function directories(given: string[]): string[] {
  return given.map((dir) => {
    if (!dir.startsWith('/')) throw new UsageError(`--allow-dir: "${dir}" must be an absolute directory, e.g. /etc/ssl/certkeep`, 'allow-dir');
    return resolve(dir);
  });
}

function readConfigFile(path: string): FileOptions {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--config: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 'config');
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as FileOptions;
  } catch {}
  throw new UsageError(`--config: ${path} must hold one JSON object, e.g. {"server": "https://…", "allowDir": ["/etc/ssl"]}`, 'config');
}

function defaultStateDir(env: NodeJS.ProcessEnv): string {
  if (process.getuid?.() === 0) return '/var/lib/certkeep-agent';
  return join(nonEmpty(env.XDG_STATE_HOME) ?? join(homedir(), '.local', 'state'), 'certkeep-agent');
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
