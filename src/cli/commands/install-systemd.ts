// certkeep install-systemd: systemd units for renewal from a timer, as certbot
// ships them (`renew --all` twice a day, spread over an hour, caught up after
// downtime), or with --serve a service for `certkeep serve` instead — the
// server's scheduler renews the same store, so a timer beside it would only
// race it. Either runs with the same data dir and global options as this
// command, in a sandbox that may write only to the data dir. With --agent, a
// service for `certkeep agent` on a web server instead: its allow-lists on its
// command line, its token in a root-only environment file (never in the unit),
// writing only to its state dir and the directories it allows.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, chmod, link, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { parseAddress } from '../../address.ts';
import { type ConfigFlags, loadConfig } from '../../config.ts';
import { localDeployParents } from '../../engine/index.ts';
import { ConflictError, UsageError } from '../../errors.ts';
import { Output } from '../output.ts';
import { collect } from './options.ts';

interface InstallOptions {
  dir: string;
  bin?: string;
  serve?: boolean;
  listen?: string;
  httpChallengeListen?: string;
  tlsAlpnListen?: string;
  dnsListen?: string;
  dnsZone?: string;
  user?: string;
  writable: string[];
  force?: boolean;
  agent?: boolean;
  server?: string;
  allowReload: string[];
  allowHook: string[];
  allowDir: string[];
  allowVerify: string[];
  stateDir?: string;
  tokenFile?: string;
  serverCa?: string;
}

/** The options that only certkeep.service takes (serve's listeners). */
const SERVE_ONLY = {
  listen: '--listen',
  httpChallengeListen: '--http-challenge-listen',
  tlsAlpnListen: '--tls-alpn-listen',
  dnsListen: '--dns-listen',
  dnsZone: '--dns-zone',
} as const;

/** What the units are made from, checked and made absolute. */
interface UnitSpec {
  /** The command line up to the subcommand: the certkeep binary and the global options. */
  certkeep: string[];
  dataDir: string;
  writable: string[];
  user?: string;
}

/** Global options carried into the units, with the environment variable that can stand in for each; paths are made absolute. */
const CARRIED: { flag: keyof ConfigFlags; option: string; env: string; path?: boolean }[] = [
  { flag: 'ca', option: '--ca', env: 'CERTKEEP_CA' },
  { flag: 'caCert', option: '--ca-cert', env: 'CERTKEEP_CA_CERT', path: true },
  { flag: 'email', option: '--email', env: 'CERTKEEP_EMAIL' },
  { flag: 'resolver', option: '--resolver', env: 'CERTKEEP_RESOLVER' },
  { flag: 'dnsTimeout', option: '--dns-timeout', env: 'CERTKEEP_DNS_TIMEOUT' },
  { flag: 'config', option: '--config', env: 'CERTKEEP_CONFIG', path: true },
];

const RENEW_SERVICE = 'certkeep-renew.service';
const RENEW_TIMER = 'certkeep-renew.timer';
const SERVE_SERVICE = 'certkeep.service';
const AGENT_SERVICE = 'certkeep-agent.service';
const AGENT_STATE_DIR = '/var/lib/certkeep-agent';
const AGENT_TOKEN_FILE = '/etc/certkeep/agent.env';
/** Where systemd reads unit files from; written elsewhere, they still have to be copied there. */
const UNIT_DIRS = ['/etc/systemd/system', '/run/systemd/system', '/usr/lib/systemd/system', '/lib/systemd/system', '/usr/local/lib/systemd/system'];
/** What ProtectHome= covers. */
const HOME_DIRS = ['/home', '/root', '/run/user'];
/** What PrivateTmp= replaces with an empty directory of the service's own. */
const TMP_DIRS = ['/tmp', '/var/tmp'];

export function registerInstallSystemd(program: Command): void {
  program
    .command('install-systemd')
    .description('write systemd units: a timer that runs renew --all twice a day, or with --serve a service for certkeep serve (which renews by itself)')
    .requiredOption('--dir <dir>', 'where to write the unit files, e.g. /etc/systemd/system')
    .option('--bin <path>', 'the certkeep command the units run (default: the node and certkeep running now)')
    .option('--serve', 'write certkeep.service, which runs certkeep serve and renews, instead of the timer')
    .option('--listen <host:port>', "certkeep.service: the API's address (default: serve's)")
    .option('--http-challenge-listen <host:port|off>', "certkeep.service: where HTTP-01 is answered (default: serve's)")
    .option('--tls-alpn-listen <host:port>', 'certkeep.service: where TLS-ALPN-01 is answered (off unless given)')
    .option('--dns-listen <host:port>', "certkeep.service: certkeep's challenge DNS server, for delegated zones (with --dns-zone)")
    .option('--dns-zone <zone>', 'certkeep.service: the delegation zone that DNS server answers for (with --dns-listen)')
    .option('--user <name>', 'run as this user, who must own the data dir (default: root)')
    .option('--writable <path>', 'one more path the units may write to, e.g. a --webroot directory (repeatable)', collect, [])
    .option('--force', 'overwrite unit files that exist')
    .option('--agent', "write certkeep-agent.service, which runs certkeep agent on this web server, instead")
    .option('--server <url>', 'certkeep-agent.service: the certkeep server')
    .option('--allow-reload <NAME=CMD>', 'certkeep-agent.service: a reload the server may name (repeatable)', keep, [])
    .option('--allow-hook <NAME=CMD>', 'certkeep-agent.service: a deploy hook the server may name (repeatable)', keep, [])
    .option('--allow-dir <prefix>', 'certkeep-agent.service: where targets may write (repeatable; the only places it may write)', keep, [])
    .option('--allow-verify <host:port>', 'certkeep-agent.service: where the TLS check may connect (repeatable)', keep, [])
    .option('--state-dir <dir>', `certkeep-agent.service: the agent's state (default ${AGENT_STATE_DIR})`)
    .option('--server-ca <file>', "certkeep-agent.service: the CA certificate (PEM) of the server's HTTPS, when it is a private one")
    .option('--token-file <file>', `certkeep-agent.service: a root-only file holding CERTKEEP_AGENT_TOKEN=… (default ${AGENT_TOKEN_FILE})`)
    .action(async (options: InstallOptions, command: Command) => {
      if (options.agent) return installAgent(options, command);
      const flags = command.optsWithGlobals() as ConfigFlags;
      const config = loadConfig(flags);
      const output = new Output({ json: config.json, timestamps: config.debug });
      const spec = await unitSpec(options, flags, config.dataDir);
      // Deployments write beside each target directory: the sandbox lets them.
      const deployParents = (await localDeployParents(config)).filter((path) => !spec.writable.includes(path) && !within(path, spec.dataDir));
      spec.writable.push(...deployParents);
      const units = unitFiles(options, spec, serveDefaults(command));
      const dir = resolve(options.dir);
      const files = await writeUnits(dir, units, options.force === true);
      for (const note of await notes(spec, dir, options.serve === true, deployParents)) output.note(note);
      output.result({ files }, [...files.map((f) => `wrote ${f}`), ...nextSteps(dir, options.serve ? SERVE_SERVICE : RENEW_TIMER)]);
    });
}

/** Repeatable options whose values may hold commas (commands): kept whole. */
function keep(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

async function installAgent(options: InstallOptions, command: Command): Promise<void> {
  const config = loadConfig(command.optsWithGlobals() as ConfigFlags);
  const output = new Output({ json: config.json, timestamps: config.debug });
  if (options.serve) throw new UsageError('--agent and --serve exclude each other: the agent runs on the web servers, the server elsewhere', 'agent');
  if (!options.server) throw new UsageError('--server: the certkeep server the agent follows, e.g. --server https://certkeep.example.com', 'server');
  for (const [option, values] of [['--allow-reload', options.allowReload], ['--allow-hook', options.allowHook]] as const) {
    for (const value of values) if (value.indexOf('=') <= 0) throw new UsageError(`${option}: "${value}" must be NAME=CMD`, option.slice(2));
  }
  for (const dir of options.allowDir) if (!isAbsolute(dir)) throw new UsageError(`--allow-dir: "${dir}" must be an absolute directory`, 'allow-dir');
  const stateDir = resolve(options.stateDir ?? AGENT_STATE_DIR);
  const tokenFile = resolve(options.tokenFile ?? AGENT_TOKEN_FILE);
  const bin = await certkeepCommand(options.bin);
  const agent = /certkeep-agent[^/]*$/.test(bin[bin.length - 1]) ? bin : [...bin, 'agent'];
  const argv = [
    ...agent,
    '--server',
    options.server,
    ...options.allowReload.flatMap((v) => ['--allow-reload', v]),
    ...options.allowHook.flatMap((v) => ['--allow-hook', v]),
    ...options.allowDir.flatMap((v) => ['--allow-dir', resolve(v)]),
    ...options.allowVerify.flatMap((v) => ['--allow-verify', v]),
    ...(options.serverCa ? ['--server-ca', await readableFile(options.serverCa, '--server-ca')] : []),
    '--state-dir',
    stateDir,
  ];
  const spec: UnitSpec = { certkeep: [], dataDir: stateDir, writable: options.allowDir.map((dir) => resolve(dir)).concat(options.writable.map((p) => resolve(p))), user: options.user };
  const unit = agentService(spec, argv, tokenFile);
  const dir = resolve(options.dir);
  const files = await writeUnits(dir, new Map([[AGENT_SERVICE, unit]]), options.force === true);
  output.note(`put the agent's token in ${tokenFile} (mode 0600, root's) as CERTKEEP_AGENT_TOKEN=…: it is not written into the unit`);
  if (options.allowDir.length === 0) output.note('no --allow-dir: the agent will refuse every target until it may write somewhere');
  output.result({ files }, [...files.map((f) => `wrote ${f}`), ...nextSteps(dir, AGENT_SERVICE)]);
}

function agentService(spec: UnitSpec, argv: string[], tokenFile: string): string {
  return lines(
    HEADER,
    '[Unit]',
    'Description=certkeep agent: deploys this host\'s certificates from the certkeep server',
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=exec',
    `EnvironmentFile=${unitWord(tokenFile, '--token-file')}`,
    `ExecStart=${execLine(argv)}`,
    'Restart=always',
    'RestartSec=5s',
    `StateDirectory=${spec.dataDir.startsWith('/var/lib/') ? unitWord(spec.dataDir.slice('/var/lib/'.length), '--state-dir') : ''}`.replace(/^StateDirectory=$/, '# StateDirectory= is for directories under /var/lib only'),
    ...sandbox(spec),
    '',
    '[Install]',
    'WantedBy=multi-user.target',
  );
}

async function unitSpec(options: InstallOptions, flags: ConfigFlags, dataDir: string): Promise<UnitSpec> {
  const serveOnly = Object.entries(SERVE_ONLY).find(([key]) => options[key as keyof InstallOptions] !== undefined)?.[1];
  if (!options.serve && serveOnly) throw new UsageError(`${serveOnly} is for certkeep.service: add --serve`, 'serve');
  if (options.user !== undefined && !/^[a-z_][a-z0-9_.-]*$/i.test(options.user)) throw new UsageError(`--user: "${options.user}" is not a user name`, 'user');
  const globals = ['--data-dir', dataDir];
  for (const carried of CARRIED) {
    const value = (flags[carried.flag] as string | undefined) ?? nonEmpty(process.env[carried.env]);
    if (value !== undefined) globals.push(carried.option, carried.path ? resolve(value) : value);
  }
  return { certkeep: [...(await certkeepCommand(options.bin)), ...globals], dataDir, writable: options.writable.map((p) => resolve(p)), user: options.user };
}

/** A file the unit will read, made absolute; refused now when it cannot be read. */
async function readableFile(path: string, option: string): Promise<string> {
  const absolute = resolve(path);
  try {
    await access(absolute, constants.R_OK);
    if (!(await stat(absolute)).isFile()) throw new Error('not a file');
  } catch {
    throw new UsageError(`${option}: ${absolute} is not a readable file`, option.slice(2));
  }
  return absolute;
}

/** --bin, or exactly what runs now: this node and this entry point (a unit has no PATH to find either by). */
async function certkeepCommand(bin: string | undefined): Promise<string[]> {
  if (bin === undefined) return [process.execPath, resolve(process.argv[1])];
  const path = resolve(bin);
  try {
    await access(path, constants.X_OK);
    if (!(await stat(path)).isFile()) throw new Error('not a file');
  } catch {
    throw new UsageError(`--bin: ${path} is not an executable file`, 'bin');
  }
  return [path];
}

/** serve's own defaults, read from its options so that the two cannot drift apart. */
function serveDefaults(command: Command): { listen: string; httpChallengeListen: string } {
  const serve = command.parent?.commands.find((c) => c.name() === 'serve');
  const option = (long: string) => serve?.options.find((o) => o.long === long)?.defaultValue as string | undefined;
  return { listen: option('--listen') ?? '127.0.0.1:8080', httpChallengeListen: option('--http-challenge-listen') ?? '0.0.0.0:80' };
}

function unitFiles(options: InstallOptions, spec: UnitSpec, defaults: { listen: string; httpChallengeListen: string }): Map<string, string> {
  if (!options.serve) {
    return new Map([
      [RENEW_SERVICE, renewService(spec)],
      [RENEW_TIMER, renewTimer()],
    ]);
  }
  const listen = options.listen ?? defaults.listen;
  const challenge = options.httpChallengeListen ?? defaults.httpChallengeListen;
  const ports = [parseAddress(listen, '--listen').port];
  if (challenge !== 'off') ports.push(parseAddress(challenge, '--http-challenge-listen', 80).port);
  if (options.tlsAlpnListen) ports.push(parseAddress(options.tlsAlpnListen, '--tls-alpn-listen', 443).port);
  if (options.dnsListen) ports.push(parseAddress(options.dnsListen, '--dns-listen', 53).port);
  if (Boolean(options.dnsListen) !== Boolean(options.dnsZone)) {
    throw new UsageError('--dns-listen and --dns-zone go together: the challenge DNS server answers for that zone', options.dnsListen ? 'dns-zone' : 'dns-listen');
  }
  const passed: [string, string | undefined][] = [
    ['--listen', options.listen],
    ['--http-challenge-listen', options.httpChallengeListen],
    ['--tls-alpn-listen', options.tlsAlpnListen],
    ['--dns-listen', options.dnsListen],
    ['--dns-zone', options.dnsZone],
  ];
  const args = passed.flatMap(([flag, value]) => (value ? [flag, value] : []));
  return new Map([[SERVE_SERVICE, serveService(spec, args, Math.min(...ports) < 1024)]]);
}

const HEADER = '# Written by certkeep install-systemd.';

function renewService(spec: UnitSpec): string {
  return lines(
    HEADER,
    `# Started by ${RENEW_TIMER}; run it by hand with: systemctl start ${RENEW_SERVICE}`,
    '[Unit]',
    'Description=Renew the certkeep certificates that are due',
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=${execLine([...spec.certkeep, 'renew', '--all'])}`,
    // Certificates answered by the built-in HTTP-01 responder listen on port 80 unless they say otherwise.
    ...(spec.user ? ['AmbientCapabilities=CAP_NET_BIND_SERVICE'] : []),
    ...sandbox(spec),
  );
}

function renewTimer(): string {
  return lines(
    HEADER,
    '[Unit]',
    'Description=Renew the certkeep certificates that are due, twice a day',
    '',
    '[Timer]',
    'OnCalendar=*-*-* 00,12:00:00',
    'RandomizedDelaySec=1h',
    'Persistent=true',
    '',
    '[Install]',
    'WantedBy=timers.target',
  );
}

function serveService(spec: UnitSpec, serveArgs: string[], lowPort: boolean): string {
  return lines(
    HEADER,
    '[Unit]',
    'Description=certkeep certificate server',
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=exec',
    `ExecStart=${execLine([...spec.certkeep, 'serve', ...serveArgs])}`,
    'Restart=on-failure',
    'RestartSec=5s',
    ...(lowPort ? ['AmbientCapabilities=CAP_NET_BIND_SERVICE'] : []),
    ...sandbox(spec),
    '',
    '[Install]',
    'WantedBy=multi-user.target',
  );
}

/** The hardening both services share: the file system read-only but for the data dir (and --writable paths). */
function sandbox(spec: UnitSpec): string[] {
  const writable = [spec.dataDir, ...spec.writable];
  const underHome = writable.find((p) => HOME_DIRS.some((home) => within(p, home)));
  const underTmp = writable.find((p) => TMP_DIRS.some((tmp) => within(p, tmp)));
  return [
    ...(spec.user ? [`User=${spec.user}`] : []),
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    `ReadWritePaths=${writable.map((p) => unitWord(p, '--data-dir / --writable')).join(' ')}`,
    underTmp ? `# PrivateTmp= is off: it would hide ${underTmp} behind an empty /tmp of the service's own.` : 'PrivateTmp=yes',
    // Under ProtectSystem=strict the rest of /home is read-only with or without ProtectHome=.
    underHome ? `# ProtectHome= is off, as ${underHome} lies under it; ProtectSystem=strict keeps the rest read-only.` : 'ProtectHome=read-only',
    'PrivateDevices=yes',
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectControlGroups=yes',
    'RestrictSUIDSGID=yes',
    'LockPersonality=yes',
    "# No MemoryDenyWriteExecute=: Node's JIT needs memory that is both writable and executable.",
  ];
}

function within(path: string, dir: string): boolean {
  const rest = relative(dir, path);
  return rest === '' || (!rest.startsWith('..') && !isAbsolute(rest));
}

function lines(...all: string[]): string {
  return `${all.join('\n')}\n`;
}

/** An ExecStart= command line: `$` would expand a variable, so it is doubled too. */
function execLine(argv: string[]): string {
  return argv.map((arg) => unitWord(arg.replaceAll('$', () => '$$'), 'a path or option')).join(' ');
}

/** One word of a unit setting: `%` doubled (specifiers), quoted when it holds more than plain path characters. */
function unitWord(value: string, what: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new UsageError(`${what}: ${JSON.stringify(value)} holds a control character, which a unit file cannot`, 'dir');
  const escaped = value.replaceAll('%', '%%');
  return /^[\w@%+=:,./-]+$/.test(escaped) ? escaped : `"${escaped.replace(/[\\"]/g, '\\$&')}"`;
}

/** All or nothing: every file is checked first; each is written beside its place and renamed (or, without --force, linked) into it. */
async function writeUnits(dir: string, units: Map<string, string>, force: boolean): Promise<string[]> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const paths = [...units.keys()].map((name) => join(dir, name));
  if (!force) {
    for (const path of paths) if (await exists(path)) throw refusal(path);
  }
  for (const [name, text] of units) await writeUnit(join(dir, name), text, force);
  return paths;
}

async function writeUnit(path: string, text: string, force: boolean): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temporary, text, { mode: 0o644, flag: 'wx' });
  try {
    await chmod(temporary, 0o644); // whatever the umask
    // link() never replaces a file that appeared since the check; rename() does, as --force asks.
    if (force) await rename(temporary, path);
    else await link(temporary, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw refusal(path);
    throw error;
  } finally {
    await rm(temporary, { force: true });
  }
}

function refusal(path: string): ConflictError {
  return new ConflictError(`${path} exists; pass --force to overwrite it`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

function nextSteps(dir: string, units: string): string[] {
  const copy = UNIT_DIRS.includes(dir) ? [] : ['  copy the files to /etc/systemd/system, then'];
  return ['next:', ...copy, `  systemctl daemon-reload && systemctl enable --now ${units}`];
}

/** Things the units depend on that this command does not do. */
async function notes(spec: UnitSpec, dir: string, serve: boolean, deployParents: string[]): Promise<string[]> {
  const found: string[] = [];
  if (serve) found.push(`no ${RENEW_TIMER}: the server's scheduler renews the certificates (a timer beside it would renew the same store twice)`);
  if (deployParents.length > 0) {
    found.push(
      `the units may write where this machine's deploy targets are (${deployParents.join(', ')}); their reload and hook commands run in the same sandbox (systemctl reload works; give --writable PATH for anything else they write), and a target added in another directory later needs install-systemd --force again`,
    );
  }
  if (!(await exists(spec.dataDir))) found.push(`create ${spec.dataDir} before the units run: ReadWritePaths= needs it to exist`);
  if (spec.user) found.push(`${spec.user} must own ${spec.dataDir}`);
  const carried = new Set(['CERTKEEP_DATA_DIR', ...CARRIED.map((c) => c.env)]);
  const left = Object.keys(process.env).filter((name) => name.startsWith('CERTKEEP_') && !carried.has(name) && process.env[name]);
  if (left.length > 0) {
    found.push(`not written into ${dir}'s 0644 files, as they may hold secrets: ${left.join(', ')}; give them with systemctl edit (Environment= or a root-only EnvironmentFile=)`);
  }
  return found;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
