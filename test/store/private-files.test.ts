// The embedded database's files are the owner's alone (0600), also in a data
// directory others may read, and also when an older version left them readable.
import assert from 'node:assert/strict';
import { chmod, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore, SQLITE_FILE } from '../../src/store/database.ts';
import { tempDir } from '../rig/tmp.ts';

async function modes(dataDir: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const suffix of ['', '-wal', '-shm']) {
    result[`${SQLITE_FILE}${suffix}`] = ((await stat(join(dataDir, `${SQLITE_FILE}${suffix}`))).mode & 0o777).toString(8);
  }
  return result;
}

test('certkeep.db, -wal and -shm are created 0600 in a 0755 data directory, and narrowed to 0600 when found wider', async () => {
  const dir = await tempDir();
  try {
    const dataDir = join(dir.path, 'data');
    await mkdir(dataDir, { mode: 0o755 });
    await chmod(dataDir, 0o755);
    const store = await openStore({ dataDir });
    await store.db.selectFrom('subscriptions').selectAll().execute();
    const expected = { [SQLITE_FILE]: '600', [`${SQLITE_FILE}-wal`]: '600', [`${SQLITE_FILE}-shm`]: '600' };
    assert.deepEqual(await modes(dataDir), expected);
    await store.close();
    await chmod(join(dataDir, SQLITE_FILE), 0o644);
    const reopened = await openStore({ dataDir });
    try {
      assert.deepEqual(await modes(dataDir), expected);
    } finally {
      await reopened.close();
    }
  } finally {
    await dir.remove();
  }
});
