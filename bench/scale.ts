// npm run bench:scale -- --certificates N --orders M [--seconds 60] [--ticks 25]
// What a large store costs the server when nothing is happening (issue 16).
// Seeds N healthy certificates and M finished orders (bench/fleet.ts) into a
// fresh embedded store, or with CERTKEEP_DATABASE_URL into a fresh database
// created on that PostgreSQL server (and dropped afterwards), then measures:
//   tickMs          median of the renewal scheduler's ticks, nothing due (in this process)
//   idlePollMs      median of the order worker's polls of its queue, nothing due (in this process)
//   cpuPercent      `certkeep serve` at its default settings, idle, over SECONDS, plus on
//                   PostgreSQL the database's server processes, in % of one core
//   getP99Ms/Max    GET /api/v1/certificates/{name}, 50 a second over SECONDS, against a
//                   server ticking every second (--renew-interval 1)
//   gc              that server's garbage collections meanwhile (--trace-gc): how many of each
//                   kind, the longest pause, and the heap after the last one
//   rssMb           the resident memory of that idle server
//   claim2000Seconds from 2,000 certificates falling due, with their CA unreachable and no
//                   account there yet, until every one is claimed and its failure stored
// and prints one JSON line.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { closeEngineContext, createEngineContext } from '../src/engine/context.ts';
import { RenewalScheduler } from '../src/engine/scheduler.ts';
import { createSubscription } from '../src/engine/tenancy.ts';
import { freePort } from '../src/rig/ports.ts';
import { openStore, type Store } from '../src/store/database.ts';
import { dueOrders } from '../src/store/repositories/orders.ts';
import { fleetCertificateId, seedFleet } from '../test/rig/fleet.ts';
import { loadAverage, parentPid, processCpuMs, residentMb } from './host.ts';
import { type ServeProcess, startServe, stopServe } from './serve.ts';

const { values } = parseArgs({
  options: {
    certificates: { type: 'string', default: '100000' },
    orders: { type: 'string', default: '1000000' },
    seconds: { type: 'string', default: '60' },
    ticks: { type: 'string', default: '25' },
  },
});
const certificates = Number(values.certificates);
const orders = Number(values.orders);
const seconds = Number(values.seconds);
const ticks = Math.max(20, Number(values.ticks));
const CA_URL = 'https://acme-v02.api.letsencrypt.org/directory';
const DUE = 2000;
/** The worker's default concurrency, and how many due ids it reads per poll (worker.ts). */
const WORKER_READS = 16 * 4;
const GETS_PER_SECOND = 50;
/** The GET load runs in a process of its own (scale-gets.ts says why). */
const GETS = new URL('./scale-gets.ts', import.meta.url).pathname;

const dataDir = await mkdtemp(join(tmpdir(), 'certkeep-bench-scale-'));
const database = process.env.CERTKEEP_DATABASE_URL
  ? await createDatabase(process.env.CERTKEEP_DATABASE_URL)
  : undefined;
const env = { CERTKEEP_DATA_DIR: dataDir, CERTKEEP_DATABASE_URL: database?.url ?? '' };
try {
  const started = Date.now();
  const { apiKey } = await seed();
  log(`seeded in ${Math.round((Date.now() - started) / 1000)} s`);
  const inProcess = await measureInProcess();
  log(`tick ${inProcess.tickMs} ms, idle poll ${inProcess.idlePollMs} ms`);
  const idle = await measureIdleServer();
  log(`idle server: ${idle.cpuPercent} % CPU, ${idle.rssMb} MiB`);
  const gets = await measureGets(apiKey);
  log(`GET p99 ${gets.getP99Ms} ms, max ${gets.getMaxMs} ms; GC meanwhile ${JSON.stringify(gets.gc)}`);
  const claim2000Seconds = await measureClaims();
  console.log(
    JSON.stringify({
      certificates,
      orders,
      tickMs: inProcess.tickMs,
      idlePollMs: inProcess.idlePollMs,
      cpuPercent: idle.cpuPercent,
      getP99Ms: gets.getP99Ms,
      getMaxMs: gets.getMaxMs,
      gc: gets.gc,
      rssMb: idle.rssMb,
      claim2000Seconds,
      database: database ? 'postgres' : 'sqlite',
      gets: gets.count,
      loadAverage: loadAverage(),
    }),
  );
} finally {
  await database?.drop();
  await rm(dataDir, { recursive: true, force: true });
}

function log(message: string): void {
  process.stderr.write(`bench:scale: ${message}\n`);
}

function open(): Promise<Store> {
  return openStore({ dataDir, databaseUrl: database?.url });
}

async function seed(): Promise<{ apiKey: string }> {
  const store = await open();
  const ctx = createEngineContext(store);
  try {
    const subscription = await createSubscription(ctx, 'bench');
    await seedFleet(store, {
      subscriptionId: subscription.id,
      certificates,
      orders,
      caUrl: CA_URL,
      now: Date.now(),
      progress: (what, done) => {
        if (done % 100_000 === 0) log(`${done} ${what}`);
      },
    });
    // PostgreSQL's autovacuum would vacuum and analyze the million new rows during the measurement; do it now, as after any bulk load.
    if (store.kind === 'postgres') await database!.query('vacuum analyze');
    return { apiKey: subscription.key.apiKey };
  } finally {
    await closeEngineContext(ctx);
    await store.close();
  }
}

async function measureInProcess(): Promise<{ tickMs: number; idlePollMs: number }> {
  const store = await open();
  const ctx = createEngineContext(store);
  try {
    const scheduler = new RenewalScheduler(ctx);
    await scheduler.tick(); // warm-up: not counted
    const tickTimes = [];
    for (let i = 0; i < ticks; i++) {
      const start = performance.now();
      const report = await scheduler.tick();
      tickTimes.push(performance.now() - start);
      if (report.ordersOpened + report.warnings + report.ariChecked > 0)
        throw new Error(`the fleet is not idle: ${JSON.stringify(report)}`);
    }
    const pollTimes = [];
    for (let i = 0; i < ticks + 1; i++) {
      const start = performance.now();
      const due = await dueOrders(store.db, Date.now(), WORKER_READS);
      if (i > 0) pollTimes.push(performance.now() - start);
      if (due.length > 0) throw new Error(`${due.length} orders are due in an idle fleet`);
    }
    return { tickMs: round(median(tickTimes), 2), idlePollMs: round(median(pollTimes), 3) };
  } finally {
    await closeEngineContext(ctx);
    await store.close();
  }
}

/** The server at its default settings, doing nothing but its own loops. */
async function measureIdleServer(): Promise<{ cpuPercent: number; rssMb: number }> {
  return withServer([], async (server) => {
    await sleep(5_000); // past start-up and its first tick
    const pids = await databasePids();
    const before = cpuOf(server, pids);
    const start = performance.now();
    await sleep(seconds * 1000);
    const after = cpuOf(server, [...new Set([...pids, ...(await databasePids())])]);
    const elapsed = performance.now() - start;
    const used = after.total - before.total;
    return { cpuPercent: round((100 * used) / elapsed, 2), rssMb: Math.round(residentMb(server.child.pid)) };
  });
}

async function measureGets(
  apiKey: string,
): Promise<{ getP99Ms: number; getMaxMs: number; count: number; gc: GcSummary }> {
  return withServer(['--renew-interval', '1'], async (server) => {
    const args = [server.url, apiKey, String(certificates), String(seconds), String(GETS_PER_SECOND)];
    const load = spawn(process.execPath, [GETS, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((resolve) => load.once('close', resolve));
    let gcFrom = 0;
    let result: { getP99Ms: number; getMaxMs: number; count: number } | undefined;
    for await (const line of createInterface({ input: load.stdout })) {
      if (line === 'measuring') gcFrom = (await stat(server.logFile)).size;
      else result = JSON.parse(line);
    }
    const code = await exited;
    if (code !== 0 || !result) throw new Error(`the GET load (${GETS}) ended with ${code}`);
    return { ...result, gc: summarizeGc((await readFile(server.logFile, 'utf8')).slice(gcFrom)) };
  }, ['--trace-gc']);
}

interface GcSummary {
  scavenges: number;
  markCompacts: number;
  maxPauseMs: number;
  /** The heap after the last collection. */
  heapMb: number | null;
}

/**
 * What --trace-gc printed, one line a collection: "[pid:addr] 1234 ms: Mark-Compact 58.1 (123.0) -> 49.8
 * (121.0) MB, pooled: 2 MB, 6.85 / 0.01 ms (+ 26.1 ms in 185 steps since start of marking, biggest step
 * 8.1 ms, …". A pause is the collection's own or, for a mark-compact, its longest incremental step.
 */
function summarizeGc(log: string): GcSummary {
  const summary: GcSummary = { scavenges: 0, markCompacts: 0, maxPauseMs: 0, heapMb: null };
  for (const line of log.split('\n')) {
    const collection = / ms: (Scavenge|Mark-Compact)\S* .*?-> ([\d.]+) \(.*?, ([\d.]+) \/ [\d.]+ ms/.exec(line);
    if (!collection) continue;
    const [, kind, after, pause] = collection;
    if (kind === 'Scavenge') summary.scavenges++;
    else summary.markCompacts++;
    const step = /biggest step ([\d.]+) ms/.exec(line)?.[1] ?? 0;
    summary.maxPauseMs = Math.max(summary.maxPauseMs, Number(pause), Number(step));
    summary.heapMb = Number(after);
  }
  return summary;
}

/** 2,000 certificates fall due at once with their CA unreachable and no account there: one scheduler pass deals with them. */
async function measureClaims(): Promise<number> {
  const store = await open();
  const ctx = createEngineContext(store);
  try {
    const unreachable = `https://127.0.0.1:${await freePort()}/directory`;
    const ids = Array.from({ length: DUE }, (_, i) => fleetCertificateId(i * Math.floor(certificates / DUE)));
    const now = Date.now();
    await store.db
      .updateTable('certificates')
      .set({ issuers: JSON.stringify([{ caUrl: unreachable }]), next_renewal_at: now - 1000 })
      .where('id', 'in', ids)
      .execute();
    const scheduler = new RenewalScheduler(ctx);
    const start = performance.now();
    const report = await scheduler.tick();
    const elapsed = (performance.now() - start) / 1000;
    const handled = await store.db
      .selectFrom('certificates')
      .select((eb) => eb.fn.countAll<number | string>().as('count'))
      .where('id', 'in', ids)
      .where('retry_at', '>', now)
      .executeTakeFirstOrThrow();
    if (Number(handled.count) !== DUE)
      throw new Error(
        `one pass dealt with ${handled.count} of ${DUE} due certificates (${JSON.stringify(report)})`,
      );
    return round(elapsed, 2);
  } finally {
    await closeEngineContext(ctx);
    await store.close();
  }
}

async function withServer<T>(
  args: string[],
  measure: (server: ServeProcess & { logFile: string }) => Promise<T>,
  nodeArgs: string[] = [],
): Promise<T> {
  const logFile = join(dataDir, 'serve.log');
  const server = await startServe({
    port: await freePort(),
    args: ['--http-challenge-listen', 'off', ...args],
    env: { ...env, CERTKEEP_RATE_LIMIT: 'off' },
    logFile,
    nodeArgs,
  });
  try {
    return await measure({ ...server, logFile });
  } finally {
    await stopServe(server.child);
  }
}

/** CPU time of the server and the database processes given. */
function cpuOf(server: ServeProcess, pids: number[]): { total: number } {
  let total = processCpuMs(server.child.pid);
  for (const pid of pids) {
    const used = processCpuMs(pid);
    if (!Number.isNaN(used)) total += used;
  }
  return { total };
}

/** PostgreSQL's processes: every backend and background process of the server, and the postmaster; none for SQLite. */
async function databasePids(): Promise<number[]> {
  if (!database) return [];
  const { rows } = await database.query<{ pid: number }>(
    'select pid from pg_stat_activity where pid <> pg_backend_pid()',
  );
  const pids = rows.map((row) => row.pid);
  const postmaster = pids.length > 0 ? parentPid(pids[0]) : undefined;
  return postmaster === undefined ? pids : [...pids, postmaster];
}

interface BenchDatabase {
  url: string;
  query<R extends pg.QueryResultRow>(text: string): Promise<pg.QueryResult<R>>;
  drop(): Promise<void>;
}

/** A fresh database on the server CERTKEEP_DATABASE_URL names, so nothing stored there is touched. */
async function createDatabase(serverUrl: string): Promise<BenchDatabase> {
  const name = `certkeep_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const client = new pg.Client({ connectionString: url.href });
  await client.connect();
  return {
    url: url.href,
    query: (text) => client.query(text),
    drop: async () => {
      await client.end();
      await admin.query(`drop database ${name} with (force)`);
      await admin.end();
    },
  };
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
