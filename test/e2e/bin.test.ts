// The installed command (bin/certkeep.js): the bundle built at install time
// when it is fresh, the sources otherwise. Either way it must behave the same.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { freePort } from '../../src/rig/ports.ts';
import { tempDir } from '../rig/tmp.ts';

const BIN = new URL('../../bin/certkeep.js', import.meta.url).pathname;

describe('bin/certkeep.js', () => {
  test('runs commands, with exit codes as documented', async () => {
    const data = await tempDir();
    try {
      const env = { ...process.env, CERTKEEP_DATA_DIR: data.path };
      const before = spawnSync(process.execPath, [BIN, 'list', '--json'], { env, encoding: 'utf8' });
      assert.equal(before.status, 1, 'list on a data dir without a store says so');
      assert.match(before.stderr, /no certkeep database/);
      const created = spawnSync(process.execPath, [BIN, 'admin', 'subscription', 'create', 'first', '--json'], { env, encoding: 'utf8' });
      assert.equal(created.status, 0, created.stderr);
      const list = spawnSync(process.execPath, [BIN, 'list', '--json'], { env, encoding: 'utf8' });
      assert.equal(list.status, 0, list.stderr);
      assert.deepEqual(JSON.parse(list.stdout), { certificates: [] });
      const bad = spawnSync(process.execPath, [BIN, 'issue', '-d', 'x.test', '--key-type', 'nope'], { env, encoding: 'utf8' });
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /--key-type/);
      const help = spawnSync(process.execPath, [BIN, '--help'], { env, encoding: 'utf8' });
      assert.equal(help.status, 0);
      for (const command of ['issue', 'renew', 'resume', 'list', 'show', 'export', 'revoke', 'zone', 'demo']) assert.match(help.stdout, new RegExp(`\\b${command}\\b`));
    } finally {
      await data.remove();
    }
  });

  test('serve works from it too, interactive API docs included', async () => {
    const data = await tempDir();
    const port = await freePort();
    const server = spawn(process.execPath, [BIN, 'serve', '--listen', `127.0.0.1:${port}`], {
      env: { ...process.env, CERTKEEP_DATA_DIR: data.path },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    server.stdout.on('data', (chunk) => (output += chunk));
    server.stderr.on('data', (chunk) => (output += chunk));
    const exited = new Promise((resolve) => server.on('close', resolve));
    try {
      const deadline = Date.now() + 15_000;
      while (!output.includes('certkeep serving on')) {
        if (Date.now() > deadline || server.exitCode !== null) throw new Error(`serve did not start:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const docs = await fetch(`http://127.0.0.1:${port}/api/docs/`);
      assert.equal(docs.status, 200);
      assert.equal((await fetch(`http://127.0.0.1:${port}/api/openapi.json`)).status, 200);
    } finally {
      server.kill('SIGTERM');
      await exited;
      await data.remove();
    }
  });
});
