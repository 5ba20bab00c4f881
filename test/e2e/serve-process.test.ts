// `certkeep serve` as a process a service manager can rely on (issue 11, items
// 2 and 3): a listener that cannot open ends it with exit 1 and one line naming
// the flag, and the signals that stop it reach the real server through every
// way of starting it — bin/certkeep.js re-run under an old Node, and npx.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { after, describe, test } from 'node:test';
import { freePort } from '../../src/rig/ports.ts';
import { tempDir } from '../rig/tmp.ts';
import { oneLine } from './harness.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const CLI = new URL('../../src/main.ts', import.meta.url).pathname;
const BIN = new URL('../../bin/certkeep.js', import.meta.url).pathname;
// Liveness bound, not a timing: a process that does not end fails the test instead of hanging it.
const HANG_LIMIT_MS = 60_000;

interface Started {
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(command: string, args: string[], dataDir: string): Started {
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, CERTKEEP_DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const limit = setTimeout(() => child.kill('SIGKILL'), HANG_LIMIT_MS);
  exited.finally(() => clearTimeout(limit));
  return { child, output: () => output, exited };
}

async function serving(started: Started): Promise<void> {
  while (!started.output().includes('certkeep serving on')) {
    if (started.child.exitCode !== null || started.child.signalCode !== null) throw new Error(`serve did not start:\n${started.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The processes whose command line names `dataDir` — every certkeep started for one test. */
function processesOf(dataDir: string): { pid: number; args: string }[] {
  const table = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return table
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(.*)$/.exec(line))
    .filter((match) => match?.[2].includes(dataDir))
    .map((match) => ({ pid: Number(match![1]), args: match![2] }));
}

/** Waits (up to the hang limit) until no process of the test is left. */
async function stoppedWithin(dataDir: string): Promise<void> {
  const deadline = Date.now() + HANG_LIMIT_MS;
  while (processesOf(dataDir).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
}

/** Every process of the test is gone; any left is killed so that nothing outlives the test. */
function assertNoneLeft(dataDir: string): void {
  const left = processesOf(dataDir);
  for (const { pid } of left) process.kill(pid, 'SIGKILL');
  assert.deepEqual(left, [], 'no certkeep process is left running');
}

describe('serve: a listener that cannot open ends the process', () => {
  const held: (Server | ReturnType<typeof createSocket>)[] = [];
  after(() => {
    for (const thing of held) thing.close();
  });

  async function takenTcpPort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    held.push(server);
    return (server.address() as { port: number }).port;
  }

  async function takenUdpPort(): Promise<number> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    held.push(socket);
    return socket.address().port;
  }

  const cases: [flag: string, args: () => Promise<string[]>][] = [
    ['--listen', async () => ['--listen', `127.0.0.1:${await takenTcpPort()}`, '--http-challenge-listen', 'off']],
    ['--http-challenge-listen', async () => ['--listen', `127.0.0.1:${await freePort()}`, '--http-challenge-listen', `127.0.0.1:${await takenTcpPort()}`]],
    [
      '--tls-alpn-listen',
      async () => ['--listen', `127.0.0.1:${await freePort()}`, '--http-challenge-listen', 'off', '--tls-alpn-listen', `127.0.0.1:${await takenTcpPort()}`],
    ],
    [
      '--dns-listen',
      async () => ['--listen', `127.0.0.1:${await freePort()}`, '--http-challenge-listen', 'off', '--dns-listen', `127.0.0.1:${await takenUdpPort()}`, '--dns-zone', 'acme.example.test'],
    ],
  ];
  for (const [flag, args] of cases) {
    test(`${flag} on a port in use: exit 1, one line naming ${flag}`, async () => {
      const data = await tempDir();
      try {
        const run = start(process.execPath, [CLI, 'serve', ...(await args())], data.path);
        const { code } = await run.exited;
        assert.equal(code, 1, run.output());
        const line = oneLine(run.output());
        assert.match(line, new RegExp(`^certkeep: error: ${flag}: cannot listen on 127\\.0\\.0\\.1:\\d+: the port is already in use`));
        assert.doesNotMatch(line, /--http-port|--webroot|--tls-port/, "serve's own flags, not issue's");
        assertNoneLeft(data.path);
      } finally {
        await data.remove();
      }
    });
  }
});

describe('serve: the signals that stop it reach the real server', () => {
  const oldNode = ['/usr/bin/node', '/bin/node'].find((path) => {
    try {
      const [major, minor] = execFileSync(path, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim().split('.').map(Number);
      return major < 22 || (major === 22 && minor < 12);
    } catch {
      return false;
    }
  });

  async function serveArgs(): Promise<string[]> {
    return ['serve', '--listen', `127.0.0.1:${await freePort()}`, '--http-challenge-listen', 'off'];
  }

  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    test(`bin/certkeep.js under an old Node: ${signal} to the wrapper stops the server, and the wrapper exits 0 as it did`, { skip: oldNode ? false : 'no Node older than 22.12 here' }, async () => {
      const data = await tempDir();
      try {
        const run = start(oldNode!, [BIN, '--data-dir', data.path, ...(await serveArgs())], data.path);
        await serving(run);
        assert.equal(processesOf(data.path).length, 2, 'the wrapper and the server it runs');
        run.child.kill(signal);
        assert.deepEqual(await run.exited, { code: 0, signal: null }, run.output());
        assertNoneLeft(data.path);
      } finally {
        await data.remove();
      }
    });
  }

  test('bin/certkeep.js under an old Node: a server killed by a signal takes the wrapper with it, by that signal', { skip: oldNode ? false : 'no Node older than 22.12 here' }, async () => {
    const data = await tempDir();
    try {
      const run = start(oldNode!, [BIN, '--data-dir', data.path, ...(await serveArgs())], data.path);
      await serving(run);
      const server = processesOf(data.path).find((p) => p.pid !== run.child.pid);
      assert.ok(server, 'the re-run server');
      process.kill(server.pid, 'SIGKILL');
      assert.deepEqual(await run.exited, { code: null, signal: 'SIGKILL' });
      assertNoneLeft(data.path);
    } finally {
      await data.remove();
    }
  });

  test('npx certkeep serve: SIGTERM to npx stops the server', async () => {
    const data = await tempDir();
    try {
      const run = start('npx', ['certkeep', '--data-dir', data.path, ...(await serveArgs())], data.path);
      await serving(run);
      run.child.kill('SIGTERM');
      const { code, signal } = await run.exited;
      assert.ok(code === 0 || code === 143 || signal === 'SIGTERM', `npx ended with ${code ?? signal}:\n${run.output()}`);
      // npm's `sh -c` dies of the SIGTERM npm passes on; the server notices that its launcher is gone.
      await stoppedWithin(data.path);
      assertNoneLeft(data.path);
    } finally {
      await data.remove();
    }
  });
});
