// npm run bench:api -- --certificates N --connections C --duration S [--rate-limit off|N/min] [--cpu-prof DIR]
// Stores N certificates (each with a current version) in a fresh embedded
// store, starts `certkeep serve` as its own process, and loads
// GET /api/v1/certificates/{name} from this process with autocannon: a short
// warm-up, then the measured run. Prints one JSON line. The server runs with
// its default logging and, unless --rate-limit says otherwise, with the rate
// limit off (CERTKEEP_RATE_LIMIT=off).
import { type ChildProcess, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon, { type Request } from 'autocannon';
import { closeEngineContext, createEngineContext } from '../src/engine/context.ts';
import { versionKeyAad } from '../src/engine/issuance.ts';
import { DEFAULT_RENEWAL_POLICY, renewalTime } from '../src/engine/renewal-policy.ts';
import { createSubscription } from '../src/engine/tenancy.ts';
import { freePort } from '../src/rig/ports.ts';
import { machineCpuMs, processCpuMs } from './host.ts';
import { startServe, stopServe } from './serve.ts';
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
  },
});
const certificates = Number(values.certificates);
const connections = Number(values.connections);
const duration = Number(values.duration);
const warmup = Number(values.warmup);

const CA_URL = 'https://acme-v02.api.letsencrypt.org/directory';
const DAY = 86_400_000;

const dataDir = await mkdtemp(join(tmpdir(), 'certkeep-bench-api-'));
let server: ChildProcess | undefined;
try {
  const apiKey = await seed(dataDir);
  const port = await freePort();
  const profile = values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof']] : [];
  const env = { CERTKEEP_DATA_DIR: dataDir, CERTKEEP_RATE_LIMIT: values['rate-limit'] };
  const serve = await startServe({ port, env, logFile: join(dataDir, 'serve.log'), nodeArgs: profile });
  server = serve.child;
  const url = serve.url;
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
  if (server) await stopServe(server);
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
    current_not_after: notAfter,
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
