import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort } from '../../src/rig/ports.ts';
import { startNginx } from './nginx.ts';
import { tempDir } from './tmp.ts';

test('nginx serves files from the root, for any Host', async (t) => {
  const root = await tempDir();
  t.after(() => root.remove());
  await mkdir(join(root.path, '.well-known', 'acme-challenge'), { recursive: true });
  await writeFile(join(root.path, '.well-known', 'acme-challenge', 'token123'), 'token123.thumbprint');
  const nginx = await startNginx({ root: root.path });
  t.after(() => nginx.stop());

  const url = `http://127.0.0.1:${nginx.port}/.well-known/acme-challenge/token123`;
  const response = await fetch(url, { headers: { host: 'foo.example.test' } });
  assert.equal(response.status, 200);
  assert.equal(await response.text(), 'token123.thumbprint');
  const missing = await fetch(`http://127.0.0.1:${nginx.port}/.well-known/acme-challenge/absent`);
  assert.equal(missing.status, 404);
});

test('stop() ends nginx', async (t) => {
  const root = await tempDir();
  t.after(() => root.remove());
  const port = await freePort();
  const nginx = await startNginx({ root: root.path, port });
  assert.equal(nginx.port, port);
  await nginx.stop();
  await assert.rejects(fetch(`http://127.0.0.1:${port}/`), TypeError);
});

test("a port already taken fails the start with nginx's error log", async (t) => {
  const root = await tempDir();
  t.after(() => root.remove());
  const first = await startNginx({ root: root.path });
  t.after(() => first.stop());
  await assert.rejects(startNginx({ root: root.path, port: first.port }), /Address already in use/);
});
