// certkeep demo, as a new user runs it: it issues a real certificate, and its
// closing hint works when typed as printed (issue 11, item 13).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { tempDir } from '../rig/tmp.ts';
import { runCli } from './harness.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const run = promisify(execFile);

test('the demo issues a certificate, and its closing hint lists it when typed as printed', async () => {
  const data = await tempDir('certkeep demo ');
  try {
    const demo = await runCli(['--data-dir', data.path, 'demo'], {});
    assert.equal(demo.code, 0, demo.stderr);
    assert.match(demo.stdout, /✔ issued demo\.certkeep\.test/);
    const hint = /the store: (.*)$/m.exec(demo.stdout)?.[1];
    assert.ok(hint, demo.stdout);
    assert.match(hint, /^npx certkeep --data-dir '.*' list$/, 'a path with a space is quoted for the shell');
    // Typed into a shell in the checkout, where `npm run demo` runs.
    const { stdout } = await run('sh', ['-c', hint], { cwd: ROOT, env: { ...process.env, CERTKEEP_DATA_DIR: '' } });
    assert.match(stdout, /^demo\.certkeep\.test\s+valid/m);
  } finally {
    await data.remove();
  }
});
