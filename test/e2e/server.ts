// `certkeep serve` as a real process on the e2e rig: its API on a free port,
// its HTTP-01 responder on the port Pebble validates at, the rig's Pebble as
// the default CA. For the native API and the compatibility API tests.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { createRfc2136Provider } from '../../src/dns/providers/rfc2136/rfc2136.ts';
import { freePort } from '../../src/rig/ports.ts';
import type { Pebble } from '../../src/rig/pebble.ts';
import { type Answer, undocumented } from '../openapi/answers.ts';
import { ALLOW_LOOPBACK_ARGS } from '../rig/limits.ts';
import { type Rig, runCli } from './harness.ts';

const CLI = new URL('../../src/main.ts', import.meta.url).pathname;
const RECORDER = new URL('../openapi/record-serve.ts', import.meta.url).pathname;

export interface Server {
  base: string;
  /** The environment the server runs with (its data dir, CA): for `certkeep admin` beside it. */
  env: Record<string, string>;
  /** Everything the process printed so far (for failure messages and log checks). */
  output(): string;
  /** A new subscription with a write key (and a read key). */
  subscription(name: string): Promise<{ id: string; apiKey: string; readKey: string }>;
  /** fetch against the API with a key; JSON bodies are sent as JSON. */
  call(method: string, path: string, options?: { key?: string; body?: unknown; headers?: Record<string, string> }): Promise<Response>;
  /**
   * Stops the process with SIGTERM; resolves with its exit code. Answers the
   * server gave that its OpenAPI document does not list fail the test file
   * (after its suites, so that every process is stopped first).
   */
  stop(): Promise<number | null>;
  process: ChildProcess;
}

/** What a server runs against: a CA and a data dir; a full rig (harness.ts) also gives BIND as resolver and Pebble's HTTP-01 port. */
export interface ServerTarget {
  pebble: Pick<Pebble, 'directoryUrl' | 'caCertFile'>;
  dataDir: string;
  bind?: Pick<Rig['bind'], 'address'>;
  httpPort?: number;
}

export interface ServerOptions {
  /** Default: the rig's HTTP port (where Pebble validates HTTP-01), or 'off' when the target has none. */
  httpChallengeListen?: string;
  args?: string[];
  /** Tenants' URLs may reach loopback, where the rig's CAs, DNS servers and receivers listen (default true). */
  allowLoopback?: boolean;
  env?: Record<string, string>;
  dataDir?: string;
  /** The API's port (default: a free one); a restarted server takes the port it had. */
  port?: number;
}

export async function startServer(rig: ServerTarget, options: ServerOptions = {}): Promise<Server> {
  const port = options.port ?? (await freePort());
  const dataDir = options.dataDir ?? rig.dataDir;
  const answers = join(tmpdir(), `certkeep-answers-${randomUUID()}.jsonl`);
  const env = {
    CERTKEEP_TEST_ANSWERS: answers,
    CERTKEEP_DATA_DIR: dataDir,
    CERTKEEP_CA: rig.pebble.directoryUrl,
    CERTKEEP_CA_CERT: rig.pebble.caCertFile,
    ...(rig.bind ? { CERTKEEP_RESOLVER: rig.bind.address } : {}),
    ...options.env,
  };
  const child = spawn(
    process.execPath,
    [
      '--import',
      RECORDER,
      CLI,
      'serve',
      '--listen',
      `127.0.0.1:${port}`,
      '--http-challenge-listen',
      options.httpChallengeListen ?? (rig.httpPort ? `127.0.0.1:${rig.httpPort}` : 'off'),
      ...(options.allowLoopback === false ? [] : ALLOW_LOOPBACK_ARGS),
      ...(options.args ?? []),
    ],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const deadline = Date.now() + 20_000;
  while (!output.includes('certkeep serving on')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`certkeep serve did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const base = `http://127.0.0.1:${port}`;
  const call: Server['call'] = (method, path, callOptions = {}) =>
    fetch(`${base}${path}`, {
      method,
      headers: {
        ...(callOptions.key ? { authorization: `Bearer ${callOptions.key}` } : {}),
        ...(callOptions.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...callOptions.headers,
      },
      body: callOptions.body === undefined ? undefined : typeof callOptions.body === 'string' ? callOptions.body : JSON.stringify(callOptions.body),
    });
  return {
    base,
    env,
    process: child,
    output: () => output,
    call,
    async subscription(name) {
      const created = await runCli(['admin', 'subscription', 'create', name, '--json'], env);
      if (created.code !== 0) throw new Error(created.stderr);
      const { id, apiKey } = created.json();
      const read = await runCli(['admin', 'apikey', 'create', '--subscription', id, '--scope', 'read', '--json'], env);
      if (read.code !== 0) throw new Error(read.stderr);
      return { id, apiKey, readKey: read.json().apiKey };
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const code = await exited;
      undocumentedSeen.push(...(await undocumentedAnswers(answers)));
      return code;
    },
  };
}

/** Every server's answers that its document does not list, failed on once the file's suites are done. */
const undocumentedSeen: string[] = [];
after(() => {
  const problems = [...new Set(undocumentedSeen)];
  if (problems.length > 0) throw new Error(`certkeep serve gave answers its OpenAPI document does not list:\n${problems.join('\n')}`);
});

/** What the server's recorder saw (test/openapi/record-serve.ts) that its document does not list; the files are removed. */
async function undocumentedAnswers(file: string): Promise<string[]> {
  try {
    const document = JSON.parse(await readFile(`${file}.openapi.json`, 'utf8'));
    const lines = (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean);
    return undocumented(document, lines.map((line) => JSON.parse(line) as Answer));
  } catch (error) {
    // A server that never became ready wrote no document: nothing to hold its answers against.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  } finally {
    await rm(file, { force: true });
    await rm(`${file}.openapi.json`, { force: true });
  }
}

/** Polls `read` until `done` holds; fails with the last value after `timeoutMs`. */
export async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what} not reached in ${timeoutMs} ms; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Polls an order of the native API until the CA has judged it (valid or invalid); resolves with the order view. */
export async function settledOrder(server: Server, orderId: string, key: string) {
  return eventually(
    async () => (await server.call('GET', `/api/v1/orders/${orderId}`, { key })).json(),
    (order) => order.status === 'valid' || order.status === 'invalid',
    60_000,
    `order ${orderId} settled`,
  );
}

/** What a client of the compatibility APIs does with a DNS token: writes the TXT record at its DNS server (here BIND over RFC 2136). */
export function clientDns(rig: Rig) {
  const { zone, settings } = bindZoneBody(rig);
  const provider = createRfc2136Provider({ zone, settings });
  return {
    place: (fqdn: string, value: string) => provider.present({ fqdn, value }),
    remove: (fqdn: string, value: string) => provider.cleanup({ fqdn, value }),
  };
}

/** The rig's BIND zone as a managed rfc2136 zone (POST /api/v1/zones), so that certkeep writes DNS-01 records itself. */
export function bindZoneBody(rig: Rig) {
  return {
    zone: rig.bind.zones[0],
    provider: 'rfc2136',
    settings: { server: rig.bind.address, tsigKey: rig.bind.tsig.name, tsigSecret: rig.bind.tsig.secret, tsigAlgorithm: rig.bind.tsig.algorithm },
    nameservers: [rig.bind.address],
  };
}
