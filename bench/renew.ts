// npm run bench:renew -- [--count 2000] [--workers 32]
// Stores COUNT certificates that are all due, runs `certkeep serve` (its own
// process, embedded database) against a local Pebble that skips validation,
// and prints one JSON line: the time from the first order the scheduler opened
// to the last certificate version stored.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { parseArgs } from 'node:util';
import { seedDueCertificates } from '../src/rig/due-certificates.ts';
import { startPebble } from '../src/rig/pebble.ts';
import { freePort } from '../src/rig/ports.ts';
import { openStore } from '../src/store/database.ts';
import { DEFAULT_SUBSCRIPTION_ID, ensureSubscription } from '../src/store/repositories/subscriptions.ts';

const { values } = parseArgs({ options: { count: { type: 'string', default: '2000' }, workers: { type: 'string', default: '32' } } });
const count = Number(values.count);
const TIMEOUT_MS = 300_000;
const CLI = new URL('../src/cli/main.ts', import.meta.url).pathname;

const pebble = await startPebble({ env: { PEBBLE_VA_ALWAYS_VALID: '1' } });
const dataDir = await mkdtemp(join(tmpdir(), 'certkeep-bench-renew-'));
try {
  const store = await openStore({ dataDir });
  await ensureSubscription(store.db, DEFAULT_SUBSCRIPTION_ID, 'default', Date.now());
  const seededAt = Date.now();
  await seedDueCertificates(store, { subscriptionId: DEFAULT_SUBSCRIPTION_ID, count, caUrl: pebble.directoryUrl, caCertPem: pebble.caCertPem, now: seededAt });
  await store.close();

  const server = spawn(
    process.execPath,
    [CLI, 'serve', '--listen', `127.0.0.1:${await freePort()}`, '--http-challenge-listen', 'off', '--renew-interval', '1', '--workers', values.workers!],
    { env: { ...process.env, CERTKEEP_DATA_DIR: dataDir, CERTKEEP_JSON: '1' }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  server.stderr!.on('data', (chunk) => (stderr += chunk));
  const progress = await waitForRenewals(join(dataDir, 'certkeep.db'), seededAt, () => server.exitCode !== null);
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('close', resolve));
  if (progress.renewed < count) throw new Error(`only ${progress.renewed} of ${count} renewed in ${TIMEOUT_MS / 1000} s\n${stderr.slice(-2000)}`);
  const seconds = (progress.lastStored - progress.firstOrder) / 1000;
  console.log(JSON.stringify({ certs: count, seconds: round(seconds), certsPerSecond: round(count / seconds), workers: Number(values.workers), orders: progress.orders }));
} finally {
  await pebble.stop();
  await rm(dataDir, { recursive: true, force: true });
}

/** Polls the database (read-only, beside the server) until every certificate has its new version. */
async function waitForRenewals(file: string, since: number, died: () => boolean) {
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    const db = new DatabaseSync(file, { readOnly: true });
    try {
      const versions = db.prepare('SELECT count(*) AS n, max(created_at) AS last FROM certificate_versions WHERE created_at >= ?').get(since) as { n: number; last: number };
      const orders = db.prepare('SELECT count(*) AS n, min(created_at) AS first FROM orders').get() as { n: number; first: number };
      if (versions.n >= count || Date.now() > deadline || died()) {
        return { renewed: versions.n, lastStored: versions.last, firstOrder: orders.first, orders: orders.n };
      }
    } finally {
      db.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
