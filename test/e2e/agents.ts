// The host agent as the e2e tests run it: a real `certkeep agent` process (or
// the single executable) against a real `certkeep serve`, enrolled and assigned
// through the server's CLI and API.
import { type ChildProcess, spawn } from 'node:child_process';
import type { TestContext } from 'node:test';
import { join } from 'node:path';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { normalSerial, readDeployment } from '../../src/deploy/index.ts';
import { tempDir } from '../rig/tmp.ts';
import { runCli, startRig, ZONE } from './harness.ts';
import { eventually, type Server, settledOrder, startServer } from './server.ts';

const CLI = new URL('../../src/main.ts', import.meta.url).pathname;

export interface AgentProcess {
  process: ChildProcess;
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: nothing runs after it. */
  kill(): Promise<void>;
}

export interface AgentRun {
  server: string;
  token: string;
  args: string[];
  /** Run the single executable instead of `node src/main.ts agent`. */
  executable?: string;
  env?: Record<string, string>;
}

export function startAgent(run: AgentRun): AgentProcess {
  const argv = ['--server', run.server, '--token', run.token, ...run.args];
  const child = run.executable
    ? spawn(run.executable, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...run.env } })
    : spawn(process.execPath, [CLI, 'agent', ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...run.env } });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    process: child,
    output: () => output,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** `certkeep admin agent create HOST --subscription ID --json` beside the server. */
export async function enrolAgent(server: Server, subscription: string, host: string): Promise<{ id: string; token: string }> {
  const created = await runCli(['admin', 'agent', 'create', host, '--subscription', subscription, '--json'], server.env);
  if (created.code !== 0) throw new Error(created.stderr);
  return created.json();
}

/** Assigns a target through the API; resolves with the target's id. */
export async function assign(server: Server, key: string, agent: string, body: Record<string, unknown>): Promise<string> {
  const response = await server.call('POST', `/api/v1/agents/${agent}/targets`, { key, body });
  const text = await response.text();
  if (response.status !== 201) throw new Error(`assigning ${JSON.stringify(body)}: ${response.status} ${text}`);
  return JSON.parse(text).id;
}

export interface ShownDeployment {
  agent: string | null;
  host: string | null;
  target: string;
  directory: string;
  serial: string | null;
  status: string;
  verifiedAt: string | null;
  error: string | null;
}

/** The certificate's current serial as the server shows it (normalised; '' before the first version). */
export async function currentSerial(server: Server, key: string, name: string): Promise<string> {
  return normalSerial((await (await server.call('GET', `/api/v1/certificates/${name}`, { key })).json()).serial ?? '');
}

/** POST …/renew, then waits for the new version; resolves with its serial. */
export async function renewAndWait(server: Server, key: string, name: string): Promise<string> {
  const before = await currentSerial(server, key, name);
  const response = await server.call('POST', `/api/v1/certificates/${name}/renew`, { key });
  if (response.status !== 202) throw new Error(`renewing ${name}: ${response.status} ${await response.text()}`);
  return eventually(() => currentSerial(server, key, name), (serial) => serial !== before && serial !== '', 60_000, `the renewal of ${name}`);
}

/** Waits until the directory's deployment marker names `serial`. */
export function deployedThere(directory: string, serial: string, what: string): Promise<string> {
  return eventually(async () => normalSerial((await readDeployment(directory))?.serial ?? ''), (held) => held === serial, 30_000, what);
}

/** GET /api/v1/certificates/NAME's deployments. */
export async function shownDeployments(server: Server, key: string, name: string): Promise<ShownDeployment[]> {
  const response = await server.call('GET', `/api/v1/certificates/${name}`, { key });
  return (await response.json()).deployments;
}

/** Waits until the target's line on the certificate satisfies `done`. */
export function deploymentOf(server: Server, key: string, name: string, target: string, done: (d: ShownDeployment) => boolean, what: string) {
  return eventually(
    async () => (await shownDeployments(server, key, name)).find((d) => d.target === target),
    (d) => d !== undefined && done(d),
    60_000,
    what,
  ) as Promise<ShownDeployment>;
}

/**
 * A reverse proxy to `target` that spoils the agent's stream, as proxies do:
 * `refuse` answers it 502 (one that does not pass server-sent events), `mute`
 * passes it up to its first list of targets and then nothing (one whose buffer
 * swallows the rest).
 */
export async function proxyToServer(
  target: string,
  stream: 'refuse' | 'mute',
): Promise<{ base: string; streamsSpoiled: () => number; close(): Promise<void> }> {
  const upstream = new URL(target);
  let spoiled = 0;
  const server = createServer((incoming, outgoing) => {
    const isStream = incoming.url?.startsWith('/api/v1/agent/stream') ?? false;
    if (isStream && stream === 'refuse') {
      spoiled++;
      outgoing.writeHead(502, { 'content-type': 'text/plain' }).end('streams are not passed here');
      return;
    }
    const forwarded = request(
      { host: upstream.hostname, port: upstream.port, path: incoming.url, method: incoming.method, headers: incoming.headers },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        if (!isStream) return answer.pipe(outgoing);
        spoiled++;
        let passed = '';
        answer.setEncoding('utf8').on('data', (chunk: string) => {
          if (/^event: targets\n.*\n\n/m.test(passed)) return;
          passed += chunk;
          outgoing.write(chunk);
        });
      },
    );
    forwarded.on('error', () => outgoing.destroy());
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    streamsSpoiled: () => spoiled,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** What most agent tests start from: a server issuing from Pebble, a tenant's certificate, an agent with a target for it. */
export interface AgentScene {
  server: Server;
  /** A temp dir removed after the test; the target lies under `allowed`. */
  root: string;
  key: string;
  name: string;
  agent: { id: string; token: string };
  allowed: string;
  directory: string;
  target: string;
}

/** Sets up an AgentScene for the test `t`, stopping everything after it; `label` names the tenant and the certificate. */
export async function agentScene(t: TestContext, label: string): Promise<AgentScene> {
  const rig = await startRig();
  t.after(() => rig.stop());
  const root = await tempDir(`certkeep-agent-${label}-`);
  t.after(() => root.remove());
  const server = await startServer(rig);
  t.after(() => server.stop());
  const tenant = await server.subscription(label);
  const key = tenant.apiKey;
  const name = `${label}.${ZONE}`;
  const created = await server.call('POST', '/api/v1/certificates', { key, body: { names: [name], challengeType: 'http-01' } });
  const order = await settledOrder(server, (await created.json()).order.id, key);
  if (order.status !== 'valid') throw new Error(`issuing ${name}: ${JSON.stringify(order)}`);
  const agent = await enrolAgent(server, tenant.id, 'web.example.test');
  const allowed = join(root.path, 'tls');
  const directory = join(allowed, name);
  const target = await assign(server, key, agent.id, { certificate: name, to: directory });
  return { server, root: root.path, key, name, agent, allowed, directory, target };
}
