// certkeep demo, as a new user runs it: it issues a certificate, its closing
// hints work when typed as printed (issue 11, item 13), and it ends by saying
// how to open the portal and create its first user.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { tempDir } from '../rig/tmp.ts';
import { runCli } from './harness.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const run = promisify(execFile);

test('certkeep demo ends with the way to the portal', async (t) => {
  const dir = await tempDir();
  t.after(dir.remove);
  const demo = await runCli(['demo', '--data-dir', dir.path], {});
  assert.equal(demo.code, 0, demo.stderr);
  assert.match(demo.stdout, /✔ issued demo\.certkeep\.test/);
  assert.match(demo.stdout, /certkeep admin user create you@example\.com --subscription <id> --role admin/);
  assert.match(demo.stdout.trim().split('\n').at(-1) ?? '', /certkeep serve, and open http:\/\/127\.0\.0\.1:8080\//);
});

test('the demo store hint lists the certificate when typed as printed, even for a path with a space', async (t) => {
  const data = await tempDir('certkeep demo ');
  t.after(data.remove);
  const demo = await runCli(['--data-dir', data.path, 'demo'], {});
  assert.equal(demo.code, 0, demo.stderr);
  const hint = /the store: (.*)$/m.exec(demo.stdout)?.[1];
  assert.ok(hint, demo.stdout);
  assert.match(hint, /^npx certkeep --data-dir '.*' list$/);
  // Typed into a shell in the checkout, where `npm run demo` runs.
  const { stdout } = await run('sh', ['-c', hint], { cwd: ROOT, env: { ...process.env, CERTKEEP_DATA_DIR: '' } });
  assert.match(stdout, /^demo\.certkeep\.test\s+valid/m);
  for (const line of demo.stdout.split('\n').filter((l) => /\bcertkeep (admin|serve)\b/.test(l))) {
    assert.match(line, /npx certkeep (admin|serve)/, 'every hint runs certkeep as it can be found from the checkout');
  }
});
