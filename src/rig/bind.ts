// BIND (Debian's /usr/sbin/named) on loopback, for tests, benchmarks and
// `certkeep demo`: authoritative test zones where every name is 127.0.0.1,
// dynamic updates signed with a TSIG key, everything in a temp dir.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { queryDns } from '../dns/query.ts';
import { parseServer } from '../dns/transport.ts';
import {
  type BindTsigKey,
  checkConfigInput,
  type ForwardZone,
  renderNamedConf,
  renderZone,
  zoneFile,
} from './bind-config.ts';
import { type DnsRouter, type Route, startDnsRouter } from './dns-router.ts';
import { freePort } from './ports.ts';

export interface BindOptions {
  /** Default ['example.test']. Each: SOA, NS ns1.<zone>, A 127.0.0.1 for the apex, `*` and ns1. */
  zones?: string[];
  /** Default: a fresh hmac-sha256 key named 'certkeep-test'. */
  tsig?: BindTsigKey;
  /**
   * Zones served by other servers (host:port). Queries for them, and CNAME targets in
   * them, are answered through the rig's address without any cache (see dns-router.ts).
   */
  forwardZones?: ForwardZone[];
  /** Zone-file lines appended to the first zone, e.g. '_acme-challenge.foo IN CNAME x.delegated.test.' */
  extraRecords?: string[];
  /** Default /usr/sbin/named. */
  binary?: string;
}

export interface Bind {
  /** 127.0.0.1:PORT; for updates and queries (the router's port when there are forward zones). */
  address: string;
  host: string;
  port: number;
  pid: number;
  tsig: BindTsigKey;
  zones: string[];
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
const PORT_ATTEMPTS = 3;

export async function startBind(opts: BindOptions = {}): Promise<Bind> {
  const zones = (opts.zones ?? ['example.test']).map(normalizeZone);
  const tsig = opts.tsig ?? {
    name: 'certkeep-test',
    algorithm: 'hmac-sha256',
    secret: randomBytes(32).toString('base64'),
  };
  const forwardZones = opts.forwardZones ?? [];
  checkConfigInput({ zones, tsig, forwardZones });
  const routes = forwardZones.map((forward) => ({
    zone: normalizeZone(forward.zone),
    server: parseServer(forward.server),
  }));
  const dir = await mkdtemp(join(tmpdir(), 'certkeep-bind-'));
  try {
    for (const [index, zone] of zones.entries()) {
      await writeFile(zoneFile(dir, zone), renderZone(zone, index === 0 ? opts.extraRecords : []));
    }
    const named = await startNamed(opts.binary ?? '/usr/sbin/named', dir, zones, tsig);
    const router = routes.length > 0 ? await startRouter(routes, named) : undefined;
    return running(named, router, dir, tsig, zones);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

interface Named {
  child: ChildProcess;
  port: number;
}

class PortInUseError extends Error {}

async function startNamed(binary: string, dir: string, zones: string[], tsig: BindTsigKey): Promise<Named> {
  const conf = join(dir, 'named.conf');
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    await writeFile(conf, renderNamedConf({ dir, port, zones, tsig }));
    try {
      return { child: await launch(binary, conf, port, zones), port };
    } catch (error) {
      if (!(error instanceof PortInUseError) || attempt >= PORT_ATTEMPTS) throw error;
    }
  }
}

/** With forward zones, clients talk to a cache-free router in front of named (see dns-router.ts). */
async function startRouter(routes: Route[], named: Named): Promise<DnsRouter> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDnsRouter(routes, { host: '127.0.0.1', port: named.port }, await freePort());
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < PORT_ATTEMPTS) continue;
      await stopProcess(named.child);
      throw error;
    }
  }
}

function running(
  named: Named,
  router: DnsRouter | undefined,
  dir: string,
  tsig: BindTsigKey,
  zones: string[],
): Bind {
  const killOnExit = () => named.child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const port = router?.port ?? named.port;
  let stopping: Promise<void> | undefined;
  return {
    address: `127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    pid: named.child.pid ?? 0,
    tsig,
    zones,
    stop() {
      stopping ??= (async () => {
        process.removeListener('exit', killOnExit);
        await router?.stop();
        await stopProcess(named.child);
        await rm(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

function normalizeZone(zone: string): string {
  return zone.replace(/\.$/, '').toLowerCase();
}

/** Starts named and resolves once every zone answers its SOA; rejects with named's own words if it fails. */
async function launch(binary: string, conf: string, port: number, zones: string[]): Promise<ChildProcess> {
  const child = spawn(binary, ['-g', '-c', conf, '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    log = (log + chunk).slice(-16_384);
  });
  const failure = new Promise<never>((_, reject) => {
    child.once('error', (error) =>
      reject(new Error(`cannot start ${binary}: ${error.message} (install bind9)`)),
    );
    child.once('exit', (code, signal) => reject(exitError(log, code, signal)));
  });
  failure.catch(() => {}); // observed below; avoids an unhandled rejection after success
  try {
    await Promise.race([failure, waitUntilAnswering(port, zones, () => log)]);
    return child;
  } catch (error) {
    await stopProcess(child);
    throw error;
  }
}

function exitError(log: string, code: number | null, signal: NodeJS.Signals | null): Error {
  if (/address in use/i.test(log)) return new PortInUseError('named: address in use');
  return new Error(`named exited (${signal ?? `code ${code}`}) before answering:\n${tail(log)}`);
}

async function waitUntilAnswering(port: number, zones: string[], log: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (/not loaded due to errors/.test(log()))
      throw new Error(`named could not load a zone:\n${tail(log())}`);
    if (await allZonesAnswer(port, zones)) return;
    if (Date.now() > deadline)
      throw new Error(`named did not answer on port ${port} in time:\n${tail(log())}`);
    await sleep(15);
  }
}

async function allZonesAnswer(port: number, zones: string[]): Promise<boolean> {
  const results = await Promise.all(
    zones.map((zone) =>
      queryDns(`127.0.0.1:${port}`, zone, 'SOA', { timeoutMs: 250, udpAttempts: 1 }).then(
        (response) =>
          response.rcode === 'NOERROR' && response.answers.some((answer) => answer.type === 'SOA'),
        () => false,
      ),
    ),
  );
  return results.every(Boolean);
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

function tail(log: string): string {
  return log.trimEnd().split('\n').slice(-15).join('\n');
}
