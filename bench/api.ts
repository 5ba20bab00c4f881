// npm run bench:api -- --certificates N --connections C --duration S [--rate-limit off|N/min] [--metrics] [--cpu-prof DIR]
// Stores N certificates (each with a current version) in a fresh embedded
// store, starts `certkeep serve` as its own process, and loads
// GET /api/v1/certificates/{name} from this process with autocannon: a short
// warm-up, then the measured run. Prints one JSON line. The server runs with
// its default logging and, unless --rate-limit says otherwise, with the rate
// limit off (CERTKEEP_RATE_LIMIT=off). With --metrics the server also runs
// --metrics-listen and is scraped as Prometheus would, every --scrape-interval
// seconds (default 15), during the warm-up and the run.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon, { type Request } from 'autocannon';
import { closeEngineContext, createEngineContext } from '../src/engine/context.ts';
import { versionKeyAad } from '../src/engine/issuance.ts';
import { DEFAULT_RENEWAL_POLICY, renewalTime } from '../src/engine/renewal-policy.ts';
import { createSubscription } from '../src/engine/tenancy.ts';
import { freePort } from '../src/rig/ports.ts';
import { openStore, type Store } from '../src/store/database.ts';
import { newId } from '../src/store/ids.ts';
import { insertCertificate, insertVersion, UNTOUCHED_RENEWAL_STATE } from '../src/store/repositories/certificates.ts';

const { values } = parseArgs({
  options: {
    certificates: { type: 'string', default: '10000' },
    connections: { type: 'string', default: '10' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    // Writes the server's V8 CPU profile (.cpuprofile) into this directory.
    'cpu-prof': { type: 'string' },
    // The server's CERTKEEP_RATE_LIMIT: off, or a limit the run stays under (e.g. 100000000/min) to measure the limiter's cost.
    'rate-limit': { type: 'string', default: 'off' },
    metrics: { type: 'boolean', default: false },
    'scrape-interval': { type: 'string', default: '15' },
  },
});
const certificates = Number(values.certificates);
const connections = Number(values.connections);
const duration = Number(values.duration);
const warmup = Number(values.warmup);

const CLI = new URL('../src/main.ts', import.meta.url).pathname;
const CA_URL = 'https://acme-v02.api.letsencrypt.org/directory';
const DAY = 86_400_000;

const dataDir = await mkdtemp(join(tmpdir(), 'certkeep-bench-api-'));
let server: ReturnType<typeof spawn> | undefined;
try {
  const apiKey = await seed(dataDir);
  const port = await freePort();
  const metricsPort = values.metrics ? await freePort() : undefined;
  const logFile = join(dataDir, 'serve.log');
  server = await startServer(dataDir, port, logFile, metricsPort);
  const scraper = metricsPort ? scrapeEvery(`http://127.0.0.1:${metricsPort}/metrics`, Number(values['scrape-interval']) * 1000) : undefined;
  const url = `http://127.0.0.1:${port}`;
  const headers = { authorization: `Bearer ${apiKey}` };
  // Each connection asks for its own share of the names, in random order:
  // together they cover every certificate. (Requests are built per connection
  // at start-up, so each gets only its share.)
  const shares = requestShares(certificates, connections);
  let next = 0;
  const requests = [shares[0][0]];
  const setupClient = (client: { setRequests(requests: Request[]): void }) => client.setRequests(shares[next++ % connections]);
  await autocannon({ url, connections, duration: warmup, headers, requests, setupClient });
  const cpuBefore = processCpuMs(server.pid);
  const loadCpuBefore = process.cpuUsage();
  const machineBefore = machineCpuMs();
  const result = await autocannon({ url, connections, duration, headers, requests, setupClient });
  const serverCpuMs = processCpuMs(server.pid) - cpuBefore;
  const loadCpu = process.cpuUsage(loadCpuBefore);
  const loadCpuMs = (loadCpu.user + loadCpu.system) / 1000;
  const machine = machineCpuMs(machineBefore);
  const scrapes = await scraper?.stop();
  const total = result.requests.total;
  console.log(
    JSON.stringify({
      requestsPerSecond: Math.round(result.requests.average),
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      maxMs: result.latency.max,
      certificates,
      connections,
      rateLimit: values['rate-limit'],
      metrics: values.metrics,
      ...(scrapes ? { scrapes: scrapes.count, scrapeMs: scrapes.slowestMs } : {}),
      seconds: result.duration,
      requests: total,
      serverCpuUsPerRequest: Number.isNaN(serverCpuMs) ? undefined : Math.round((serverCpuMs * 1000) / total),
      loadCpuUsPerRequest: Math.round((loadCpuMs * 1000) / total),
      // The host is shared: CPU that neither process used during the run, and CPU stolen by the hypervisor.
      ...(machine ? { othersCpuPercent: Math.max(0, Math.round((100 * (machine.busyMs - serverCpuMs - loadCpuMs)) / machine.totalMs)), stealPercent: Math.round((100 * machine.stealMs) / machine.totalMs) } : {}),
      ...(result.non2xx > 0 ? { non2xx: result.non2xx, statusCodes: result.statusCodeStats } : {}),
      ...(result.errors > 0 ? { errors: result.errors, timeouts: result.timeouts } : {}),
    }),
  );
  process.exitCode = result.non2xx > 0 || result.errors > 0 ? 1 : 0;
} finally {
  if (server) await stopServer(server);
  await rm(dataDir, { recursive: true, force: true });
}

/** The subscription, its API key, and the certificates with their current versions, in one transaction. */
async function seed(dir: string): Promise<string> {
  const store = await openStore({ dataDir: dir });
  const ctx = createEngineContext(store);
  try {
    const subscription = await createSubscription(ctx, 'bench');
    const material = certificateMaterial(dir);
    await store.db.transaction().execute(async (trx) => {
      for (let i = 0; i < certificates; i++) await insertCertificateWithVersion({ ...store, db: trx }, subscription.id, i, material);
    });
    return subscription.key.apiKey;
  } finally {
    await closeEngineContext(ctx);
    await store.close();
  }
}

async function insertCertificateWithVersion(store: Store, subscriptionId: string, i: number, material: { chainPem: string; keyPem: string }) {
  const now = Date.now();
  const certificateId = newId('crt');
  const versionId = newId('ver');
  const name = certificateName(i);
  // Issued some time in the last 60 days, valid for 90.
  const notBefore = now - ((i * 7919) % 60) * DAY;
  const notAfter = notBefore + 90 * DAY;
  await insertCertificate(store.db, {
    id: certificateId,
    subscription_id: subscriptionId,
    name,
    identifiers: [
      { type: 'dns', value: name },
      { type: 'dns', value: `www.${name}` },
    ],
    challenge_type: 'http-01',
    challenge_config: { httpPort: 80 },
    key_type: 'ec-p256',
    issuers: [{ caUrl: CA_URL }],
    profile: null,
    renewal_policy: DEFAULT_RENEWAL_POLICY,
    pfx_password_enc: null,
    csr_info: {},
    state: 'valid',
    current_version_id: versionId,
    next_renewal_at: renewalTime(notBefore, notAfter, DEFAULT_RENEWAL_POLICY),
    ...UNTOUCHED_RENEWAL_STATE,
    created_at: notBefore,
    updated_at: notBefore,
  });
  await insertVersion(store.db, {
    id: versionId,
    certificate_id: certificateId,
    order_id: null,
    serial: randomBytes(18).toString('hex'),
    not_before: notBefore,
    not_after: notAfter,
    chain_pem: material.chainPem,
    key_enc: store.secrets.encrypt(material.keyPem, versionKeyAad(versionId)),
    ca_url: CA_URL,
    ari_cert_id: `${randomBytes(20).toString('base64url')}.${randomBytes(16).toString('base64url')}`,
    ari_window_start: null,
    ari_window_end: null,
    created_at: notBefore,
  });
}

/** A real EC key and a two-certificate chain, so that rows have their real sizes. */
function certificateMaterial(dir: string): { chainPem: string; keyPem: string } {
  const keyFile = join(dir, 'bench-key.pem');
  const certFile = join(dir, 'bench-cert.pem');
  const make = (subject: string) =>
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '90', '-subj', subject, '-addext', 'subjectAltName=DNS:bench.example.test'], { stdio: 'ignore' });
  make('/CN=certkeep bench issuer');
  const issuer = readFileSync(certFile, 'utf8');
  make('/CN=bench.example.test');
  return { chainPem: readFileSync(certFile, 'utf8') + issuer, keyPem: readFileSync(keyFile, 'utf8') };
}

function certificateName(i: number): string {
  return `bench-${String(i).padStart(5, '0')}.example.test`;
}

/** Every certificate once, shuffled, dealt out to the connections. */
function requestShares(count: number, hands: number): Request[][] {
  const order = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const shares: Request[][] = Array.from({ length: hands }, () => []);
  order.forEach((n, i) => {
    shares[i % hands].push({ method: 'GET', path: `/api/v1/certificates/${certificateName(n)}` });
  });
  return shares;
}

/** Scrapes `url` at once and then every `intervalMs`, as Prometheus does; stop() says how many scrapes and the slowest. */
function scrapeEvery(url: string, intervalMs: number): { stop(): Promise<{ count: number; slowestMs: number }> } {
  let count = 0;
  let slowestMs = 0;
  let running: Promise<void> = Promise.resolve();
  const scrape = async () => {
    const started = performance.now();
    const response = await fetch(url);
    const text = await response.text();
    if (!response.ok || !text.includes('certkeep_certificate_expiration_timestamp_seconds')) throw new Error(`scrape of ${url} failed: ${response.status}`);
    slowestMs = Math.max(slowestMs, Math.round(performance.now() - started));
    count++;
  };
  running = scrape();
  const timer = setInterval(() => {
    running = running.then(scrape);
  }, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await running;
      return { count, slowestMs };
    },
  };
}

async function startServer(dir: string, port: number, logFile: string, metricsPort?: number): Promise<ReturnType<typeof spawn>> {
  const log = await open(logFile, 'w');
  const profile = values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof']] : [];
  const metrics = metricsPort ? ['--metrics-listen', `127.0.0.1:${metricsPort}`] : [];
  const child = spawn(process.execPath, [...profile, CLI, 'serve', '--listen', `127.0.0.1:${port}`, '--http-challenge-listen', 'off', ...metrics], {
    env: { ...process.env, CERTKEEP_DATA_DIR: dir, CERTKEEP_RATE_LIMIT: values['rate-limit'] },
    stdio: ['ignore', log.fd, log.fd],
  });
  await log.close();
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`certkeep serve exited with ${child.exitCode}:\n${await readFile(logFile, 'utf8')}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) return child;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`certkeep serve did not start in 30 s:\n${await readFile(logFile, 'utf8')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function stopServer(child: ReturnType<typeof spawn>): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

interface MachineCpu {
  busyMs: number;
  stealMs: number;
  totalMs: number;
}

/** All CPUs' busy, stolen and total time from /proc/stat (Linux), or its change since `before`. */
function machineCpuMs(before?: MachineCpu): MachineCpu | undefined {
  try {
    const [user, nice, system, idle, iowait, irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0].split(/\s+/).slice(1).map(Number);
    const ms = (ticks: number) => (ticks * 1000) / 100;
    const now = { busyMs: ms(user + nice + system + irq + softirq), stealMs: ms(steal), totalMs: ms(user + nice + system + idle + iowait + irq + softirq + steal) };
    return before ? { busyMs: now.busyMs - before.busyMs, stealMs: now.stealMs - before.stealMs, totalMs: now.totalMs - before.totalMs } : now;
  } catch {
    return undefined;
  }
}

/** User + system CPU time of a process from /proc (Linux); NaN elsewhere. */
function processCpuMs(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
    return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return Number.NaN;
  }
}
