import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { generateMasterKey, loadMasterKey, parseMasterKey } from '../../src/store/master-key.ts';
import { tempDir } from '../rig/tmp.ts';

const run = promisify(execFile);

async function dataDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await tempDir('certkeep-key-');
  t.after(dir.remove);
  return dir.path;
}

test('the first load creates master.key with mode 0600; later loads reuse it', async (t) => {
  const dir = await dataDir(t);
  const first = await loadMasterKey({ dataDir: dir });
  const path = join(dir, 'master.key');
  assert.equal(first.source, path);
  assert.equal(first.key.length, 32);
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  const again = await loadMasterKey({ dataDir: dir });
  assert.deepEqual(again.key, first.key);
  assert.deepEqual(await readdir(dir), ['master.key'], 'no temporary file is left behind');
});

test('loads racing on a new data dir all get the one key that was written', async (t) => {
  const dir = await dataDir(t);
  const inProcess = await Promise.all(Array.from({ length: 8 }, () => loadMasterKey({ dataDir: dir })));
  const script = `import { loadMasterKey } from ${JSON.stringify(new URL('../../src/store/master-key.ts', import.meta.url).href)};
    process.stdout.write((await loadMasterKey({ dataDir: process.argv[1] })).key.toString('base64'));`;
  const otherDir = await dataDir(t);
  const processes = await Promise.all(
    Array.from({ length: 3 }, () => run(process.execPath, ['--input-type=module', '-e', script, otherDir])),
  );
  assert.equal(new Set(inProcess.map((k) => k.key.toString('base64'))).size, 1);
  assert.equal(new Set(processes.map((p) => p.stdout)).size, 1);
  assert.equal(processes[0].stdout.length, 44);
});

test('CERTKEEP_MASTER_KEY is used as given and no key file is written', async (t) => {
  const dir = await dataDir(t);
  const value = generateMasterKey();
  const loaded = await loadMasterKey({ dataDir: dir, masterKey: value });
  assert.equal(loaded.source, 'CERTKEEP_MASTER_KEY');
  assert.equal(loaded.key.toString('base64'), value);
  assert.deepEqual(await readdir(dir), []);
  const urlSafe = randomBytes(32).toString('base64url');
  assert.deepEqual(parseMasterKey(urlSafe, 'X'), Buffer.from(urlSafe, 'base64url'));
});

test('an invalid CERTKEEP_MASTER_KEY is refused naming the variable, never echoing the value', async (t) => {
  const dir = await dataDir(t);
  const bad = [
    'c2VjcmV0LXZhbHVl', // base64, but 12 bytes
    randomBytes(31).toString('base64'),
    `${randomBytes(32).toString('hex')}`,
    'not a key at all, not a key at all, not a key',
  ];
  for (const masterKey of bad) {
    await assert.rejects(loadMasterKey({ dataDir: dir, masterKey }), (error: Error) => {
      assert.equal(error.name, 'StoreError');
      assert.match(error.message, /^CERTKEEP_MASTER_KEY is not a base64-encoded 32-byte key/);
      assert.match(error.message, /openssl rand -base64 32/);
      assert.ok(!error.message.includes(masterKey), 'the value must not appear in the message');
      return true;
    });
  }
});

test('a key file that other users can read is refused, naming the file and the fix', async (t) => {
  const dir = await dataDir(t);
  const path = join(dir, 'master.key');
  await loadMasterKey({ dataDir: dir });
  await chmod(path, 0o644);
  await assert.rejects(
    loadMasterKey({ dataDir: dir }),
    new RegExp(
      `the master key file ${path} can be read by other users \\(mode 644\\); restrict it with: chmod 600`,
    ),
  );
});

test('a damaged key file is refused, naming it, and is not replaced', async (t) => {
  const dir = await dataDir(t);
  const path = join(dir, 'master.key');
  await writeFile(path, 'truncated', { mode: 0o600 });
  await assert.rejects(
    loadMasterKey({ dataDir: dir }),
    /the master key file .*master\.key is not a base64-encoded/,
  );
  assert.deepEqual(await readdir(dir), ['master.key']);
});

test('a key file that cannot be created is reported with its path', async (t) => {
  const dir = await dataDir(t);
  const file = join(dir, 'a-file');
  await writeFile(file, '');
  await assert.rejects(
    loadMasterKey({ dataDir: file }),
    /cannot (create|read) the master key file .*a-file\/master\.key: ENOTDIR/,
  );
});
