// certkeep serve as a process: answers over HTTP with keys made by certkeep admin, stops cleanly on SIGTERM.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../../src/rig/ports.ts';
import { tempDir } from '../rig/tmp.ts';
import { runCli } from './harness.ts';

const CLI = new URL('../../src/main.ts', import.meta.url).pathname;

describe('certkeep serve', () => {
  let dataDir: string;
  let remove: () => Promise<void>;
  before(async () => {
    ({ path: dataDir, remove } = await tempDir());
  });
  after(() => remove());

  test('serves the API with admin-made keys, logs no key, and exits 0 on SIGTERM', async () => {
    const created = (await runCli(['admin', 'subscription', 'create', 'serve-test', '--json'], { CERTKEEP_DATA_DIR: dataDir })).json();
    const port = await freePort();
    const server = spawn(process.execPath, [CLI, 'serve', '--listen', `127.0.0.1:${port}`, '--http-challenge-listen', 'off'], {
      env: { ...process.env, CERTKEEP_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    server.stdout.on('data', (chunk) => (output += chunk));
    server.stderr.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => server.on('close', (code) => resolve(code)));
    try {
      await waitFor(() => output.includes('certkeep serving on'), () => output);
      const base = `http://127.0.0.1:${port}`;
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      const list = await fetch(`${base}/api/v1/certificates`, { headers: { authorization: `Bearer ${created.apiKey}` } });
      assert.equal(list.status, 200);
      assert.deepEqual(await list.json(), { certificates: [], next: null });
      assert.equal((await fetch(`${base}/api/v1/certificates`)).status, 401);
    } finally {
      server.kill('SIGTERM');
    }
    assert.equal(await exited, 0, output);
    assert.ok(!output.includes(created.apiKey.split('.')[1]), 'the API key never reaches the log');
  });

  test('a port that is taken: one line on stderr and exit 1, instead of a server without its API', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as { port: number };
    try {
      const result = await runCli(['serve', '--listen', `127.0.0.1:${port}`, '--http-challenge-listen', 'off', '--renew-interval', '1'], { CERTKEEP_DATA_DIR: dataDir });
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /EADDRINUSE|in use/);
    } finally {
      taken.close();
    }
  });
});

async function waitFor(condition: () => boolean, describe: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`certkeep serve did not start:\n${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
