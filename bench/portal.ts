// npm run bench:portal [-- --certificates N --runs R]
// The portal's two numbers: the gzipped JS and CSS of its first load (what
// web/dist's page asks for), and the time from navigation start until the
// certificates list, with N (10,000) stored certificates, is shown and usable
// (its first page of rows drawn and the pager enabled; the page marks that
// frame with performance.mark) in Debian's Chromium,
// each run in a fresh browser context (nothing cached). Prints one JSON line.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { findPortalDir } from '../src/api/portal.ts';
import { closeEngineContext, createEngineContext } from '../src/engine/context.ts';
import { createSubscription } from '../src/engine/tenancy.ts';
import { createUser } from '../src/engine/users.ts';
import { seedDueCertificates } from '../test/rig/due-certificates.ts';
import { freePort } from '../src/rig/ports.ts';
import { openStore } from '../src/store/database.ts';
import { launchChromium } from '../test/portal/browser.ts';

const { values } = parseArgs({
  options: { certificates: { type: 'string', default: '10000' }, runs: { type: 'string', default: '5' } },
});
const certificates = Number(values.certificates);
const runs = Number(values.runs);
const CLI = new URL('../src/main.ts', import.meta.url).pathname;
const EMAIL = 'bench@example.test';
const PASSWORD = 'bench password, long enough';

const portal = findPortalDir();
if (!portal) throw new Error('web/dist is missing: run npm run build:web first');
const firstLoadKb = Math.round((firstLoadBytes(portal) / 1024) * 10) / 10;

const dataDir = await mkdtemp(join(tmpdir(), 'certkeep-bench-portal-'));
let server: ReturnType<typeof spawn> | undefined;
const browser = await launchChromium();
try {
  await seed(dataDir);
  const port = await freePort();
  server = await startServer(dataDir, port);
  const base = `http://127.0.0.1:${port}`;
  const times: number[] = [];
  for (let run = 0; run < runs; run++) times.push(await listReadyMs(base));
  const sorted = [...times].sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      firstLoadKb,
      listReadyMs: sorted[Math.floor(sorted.length / 2)],
      certificates,
      runsMs: times,
      maxMs: sorted.at(-1),
    }),
  );
} finally {
  await browser.close();
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((resolve) => server!.once('close', resolve));
  }
  await rm(dataDir, { recursive: true, force: true });
}

/** The page's scripts and stylesheets, gzipped as the server sends them. */
function firstLoadBytes(dir: string): number {
  const page = readFileSync(join(dir, 'index.html'), 'utf8');
  const assets = [...page.matchAll(/(?:src|href)="\/assets\/([^"]+\.(?:js|css))"/g)].map((m) => m[1]);
  return assets.reduce(
    (sum, name) => sum + gzipSync(readFileSync(join(dir, 'assets', name)), { level: 9 }).length,
    0,
  );
}

async function seed(dir: string): Promise<void> {
  const store = await openStore({ dataDir: dir });
  const ctx = createEngineContext(store);
  try {
    const subscription = await createSubscription(ctx, 'bench');
    await createUser(ctx, {
      subscriptionId: subscription.id,
      email: EMAIL,
      role: 'admin',
      password: PASSWORD,
    });
    await seedDueCertificates(store, {
      subscriptionId: subscription.id,
      count: certificates,
      caUrl: 'https://acme.invalid/directory',
      prefix: 'site',
    });
  } finally {
    await closeEngineContext(ctx);
    await store.close();
  }
}

/** One cold load of /certificates, signed in: ms from navigation start to rows drawn and the pager usable. */
async function listReadyMs(base: string): Promise<number> {
  const context = await browser.newContext({ baseURL: base, viewport: { width: 1440, height: 900 } });
  try {
    const signIn = await context.request.post('/api/v1/session', {
      data: { email: EMAIL, password: PASSWORD },
    });
    if (!signIn.ok()) throw new Error(`sign-in failed: ${signIn.status()} ${await signIn.text()}`);
    const page = await context.newPage();
    await page.goto('/certificates');
    await page.locator('table.cert-table tbody tr').nth(49).waitFor();
    await page.getByRole('button', { name: 'Next' }).and(page.locator(':enabled')).waitFor();
    // The page marks the frame in which the list was first drawn; the checks above make sure it is usable.
    const ready = await page.evaluate(
      () => performance.getEntriesByName('certificates-list-ready')[0]?.startTime ?? Number.NaN,
    );
    const summary = await page.locator('#list-summary').textContent();
    if (!summary?.includes(certificates.toLocaleString('en-US')))
      throw new Error(`the list does not show ${certificates} certificates: ${summary}`);
    return Math.round(ready);
  } finally {
    await context.close();
  }
}

async function startServer(dir: string, port: number): Promise<ReturnType<typeof spawn>> {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'serve',
      '--listen',
      `127.0.0.1:${port}`,
      '--http-challenge-listen',
      'off',
      '--workers',
      '0',
      '--renew-interval',
      '0',
    ],
    {
      env: { ...process.env, CERTKEEP_DATA_DIR: dir, CERTKEEP_RATE_LIMIT: 'off' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout!.on('data', (c) => (output += c));
  child.stderr!.on('data', (c) => (output += c));
  const deadline = Date.now() + 30_000;
  while (!output.includes('certkeep serving on')) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`certkeep serve did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return child;
}
