// PowerDNS Authoritative (Debian's pdns-server + pdns-backend-sqlite3) on
// loopback, with its HTTP API, for tests and benchmarks. Each start gets its
// own SQLite database and config dir in a temp dir, removed on stop.
import { randomBytes } from 'node:crypto';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { freePort } from '../../src/rig/ports.ts';

export interface PowerDnsOptions {
  /** Zones to create, each with A records for the apex and `*.<zone>` → 127.0.0.1. Default `['example.test']`. */
  zones?: string[];
  /** The pdns_server binary (default /usr/sbin/pdns_server). */
  binary?: string;
}

export interface PowerDns {
  /** Base URL of the HTTP API, e.g. `http://127.0.0.1:PORT`. */
  apiUrl: string;
  apiKey: string;
  /** `127.0.0.1:PORT`, UDP and TCP. */
  dnsAddress: string;
  stop(): Promise<void>;
}

const SCHEMA_FILES = [
  '/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql',
  '/usr/share/doc/pdns-backend-sqlite3/schema.sqlite3.sql',
];
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;
const START_ATTEMPTS = 3;
const TAIL_CHARS = 4000;

export async function startPowerDns(opts: PowerDnsOptions = {}): Promise<PowerDns> {
  const workDir = await mkdtemp(join(tmpdir(), 'certkeep-pdns-'));
  const apiKey = randomBytes(16).toString('hex');
  try {
    await createDatabase(join(workDir, 'pdns.sqlite3'));
    const server = await startWithFreshPorts(workDir, apiKey, opts.binary ?? '/usr/sbin/pdns_server');
    try {
      for (const zone of opts.zones ?? ['example.test']) await createZone(server.apiUrl, apiKey, zone);
    } catch (error) {
      await server.stop();
      throw error;
    }
    let stopped: Promise<void> | undefined;
    return {
      apiUrl: server.apiUrl,
      apiKey,
      dnsAddress: server.dnsAddress,
      stop() {
        stopped ??= server.stop().then(() => rm(workDir, { recursive: true, force: true }));
        return stopped;
      },
    };
  } catch (error) {
    await rm(workDir, { recursive: true, force: true });
    throw error;
  }
}

async function createDatabase(file: string): Promise<void> {
  const schemaFile = SCHEMA_FILES.find((path) => existsSync(path));
  if (!schemaFile)
    throw new Error('PowerDNS SQLite schema not found; install Debian\'s "pdns-backend-sqlite3"');
  const db = new DatabaseSync(file);
  try {
    db.exec(await readFile(schemaFile, 'utf8'));
  } finally {
    db.close();
  }
}

function config(workDir: string, apiKey: string, dnsPort: number, apiPort: number): string {
  return `${[
    'launch=gsqlite3',
    `gsqlite3-database=${join(workDir, 'pdns.sqlite3')}`,
    'local-address=127.0.0.1',
    `local-port=${dnsPort}`,
    'api=yes',
    `api-key=${apiKey}`,
    'webserver=yes',
    'webserver-address=127.0.0.1',
    `webserver-port=${apiPort}`,
    'webserver-allow-from=127.0.0.0/8',
    `socket-dir=${workDir}`,
    'guardian=no',
    'daemon=no',
    'disable-syslog=yes',
    // Tests read right after writing; no caches, and no security poll over the network.
    'cache-ttl=0',
    'negquery-cache-ttl=0',
    'query-cache-ttl=0',
    'security-poll-suffix=',
    'distributor-threads=1',
  ].join('\n')}\n`;
}

interface RunningServer {
  apiUrl: string;
  dnsAddress: string;
  stop(): Promise<void>;
}

/** Picks ports and starts; a port taken between pick and bind gets another try. */
async function startWithFreshPorts(workDir: string, apiKey: string, binary: string): Promise<RunningServer> {
  for (let attempt = 1; ; attempt++) {
    const dnsPort = await freePort();
    const apiPort = await freePort();
    await writeFile(join(workDir, 'pdns.conf'), config(workDir, apiKey, dnsPort, apiPort), { mode: 0o600 });
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const server = spawnServer(binary, workDir);
    try {
      await waitForApi(server, apiUrl, apiKey);
      return { apiUrl, dnsAddress: `127.0.0.1:${dnsPort}`, stop: server.stop };
    } catch (error) {
      await server.stop();
      if (attempt >= START_ATTEMPTS || !/address already in use/i.test(server.output())) throw error;
    }
  }
}

interface ServerProcess {
  child: ChildProcess;
  exited: Promise<void>;
  spawnError: Promise<never>;
  output(): string;
  stop(): Promise<void>;
}

function spawnServer(binary: string, workDir: string): ServerProcess {
  const child = spawn(binary, [`--config-dir=${workDir}`], {
    cwd: workDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-TAIL_CHARS);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (error) =>
      reject(new Error(`could not run ${binary}: ${error.message}; install Debian's "pdns-server" package`)),
    ),
  );
  spawnError.catch(() => {}); // observed by waitForApi; never an unhandled rejection
  const stop = async () => {
    process.off('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };
  return { child, exited, spawnError, output: () => output.trim(), stop };
}

/** Polls the API until it answers 200; rejects with pdns's output tail if it exits first. */
async function waitForApi(server: ServerProcess, apiUrl: string, apiKey: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let lastError = '';
  while (Date.now() < deadline) {
    const { child } = server;
    if (child.exitCode !== null || child.signalCode !== null) {
      await server.exited; // let the output drain
      throw new Error(
        `pdns_server exited during start (${child.exitCode ?? child.signalCode}); its output ends with:\n${server.output()}`,
      );
    }
    try {
      const response = await Promise.race([
        fetch(`${apiUrl}/api/v1/servers/localhost`, { headers: { 'X-API-Key': apiKey } }),
        server.spawnError,
      ]);
      await response.body?.cancel();
      if (response.ok) return;
      lastError = `HTTP ${response.status}`;
    } catch (error) {
      if (child.pid === undefined) throw error; // could not spawn at all
      lastError = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(
    `pdns_server did not answer ${apiUrl} within ${START_TIMEOUT_MS} ms (last: ${lastError}); ` +
      `its output ends with:\n${server.output()}`,
  );
}

async function createZone(apiUrl: string, apiKey: string, zone: string): Promise<void> {
  const apex = `${zone.toLowerCase().replace(/\.$/, '')}.`;
  const rrset = (name: string, type: string, content: string) => ({
    name,
    type,
    ttl: 60,
    records: [{ content, disabled: false }],
  });
  const body = {
    name: apex,
    kind: 'Native',
    nameservers: [`ns1.${apex}`],
    rrsets: [
      rrset(apex, 'SOA', `ns1.${apex} hostmaster.${apex} 1 10800 3600 604800 1`),
      rrset(apex, 'A', '127.0.0.1'),
      rrset(`*.${apex}`, 'A', '127.0.0.1'),
    ],
  };
  const response = await fetch(`${apiUrl}/api/v1/servers/localhost/zones`, {
    method: 'POST',
    headers: { 'X-API-Key': apiKey, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status !== 201) {
    throw new Error(
      `PowerDNS rig: creating zone ${apex} answered HTTP ${response.status}: ${text.slice(0, 300)}`,
    );
  }
}
