// certkeep admin: the key is printed once, as JSON when asked; revoked keys stop working.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { tempDir } from '../rig/tmp.ts';
import { oneLine, runCli } from './harness.ts';

describe('certkeep admin', () => {
  let dataDir: string;
  let remove: () => Promise<void>;
  before(async () => {
    ({ path: dataDir, remove } = await tempDir());
  });
  after(() => remove());
  const admin = (args: string[]) => runCli(['admin', ...args], { CERTKEEP_DATA_DIR: dataDir });

  test('subscription create prints {id, apiKey}; apikey create and revoke; subscription list', async () => {
    const created = await admin(['subscription', 'create', 'hosting-co', '--json']);
    assert.equal(created.code, 0, created.stderr);
    const { id, apiKey, keyId } = created.json();
    assert.match(id, /^sub_/);
    assert.match(apiKey, /^ck_/);

    const read = await admin(['apikey', 'create', '--subscription', id, '--scope', 'read', '--json']);
    assert.equal(read.code, 0, read.stderr);
    assert.deepEqual(read.json().scopes, ['read']);

    assert.equal((await admin(['apikey', 'revoke', keyId, '--json'])).code, 0);
    const list = await admin(['subscription', 'list', '--json']);
    const entry = list.json().subscriptions.find((s: { id: string }) => s.id === id);
    assert.equal(entry.activeKeys, 1);
    assert.ok(!list.stdout.includes(apiKey), 'keys are never listed');
  });

  test('bad input → exit 2 or 1 with one line', async () => {
    const scope = await admin(['apikey', 'create', '--subscription', 'sub_x', '--scope', 'root']);
    assert.equal(scope.code, 2);
    assert.match(oneLine(scope.stderr), /--scope/);
    const missing = await admin(['apikey', 'create', '--subscription', 'sub_missing']);
    assert.equal(missing.code, 1);
    assert.match(oneLine(missing.stderr), /sub_missing/);
    const noArg = await admin(['subscription', 'create']);
    assert.equal(noArg.code, 2);
  });
});
