// npm run bench:renew -- [--count 2000] [--workers 32]
// Stores COUNT certificates that are all due, runs `certkeep serve` (its own
// process, embedded database) against a local Pebble that skips validation,
// and prints one JSON line: the time from the first order the scheduler opened
// to the last certificate version stored.
//
// Debian's Pebble 2.4 can deadlock under concurrent load (see bench/issue.ts);
// a run in which no certificate is stored for STALL_MS is thrown away and
// started again on a fresh Pebble and store, and counted in pebbleDeadlocks.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { parseArgs } from 'node:util';
import { seedDueCertificates } from '../test/rig/due-certificates.ts';
import { startPebble } from '../src/rig/pebble.ts';
import { freePort } from '../src/rig/ports.ts';
import { openStore } from '../src/store/database.ts';
import { DEFAULT_SUBSCRIPTION_ID, ensureSubscription } from '../src/store/repositories/subscriptions.ts';

const { values } = parseArgs({ options: { count: { type: 'string', default: '2000' }, workers: { type: 'string', default: '32' } } });
const count = Number(values.count);
const ATTEMPTS = 8;
const STALL_MS = 8_000;
/** A server that places no order at all is misconfigured, not deadlocked: say why and stop. */
const NO_ORDER_MS = 30_000;
const CLI = new URL('../src/main.ts', import.meta.url).pathname;

interface Progress {
  renewed: number;
  firstOrder: number;
  lastStored: number;
  orders: number;
}

let deadlocks = 0;
for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
  const result = await runOnce();
  if (result === 'deadlock') {
    deadlocks++;
    continue;
  }
  const seconds = (result.lastStored - result.firstOrder) / 1000;
  console.log(
    JSON.stringify({ certs: count, seconds: round(seconds), certsPerSecond: round(count / seconds), workers: Number(values.workers), orders: result.orders, pebbleDeadlocks: deadlocks }),
  );
  process.exit(0);
}
console.error(`Pebble deadlocked in each of ${ATTEMPTS} runs`);
process.exit(1);

async function runOnce(): Promise<Progress | 'deadlock'> {
  const pebble = await startPebble({ env: { PEBBLE_VA_ALWAYS_VALID: '1' } });
  const dataDir = await mkdtemp(join(tmpdir(), 'certkeep-bench-renew-'));
  let server: ChildProcess | undefined;
  try {
    const store = await openStore({ dataDir });
    await ensureSubscription(store.db, DEFAULT_SUBSCRIPTION_ID, 'default', Date.now());
    const seededAt = Date.now();
    await seedDueCertificates(store, { subscriptionId: DEFAULT_SUBSCRIPTION_ID, count, caUrl: pebble.directoryUrl, caCertPem: pebble.caCertPem, now: seededAt });
    await store.close();
    const args = ['serve', '--listen', `127.0.0.1:${await freePort()}`, '--http-challenge-listen', 'off', '--renew-interval', '1', '--workers', values.workers!,
      // Pebble listens on loopback, which the server reaches only where its operator allows (issue 9).
      '--allow-outbound', '127.0.0.1/32'];
    server = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, CERTKEEP_DATA_DIR: dataDir, ...(process.env.BENCH_SERVER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_SERVER_NODE_OPTIONS } : {}) }, stdio: ['ignore', 'ignore', 'inherit'] });
    return await waitForRenewals(join(dataDir, 'certkeep.db'), seededAt, server);
  } finally {
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await new Promise((resolve) => server!.once('close', resolve));
    }
    await pebble.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Polls the database (read-only, beside the server) until every certificate has its new version. */
async function waitForRenewals(file: string, since: number, server: ChildProcess): Promise<Progress | 'deadlock'> {
  let last = { renewed: -1, at: Date.now() };
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    if (server.exitCode !== null) throw new Error(`certkeep serve exited with ${server.exitCode}`);
    const db = new DatabaseSync(file, { readOnly: true });
    try {
      const versions = db.prepare('SELECT count(*) AS n, max(created_at) AS last FROM certificate_versions WHERE created_at >= ?').get(since) as { n: number; last: number };
      const orders = db.prepare('SELECT count(*) AS n, min(created_at) AS first FROM orders').get() as { n: number; first: number };
      if (versions.n >= count) return { renewed: versions.n, lastStored: versions.last, firstOrder: orders.first, orders: orders.n };
      if (versions.n !== last.renewed) last = { renewed: versions.n, at: Date.now() };
      else if (orders.n > 0 && Date.now() - last.at > STALL_MS) return 'deadlock';
      else if (orders.n === 0 && Date.now() - last.at > NO_ORDER_MS) throw new Error(`no order placed in ${NO_ORDER_MS / 1000} s: ${firstError(db) ?? 'no error stored'}`);
    } finally {
      db.close();
    }
  }
}

function firstError(db: DatabaseSync): string | undefined {
  const row = db.prepare('SELECT last_error FROM certificates WHERE last_error IS NOT NULL LIMIT 1').get() as { last_error: string } | undefined;
  return row?.last_error;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
