// Pebble (Let's Encrypt's test ACME CA, Debian's /usr/bin/pebble) on loopback,
// for tests, benchmarks and `certkeep demo`. Pebble forgets everything when it
// stops, including the roots it signs with.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { type LoopbackTls, makeLoopbackTls } from './openssl-ca.ts';
import { freePort } from './ports.ts';
import { NOT_FOUND_EXIT, spawnTied, stopTied } from './tied-process.ts';

export interface PebbleOptions {
  /** host:port passed as -dnsserver (e.g. the BIND rig); omitted: Pebble uses the system resolver. */
  dnsServer?: string;
  /** Port Pebble's VA connects to for http-01 (default: a free port). */
  httpPort?: number;
  /** Port Pebble's VA connects to for tls-alpn-01 (default: a free port). */
  tlsPort?: number;
  /** Extra environment, e.g. { PEBBLE_VA_ALWAYS_VALID: '1', PEBBLE_WFE_NONCEREJECT: '50' }. */
  env?: Record<string, string>;
  /** kid -> base64url HMAC key; makes External Account Binding required. */
  eabKeys?: Record<string, string>;
  /** Where config and TLS files go (default: a temp dir removed on stop). */
  workDir?: string;
  /** The pebble binary (default /usr/bin/pebble). */
  binary?: string;
}

export interface Pebble {
  directoryUrl: string;
  managementUrl: string;
  /** Trust anchor for Pebble's HTTPS (the rig's own openssl CA). */
  caCertPem: string;
  caCertFile: string;
  /** The root Pebble signs certificates with (changes on every start); 1, 2… the roots of its alternate chains (PEBBLE_ALTERNATE_ROOTS). */
  rootsPem(index?: number): Promise<string>;
  intermediatesPem(): Promise<string>;
  stop(): Promise<void>;
  /**
   * Stops and starts again on the same ports with the same TLS files, so the
   * directory URL and the HTTPS trust stay; Pebble makes new roots and forgets
   * every account, order and authorization. `whileDown` runs in between (an outage).
   */
  restart(options?: { whileDown?: () => Promise<void> }): Promise<void>;
  /** How many requests Pebble logged for a path ("/order-plz", "/finalize-order/"), since startPebble (restarts included). */
  requestCount(path: string): number;
  /**
   * What Pebble created since it last (re)started, from its log, once the log
   * has caught up with every answer given so far. Rejected requests (bad
   * nonces, unknown accounts) create nothing.
   */
  created(): Promise<PebbleCreated>;
}

export interface PebbleCreated {
  accounts: number;
  orders: number;
  certificates: number;
}

// PEBBLE_AUTHZREUSE=0: Pebble 2.4 deadlocks under concurrent load when it looks
// for a reusable authorization (MemoryStore.FindValidAuthorization re-takes its
// read lock while AddCertificate waits for the write lock). Callers that test
// authorization reuse turn it back on. Even at 0 Pebble reuses a valid
// authorization one time in a hundred (it compares rand.Intn(100) > percent),
// so a test must not count on every name of a repeated order being pending.
const DEFAULT_ENV = { PEBBLE_VA_NOSLEEP: '1', PEBBLE_AUTHZREUSE: '0' };
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;
const START_ATTEMPTS = 3;
const TAIL_CHARS = 4000;

interface Ports {
  listen: number;
  management: number;
  http: number;
  tls: number;
}

export async function startPebble(opts: PebbleOptions = {}): Promise<Pebble> {
  const ownDir = opts.workDir === undefined;
  const workDir = opts.workDir ?? (await mkdtemp(join(tmpdir(), 'certkeep-pebble-')));
  const removeDir = () => (ownDir ? rm(workDir, { recursive: true, force: true }) : Promise.resolve());
  let agent: Agent | undefined;
  try {
    const tls = await makeLoopbackTls(workDir, 'certkeep pebble rig CA');
    agent = new Agent({ connect: { ca: tls.caCertPem }, keepAliveTimeout: 1000 });
    const instance = new PebbleProcess(opts, workDir, tls, agent);
    await instance.startWithFreshPorts();
    const release = agent;
    return handle(instance, tls, async () => {
      await release.close();
      await removeDir();
    });
  } catch (err) {
    await agent?.close();
    await removeDir();
    throw err;
  }
}

function handle(instance: PebbleProcess, tls: LoopbackTls, release: () => Promise<void>): Pebble {
  let stopped: Promise<void> | undefined;
  return {
    directoryUrl: instance.directoryUrl(),
    managementUrl: instance.managementUrl(),
    caCertPem: tls.caCertPem,
    caCertFile: tls.caCertFile,
    rootsPem: (index = 0) => instance.getManagement(`/roots/${index}`),
    intermediatesPem: () => instance.getManagement('/intermediates/0'),
    restart: (options) => instance.restart(options?.whileDown),
    requestCount: (path) => instance.requestCount(path),
    created: () => instance.createdSoFar(),
    stop: () => {
      // Idempotent: tests may stop explicitly and again in after().
      stopped ??= instance.stop().then(release);
      return stopped;
    },
  };
}

class PebbleProcess {
  private readonly opts: PebbleOptions;
  private readonly workDir: string;
  private readonly tls: { certFile: string; keyFile: string };
  private readonly agent: Agent;
  private ports: Ports | undefined;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private output = '';
  /** Requests Pebble logged, by path prefix up to the first id ("/order-plz", "/my-order/"). */
  private readonly requests = new Map<string, number>();
  /** Reset on every start: a restarted Pebble starts empty. */
  created: PebbleCreated = { accounts: 0, orders: 0, certificates: 0 };

  constructor(
    opts: PebbleOptions,
    workDir: string,
    tls: { certFile: string; keyFile: string },
    agent: Agent,
  ) {
    this.opts = opts;
    this.workDir = workDir;
    this.tls = tls;
    this.agent = agent;
  }

  directoryUrl(): string {
    return `https://127.0.0.1:${this.ports!.listen}/dir`;
  }

  managementUrl(): string {
    return `https://127.0.0.1:${this.ports!.management}`;
  }

  /** Picks ports and starts; a port taken between pick and bind gets another try. */
  async startWithFreshPorts(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      this.ports = await this.pickPorts();
      try {
        await this.start();
        return;
      } catch (err) {
        if (attempt >= START_ATTEMPTS || !/address already in use/i.test(this.output)) throw err;
      }
    }
  }

  async restart(whileDown?: () => Promise<void>): Promise<void> {
    await this.stop();
    await whileDown?.();
    await this.start();
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    await stopTied(child, this.exited, STOP_TIMEOUT_MS);
    this.child = undefined;
  }

  requestCount(path: string): number {
    return this.requests.get(path) ?? 0;
  }

  async createdSoFar(): Promise<PebbleCreated> {
    if (this.child) await this.logBarrier();
    return { ...this.created };
  }

  /**
   * Pebble logs before it answers, but its log reaches us through a pipe that
   * may lag behind the answers: once a request made now shows in the log,
   * every line logged before it has been read.
   */
  private async logBarrier(): Promise<void> {
    const before = this.requestCount('/dir');
    const res = await request(this.directoryUrl(), { dispatcher: this.agent });
    await res.body.dump();
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (this.requestCount('/dir') === before) {
      if (Date.now() > deadline) throw new Error(`pebble's log did not show GET /dir within ${START_TIMEOUT_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Pebble logs every request as "POST /order-plz -> calling handler()", and what it stored. */
  private countLine(line: string): void {
    const match = / (?:GET|POST|HEAD) (\/[^/\s]*\/?)\S* -> calling handler/.exec(line);
    if (match) this.requests.set(match[1], (this.requests.get(match[1]) ?? 0) + 1);
    const accounts = /There are now (\d+) accounts in memory/.exec(line);
    if (accounts) this.created.accounts = Number(accounts[1]);
    if (/ Added order "[^"]+" to the db/.test(line)) this.created.orders++;
    if (/ Issued certificate serial \S+ for order/.test(line)) this.created.certificates++;
  }

  async getManagement(path: string): Promise<string> {
    const url = this.managementUrl() + path;
    const res = await request(url, { dispatcher: this.agent });
    const text = await res.body.text();
    if (res.statusCode !== 200)
      throw new Error(`GET ${url} answered HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
    return text;
  }

  private async pickPorts(): Promise<Ports> {
    return {
      listen: await freePort(),
      management: await freePort(),
      http: this.opts.httpPort ?? (await freePort()),
      tls: this.opts.tlsPort ?? (await freePort()),
    };
  }

  private async start(): Promise<void> {
    const configFile = join(this.workDir, 'pebble-config.json');
    await writeFile(configFile, JSON.stringify(this.config()));
    const args = ['-config', configFile];
    if (this.opts.dnsServer) args.push('-dnsserver', this.opts.dnsServer);
    this.output = '';
    this.created = { accounts: 0, orders: 0, certificates: 0 };
    const child = spawnTied(this.binary(), args, {
      cwd: this.workDir,
      env: { ...process.env, ...DEFAULT_ENV, ...this.opts.env },
    });
    this.child = child;
    let partialLine = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      this.output = (this.output + text).slice(-TAIL_CHARS);
      const lines = (partialLine + text).split('\n');
      partialLine = lines.pop() ?? '';
      for (const line of lines) this.countLine(line);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    this.exited = new Promise((resolve) => child.once('close', () => resolve()));
    const spawnFailed = new Promise<never>((_, reject) => child.once('error', reject));
    try {
      await Promise.race([this.waitForDirectory(child), spawnFailed]);
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  private binary(): string {
    return this.opts.binary ?? '/usr/bin/pebble';
  }

  /** Pebble's output tail, without the EAB HMAC keys it may echo. */
  private outputTail(): string {
    let text = this.output.trim();
    for (const key of Object.values(this.opts.eabKeys ?? {})) text = text.replaceAll(key, '[redacted]');
    return text;
  }

  private config(): object {
    const ports = this.ports!;
    const eab = this.opts.eabKeys;
    return {
      pebble: {
        listenAddress: `127.0.0.1:${ports.listen}`,
        managementListenAddress: `127.0.0.1:${ports.management}`,
        certificate: this.tls.certFile,
        privateKey: this.tls.keyFile,
        httpPort: ports.http,
        tlsPort: ports.tls,
        ocspResponderURL: '',
        externalAccountBindingRequired: eab !== undefined,
        ...(eab ? { externalAccountMACKeys: eab } : {}),
      },
    };
  }

  /** Polls the directory until it answers 200; rejects with Pebble's output tail if it exits first. */
  private async waitForDirectory(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    let lastError = '';
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        await this.exited; // let the output drain
        if (child.exitCode === NOT_FOUND_EXIT) {
          throw new Error(`could not run ${this.binary()} (not found); install Debian's "pebble" package`);
        }
        throw new Error(
          `pebble exited during start (${child.exitCode ?? child.signalCode}); its output ends with:\n${this.outputTail()}`,
        );
      }
      try {
        const res = await request(this.directoryUrl(), { dispatcher: this.agent });
        await res.body.dump();
        if (res.statusCode === 200) return;
        lastError = `HTTP ${res.statusCode}`;
      } catch (err) {
        lastError = (err as Error).message;
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(
      `pebble did not answer ${this.directoryUrl()} within ${START_TIMEOUT_MS} ms (last: ${lastError}); ` +
        `its output ends with:\n${this.outputTail()}`,
    );
  }
}
