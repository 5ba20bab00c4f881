// npm run bench:dns01 [-- --runs N]
// Issues N certificates one after another over DNS-01 with the real CLI:
// BIND takes the TXT records over RFC 2136 with TSIG, Pebble validates them
// for real by querying BIND. Each run is timed from the command's start to
// its exit, after the certificate is stored. Prints one JSON line.
// Run `npm run build` first after changing src/, or the sources are timed.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startBind } from '../src/rig/bind.ts';
import { startPebble } from '../src/rig/pebble.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' } } });
const runs = Number(values.runs);
// The command a user runs: the bundle built at install time, or the sources when they are newer.
const CLI = new URL('../bin/certkeep.js', import.meta.url).pathname;

const bind = await startBind({ zones: ['bench.test'] });
const pebble = await startPebble({ dnsServer: bind.address });
const dataDir = await mkdtemp(join(tmpdir(), 'certkeep-bench-dns01-'));
const env = { ...process.env, CERTKEEP_DATA_DIR: dataDir, CERTKEEP_CA: pebble.directoryUrl, CERTKEEP_CA_CERT: pebble.caCertFile, CERTKEEP_RESOLVER: bind.address };

function certkeep(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => (code === 0 ? resolve((performance.now() - started) / 1000) : reject(new Error(`certkeep ${args.join(' ')}: ${stderr}`))));
  });
}

try {
  const { name, algorithm, secret } = bind.tsig;
  await certkeep(['zone', 'add', 'bench.test', '--provider', 'rfc2136', '--server', bind.address, '--tsig-key', name, '--tsig-secret', secret, '--tsig-algorithm', algorithm, '--nameserver', bind.address]);
  // The ACME account is made once, as it is for a user's first certificate.
  await certkeep(['issue', '-d', 'warmup.bench.test', '--challenge', 'dns-01']);
  const seconds: number[] = [];
  for (let i = 0; i < runs; i++) {
    seconds.push(await certkeep(['issue', '-d', `run${i}.bench.test`, '-d', `*.run${i}.bench.test`, '--challenge', 'dns-01']));
  }
  seconds.sort((a, b) => a - b);
  const at = (q: number) => seconds[Math.min(seconds.length - 1, Math.ceil(q * seconds.length) - 1)];
  console.log(JSON.stringify({ runs, medianSeconds: round(at(0.5)), p90Seconds: round(at(0.9)), names: 2 }));
} finally {
  await pebble.stop();
  await bind.stop();
  await rm(dataDir, { recursive: true, force: true });
}

function round(value: number): number {
  return Number(value.toFixed(3));
}
