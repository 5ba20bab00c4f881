// npm run bench:issue -- --count N --concurrency C
// Issues N certificates through the engine (the code path of `certkeep issue`,
// store included) against a local Pebble that skips validation, and prints one
// JSON line. Client CPU is this process's user+system time per certificate.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { issueCertificate } from '../src/engine/certificates.ts';
import { validateRequest } from '../src/engine/requests.ts';
import { engineOn } from '../src/engine/engine.ts';
import { startPebble } from '../src/rig/pebble.ts';
import { freePort } from '../src/rig/ports.ts';
import { openStore } from '../src/store/database.ts';
import { DEFAULT_SUBSCRIPTION_ID, ensureSubscription } from '../src/store/repositories/subscriptions.ts';

const { values } = parseArgs({ options: { count: { type: 'string', default: '500' }, concurrency: { type: 'string', default: '32' } } });
const count = Number(values.count);
const concurrency = Number(values.concurrency);
const ATTEMPTS = 8;
const STALL_MS = 10_000;

interface Result {
  seconds: number;
  cpuMs: number;
  failures: number;
}

/**
 * One run on a fresh Pebble and store, or 'deadlock': Debian's Pebble 2.4 can
 * deadlock under concurrent load (its authorization handler holds an authz lock
 * while it reads its store), and then no certificate finishes any more.
 */
async function runOnce(): Promise<Result | 'deadlock'> {
  const pebble = await startPebble({ env: { PEBBLE_VA_ALWAYS_VALID: '1' } });
  const dataDir = await mkdtemp(join(tmpdir(), 'certkeep-bench-'));
  const store = await openStore({ dataDir });
  // The engine `certkeep issue` opens: this process answers the challenges.
  const ctx = engineOn(store, { answers: 'local' });
  const { solvers } = ctx;
  const httpPort = await freePort();
  await ensureSubscription(store.db, DEFAULT_SUBSCRIPTION_ID, 'default', Date.now());
  const request = (i: number) =>
    validateRequest({
      subscriptionId: DEFAULT_SUBSCRIPTION_ID,
      names: [`bench-${i}.example.test`],
      challengeConfig: { httpHost: '127.0.0.1', httpPort },
      issuers: [{ caUrl: pebble.directoryUrl, caCertPem: pebble.caCertPem }],
    });
  try {
    // Warm up: the account, the connection pool and the JIT; not measured.
    await issueCertificate(ctx, request(-1), { solvers });
    let next = 0;
    let done = 0;
    let failures = 0;
    let deadlocked = false;
    let lastDone = -1;
    const watchdog = setInterval(() => {
      if (done === lastDone && !deadlocked) {
        deadlocked = true;
        void pebble.stop(); // fails the requests that hang, so that the workers end
      }
      lastDone = done;
    }, STALL_MS);
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < count && !deadlocked) {
          const i = next++;
          try {
            await issueCertificate(ctx, request(i), { solvers });
            done++;
          } catch (error) {
            failures++;
            if (failures <= 3 && !deadlocked) process.stderr.write(`bench-${i}: ${(error as Error).message}\n`);
          }
        }
      }),
    );
    clearInterval(watchdog);
    if (deadlocked) return 'deadlock';
    const cpu = process.cpuUsage(cpuBefore);
    return { seconds: (performance.now() - started) / 1000, cpuMs: (cpu.user + cpu.system) / 1000, failures };
  } finally {
    await ctx.close();
    await store.close();
    await pebble.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
  const result = await runOnce();
  if (result === 'deadlock') {
    process.stderr.write(`Pebble deadlocked (a known Pebble 2.4 bug under load); starting again with a fresh Pebble (${attempt}/${ATTEMPTS})\n`);
    continue;
  }
  const certs = count - result.failures;
  console.log(
    JSON.stringify({
      certs,
      concurrency,
      seconds: round(result.seconds, 3),
      certsPerSecond: round(certs / result.seconds, 1),
      clientCpuMsPerCert: round(result.cpuMs / count, 2),
      rssMb: round(process.memoryUsage().rss / 1048576, 1),
      ...(result.failures > 0 ? { failures: result.failures } : {}),
      ...(attempt > 1 ? { pebbleRestarts: attempt - 1 } : {}),
    }),
  );
  process.exit(result.failures > 0 ? 1 : 0);
}
process.stderr.write(`Pebble deadlocked ${ATTEMPTS} times; no result\n`);
process.exit(2);

function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}
