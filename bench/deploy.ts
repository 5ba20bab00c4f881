// npm run bench:deploy -- [--agents 200] [--processes 4]
// One `certkeep serve` (embedded database) renewing from a local Pebble that
// skips validation; AGENTS agents in PROCESSES processes, one certificate each,
// deploying into temp dirs with a no-op reload; one more agent in its own
// process deploying to a real nginx and verifying it. Every certificate is
// renewed at once, and one JSON line is printed:
//   p50Ms / p99Ms / maxMs  from each version stored to its agent's report that it is deployed
//   nginxServedMs          from the nginx certificate's version stored to nginx serving it
//   serverRssMb            the server's resident memory at the end (serverPeakRssMb: its peak)
//   agentRssMb             the nginx agent's resident memory while idle (one agent per process)
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { parseArgs } from 'node:util';
import { normalSerial } from '../src/deploy/index.ts';
import { addAgentTarget } from '../src/engine/agent-targets.ts';
import { createAgent } from '../src/engine/agents.ts';
import { engineOn } from '../src/engine/engine.ts';
import { createApiKey } from '../src/engine/tenancy.ts';
import { startPebble } from '../src/rig/pebble.ts';
import { freePort } from '../src/rig/ports.ts';
import { openStore } from '../src/store/database.ts';
import { DEFAULT_SUBSCRIPTION_ID, ensureSubscription } from '../src/store/repositories/subscriptions.ts';
import { startOnPlaceholder } from '../test/e2e/delivery.ts';
import { seedDueCertificates } from '../test/rig/due-certificates.ts';
import { servedSerial } from '../test/rig/https.ts';
import { NGINX } from '../test/rig/web-server-cases.ts';

const { values } = parseArgs({ options: { agents: { type: 'string', default: '200' }, processes: { type: 'string', default: '4' } } });
const AGENTS = Number(values.agents);
const PROCESSES = Math.max(1, Math.min(Number(values.processes), AGENTS));
// certkeep as it is installed: bin/certkeep.js on the bundle (built below), not the TypeScript sources.
const CLI = new URL('../bin/certkeep.js', import.meta.url).pathname;
const BUNDLE = new URL('../build/bundle.mjs', import.meta.url).pathname;
const HOST = new URL('./agent-host.ts', import.meta.url).pathname;
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 300_000);

const children: ChildProcess[] = [];
const DEBUG_DIR = { value: '' };
const cleanups: (() => Promise<unknown>)[] = [];
try {
  console.log(JSON.stringify(await run()));
} finally {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  await Promise.all(children.map((child) => (child.exitCode === null && child.signalCode === null ? new Promise((resolve) => child.once('close', resolve)) : undefined)));
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
}

async function run() {
  await new Promise((resolve, reject) => spawn(process.execPath, [BUNDLE], { stdio: 'inherit' }).once('close', (code) => (code === 0 ? resolve(code) : reject(new Error('the bundle did not build')))));
  const pebble = await startPebble({ env: { PEBBLE_VA_ALWAYS_VALID: '1' } });
  cleanups.push(() => pebble.stop());
  const root = await mkdtemp(join(tmpdir(), 'certkeep-bench-deploy-'));
  cleanups.push(() => rm(root, { recursive: true, force: true }));
  const dataDir = join(root, 'data');
  await mkdir(dataDir);
  DEBUG_DIR.value = dataDir;

  // N + 1 certificates (the last for nginx), due at once: the server issues their first versions.
  const store = await openStore({ dataDir });
  await ensureSubscription(store.db, DEFAULT_SUBSCRIPTION_ID, 'default', Date.now());
  const names = await seedDueCertificates(store, { subscriptionId: DEFAULT_SUBSCRIPTION_ID, count: AGENTS + 1, caUrl: pebble.directoryUrl, caCertPem: pebble.caCertPem, prefix: 'agent' });
  const engine = engineOn(store, { answers: 'server' });
  const key = (await createApiKey(engine, DEFAULT_SUBSCRIPTION_ID, 'write')).apiKey;
  const nginxName = names[AGENTS];
  const nginxDir = join(root, 'nginx-tls', nginxName);
  const nginx = await startOnPlaceholder(NGINX, root, nginxDir, nginxName, [nginxName]);
  cleanups.push(() => nginx.stop());
  const hosted: { token: string; allowDir: string; stateDir: string }[] = [];
  for (let i = 0; i < AGENTS; i++) {
    const agent = await createAgent(engine, DEFAULT_SUBSCRIPTION_ID, `host-${i}.bench.test`);
    const allowDir = join(root, 'hosts', String(i));
    await addAgentTarget(engine, DEFAULT_SUBSCRIPTION_ID, agent.id, { certificate: names[i], to: join(allowDir, names[i]), reload: 'noop' });
    hosted.push({ token: agent.token, allowDir, stateDir: join(root, 'state', String(i)) });
  }
  const nginxAgent = await createAgent(engine, DEFAULT_SUBSCRIPTION_ID, 'nginx.bench.test');
  await addAgentTarget(engine, DEFAULT_SUBSCRIPTION_ID, nginxAgent.id, { certificate: nginxName, to: nginxDir, reload: 'nginx', verify: [`127.0.0.1:${nginx.port}`] });
  await engine.close?.();
  await store.close();

  const seededAt = Date.now();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const nodeArgs = process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const server = spawn(process.execPath, [...nodeArgs, CLI, 'serve', '--listen', `127.0.0.1:${port}`, '--http-challenge-listen', 'off', '--renew-interval', '1', '--workers', '32'], {
    // The operator's CA (Pebble on loopback) is reachable by the server; tenants' URLs are not at issue here.
    env: { ...process.env, CERTKEEP_DATA_DIR: dataDir, CERTKEEP_RATE_LIMIT: 'off', CERTKEEP_CA: pebble.directoryUrl, CERTKEEP_CA_CERT: pebble.caCertFile, ...(process.env.BENCH_SERVER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_SERVER_NODE_OPTIONS } : {}) },
    stdio: ['ignore', 'pipe', process.env.BENCH_SERVER_STDERR ? 'inherit' : 'inherit'],
  });
  children.push(server);
  await new Promise<void>((resolve, reject) => {
    let out = '';
    server.stdout!.on('data', (chunk) => {
      if (process.env.BENCH_SERVER_STDOUT) process.stderr.write(chunk);
      out += chunk;
      if (out.includes('certkeep serving on')) resolve();
    });
    server.once('close', (code) => reject(new Error(`certkeep serve exited with ${code}`)));
  });
  const db = join(dataDir, 'certkeep.db');
  await until(() => countSince(db, seededAt) >= AGENTS + 1, 'the first versions');

  // The agents: the files ones in a few processes, the nginx one alone (its memory is one agent's).
  for (let p = 0; p < PROCESSES; p++) {
    const file = join(root, `agents-${p}.json`);
    await writeFile(file, JSON.stringify(hosted.filter((_, i) => i % PROCESSES === p).map((agent) => ({ ...agent, server: base }))));
    children.push(spawn(process.execPath, [HOST, file], { stdio: ['ignore', 'ignore', 'inherit'] }));
  }
  const nginxArgs = ['--server', base, '--token', nginxAgent.token, '--allow-dir', join(root, 'nginx-tls'), '--allow-reload', `nginx=${nginx.reloadCommand}`, '--state-dir', join(root, 'state', 'nginx')];
  const nginxProcess = spawn(process.execPath, [CLI, 'agent', ...nginxArgs], { stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(nginxProcess);
  const issuedRssMb = rssMb(server.pid!, 'VmRSS');
  await until(() => deployedCurrent(db) >= AGENTS + 1, 'the first deployments');
  await sleep(2000);
  const agentRssMb = rssMb(nginxProcess.pid!, 'VmRSS');
  const followedRssMb = rssMb(server.pid!, 'VmRSS');

  // Every certificate renewed at once.
  const renewFrom = Date.now();
  const answers = await Promise.all(names.map((name) => fetch(`${base}/api/v1/certificates/${name}/renew`, { method: 'POST', headers: { authorization: `Bearer ${key}` } })));
  const refused = answers.filter((answer) => answer.status !== 202);
  if (refused.length > 0) throw new Error(`renew answered ${refused[0].status}: ${await refused[0].text()}`);
  const nginxServedAt = watchNginx(db, nginxName, nginx.port, renewFrom);
  await until(() => countSince(db, renewFrom) >= AGENTS + 1 && deployedCurrent(db) >= AGENTS + 1, 'the renewals deployed');
  const latencies = deploymentLatencies(db, renewFrom, nginxName);
  const nginxServed = await nginxServedAt;
  latencies.sort((a, b) => a - b);
  return {
    agents: AGENTS,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    maxMs: latencies[latencies.length - 1],
    nginxServedMs: nginxServed,
    serverRssMb: rssMb(server.pid!, 'VmRSS'),
    serverPeakRssMb: rssMb(server.pid!, 'VmHWM'),
    agentRssMb,
    processes: PROCESSES,
    // The server's memory after it issued the first versions, and once every agent followed it.
    serverIssuedRssMb: issuedRssMb,
    serverFollowedRssMb: followedRssMb,
  };
}

/** From the nginx certificate's new version stored to nginx serving its serial (polled every 10 ms). */
async function watchNginx(db: string, name: string, port: number, since: number): Promise<number> {
  const deadline = Date.now() + TIMEOUT_MS;
  let version: { serial: string; created_at: number } | undefined;
  while (Date.now() < deadline) {
    version ??= read(db, (d) => d.prepare('SELECT v.serial, v.created_at FROM certificate_versions v JOIN certificates c ON c.current_version_id = v.id WHERE c.name = ? AND v.created_at >= ?').get(name, since) as { serial: string; created_at: number } | undefined);
    if (version) {
      const served = await servedSerial(port, name).catch(() => '');
      if (served === normalSerial(version.serial)) return Date.now() - version.created_at;
    }
    await sleep(version ? 10 : 50);
  }
  throw new Error('nginx never served the renewed certificate');
}

function deploymentLatencies(db: string, since: number, except: string): number[] {
  return read(db, (d) =>
    (d
      .prepare(
        `SELECT d.finished_at - v.created_at AS ms FROM deployments d
         JOIN certificate_versions v ON v.id = d.version_id JOIN certificates c ON c.id = v.certificate_id
         WHERE v.created_at >= ? AND d.status = 'deployed' AND c.name != ?`,
      )
      .all(since, except) as { ms: number }[]).map((row) => row.ms),
  );
}

function countSince(db: string, since: number): number {
  return read(db, (d) => (d.prepare('SELECT count(*) AS n FROM certificate_versions WHERE created_at >= ?').get(since) as { n: number }).n);
}

/** Targets whose certificate's current version is deployed there. */
function deployedCurrent(db: string): number {
  return read(db, (d) => (d.prepare(`SELECT count(*) AS n FROM deploy_targets t JOIN certificates c ON c.id = t.certificate_id JOIN deployments d ON d.target_id = t.id AND d.version_id = c.current_version_id WHERE d.status = 'deployed'`).get() as { n: number }).n);
}

function read<T>(file: string, query: (db: DatabaseSync) => T): T {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return query(db);
  } finally {
    db.close();
  }
}

async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + TIMEOUT_MS;
  while (!done()) {
    for (const child of children) if (child.exitCode !== null) throw new Error(`a process of the benchmark exited (${child.exitCode}) before ${what}`);
    if (Date.now() > deadline) throw new Error(`${what}: not reached in ${TIMEOUT_MS / 1000} s${process.env.BENCH_DEBUG ? `\n${debugState()}` : ''}`);
    await sleep(100);
  }
}

function rssMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const kb = Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  return Math.round(kb / 102.4) / 10;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function debugState(): string {
  const file = join(DEBUG_DIR.value, 'certkeep.db');
  return read(file, (d) => JSON.stringify({
    orders: d.prepare('SELECT step, error FROM orders LIMIT 5').all(),
    certificates: d.prepare('SELECT name, state, last_error, next_renewal_at FROM certificates LIMIT 5').all(),
  }, null, 1));
}
