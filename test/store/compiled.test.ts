// compiledOnce: the SQL is compiled once per handle; each call fills in its own arguments.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../../src/store/database.ts';
import { compiledOnce } from '../../src/store/repositories/compiled.ts';
import type { Db } from '../../src/store/repositories/db.ts';
import { tempDir } from '../rig/tmp.ts';

test('compiledOnce compiles once, puts each call’s arguments in their places, and refuses an argument it cannot place', async (t) => {
  const dir = await tempDir('certkeep-compiled-');
  t.after(dir.remove);
  const store = await openStore({ dataDir: join(dir.path, 'data') });
  t.after(() => store.close());
  for (const [id, name] of [['sub_1', 'one'], ['sub_2', 'two'], ['sub_3', 'three']]) {
    await store.db.insertInto('subscriptions').values({ id, name, created_at: 1 }).execute();
  }
  let builds = 0;
  // Arguments out of the SQL's order, and a constant between them.
  const find = compiledOnce((db: Db, name: string, notId: string) => {
    builds++;
    return db.selectFrom('subscriptions').select(['id', 'name']).where('id', '!=', notId).where('created_at', '=', 1).where('name', '=', name);
  });
  assert.deepEqual(await find(store.db, 'two', 'sub_1'), [{ id: 'sub_2', name: 'two' }]);
  assert.deepEqual(await find(store.db, 'three', 'sub_1'), [{ id: 'sub_3', name: 'three' }]);
  assert.deepEqual(await find(store.db, 'three', 'sub_3'), []);
  assert.equal(builds, 1);

  const unplaced = compiledOnce((db: Db, _unused: string) => db.selectFrom('subscriptions').select('id'));
  await assert.rejects(unplaced(store.db, 'x'), /compiledOnce: argument 0 is not a parameter of select/);
});
