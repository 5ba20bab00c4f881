// certkeep demo issues a certificate and ends by saying how to open the portal and create its first user.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tempDir } from '../rig/tmp.ts';
import { runCli } from './harness.ts';

test('certkeep demo ends with the way to the portal', async (t) => {
  const dir = await tempDir();
  t.after(dir.remove);
  const demo = await runCli(['demo', '--data-dir', dir.path], {});
  assert.equal(demo.code, 0, demo.stderr);
  assert.match(demo.stdout, /✔ issued demo\.certkeep\.test/);
  assert.match(demo.stdout, /certkeep admin user create you@example\.com --subscription <id> --role admin/);
  assert.match(demo.stdout.trim().split('\n').at(-1) ?? '', /certkeep serve, and open http:\/\/127\.0\.0\.1:8080\//);
});
