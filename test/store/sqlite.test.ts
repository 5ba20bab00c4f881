import assert from 'node:assert/strict';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { DatabaseSync } from 'node:sqlite';
import { Kysely, sql } from 'kysely';
import { openStore } from '../../src/store/database.ts';
import { NodeSqliteDialect } from '../../src/store/sqlite-dialect.ts';
import { tempDir } from '../rig/tmp.ts';
import { rowsFor } from './rows.ts';
import { storeSuite } from './store-suite.ts';

async function dataDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await tempDir('certkeep-sqlite-');
  t.after(dir.remove);
  return join(dir.path, 'data');
}

storeSuite({ kind: 'sqlite', freshOptions: async (t) => ({ dataDir: await dataDir(t) }) });

test('sqlite: the data dir is created 0700 with certkeep.db in WAL mode, foreign keys on, memory-mapped reads', async (t) => {
  const dir = await dataDir(t);
  const store = await openStore({ dataDir: dir });
  t.after(() => store.close());
  assert.equal((await stat(dir)).mode & 0o777, 0o700);
  assert.ok((await stat(join(dir, 'certkeep.db'))).isFile());
  const pragma = async (name: string) =>
    Object.values((await sql.raw(`pragma ${name}`).execute(store.db)).rows[0] as object)[0];
  assert.equal(await pragma('journal_mode'), 'wal');
  assert.equal(await pragma('foreign_keys'), 1);
  assert.equal(await pragma('synchronous'), 1); // NORMAL
  assert.equal(await pragma('busy_timeout'), 5000);
  assert.equal(await pragma('mmap_size'), 268435456);
});

test('sqlite: 50 concurrent read-modify-write transactions lose no update', async (t) => {
  const store = await openStore({ dataDir: await dataDir(t) });
  t.after(() => store.close());
  const rows = rowsFor();
  await store.db.insertInto('subscriptions').values(rows.subscriptions).execute();
  await store.db
    .insertInto('certificates')
    .values({ ...rows.certificates, failure_count: 0 })
    .execute();
  const increment = () =>
    store.db.transaction().execute(async (trx) => {
      const { failure_count } = await trx
        .selectFrom('certificates')
        .select('failure_count')
        .executeTakeFirstOrThrow();
      await nextTurn(); // let the other transactions run if they could
      await trx
        .updateTable('certificates')
        .set({ failure_count: failure_count + 1 })
        .execute();
    });
  await Promise.all(Array.from({ length: 50 }, increment));
  const { failure_count } = await store.db
    .selectFrom('certificates')
    .select('failure_count')
    .executeTakeFirstOrThrow();
  assert.equal(failure_count, 50);
});

test('sqlite: a nested transaction (savepoint) rolls back alone', async (t) => {
  const store = await openStore({ dataDir: await dataDir(t) });
  t.after(() => store.close());
  const trx = await store.db.startTransaction().execute();
  await trx.insertInto('subscriptions').values({ id: 'sub_kept', name: 'kept', created_at: 1 }).execute();
  const inner = await trx.savepoint('inner').execute();
  await inner
    .insertInto('subscriptions')
    .values({ id: 'sub_dropped', name: 'dropped', created_at: 1 })
    .execute();
  await inner.rollbackToSavepoint('inner').execute();
  await trx.commit().execute();
  const ids = await store.db.selectFrom('subscriptions').select('id').execute();
  assert.deepEqual(ids, [{ id: 'sub_kept' }]);
});

test('sqlite: a statement prepared before a schema change sees the new columns', async (t) => {
  const store = await openStore({ dataDir: await dataDir(t) });
  t.after(() => store.close());
  await sql`create table scratch (a integer)`.execute(store.db);
  await sql`insert into scratch (a) values (1)`.execute(store.db);
  assert.deepEqual((await sql`select * from scratch`.execute(store.db)).rows, [{ a: 1 }]);
  await sql`alter table scratch add column b text`.execute(store.db);
  assert.deepEqual((await sql`select * from scratch`.execute(store.db)).rows, [{ a: 1, b: null }]);
});

test('sqlite: a data dir that cannot be created is reported with its path', async (t) => {
  const dir = await tempDir('certkeep-sqlite-');
  t.after(dir.remove);
  const file = join(dir.path, 'a-file');
  await writeFile(file, '');
  await assert.rejects(openStore({ dataDir: join(file, 'data') }), (error: Error) => {
    assert.equal(error.name, 'StoreError');
    assert.match(
      error.message,
      /^cannot create the data directory .*a-file\/data: ENOTDIR\. Choose a writable directory/,
    );
    return true;
  });
});

test('sqlite: a certkeep.db that is not a database is reported with its path', async (t) => {
  const dir = await dataDir(t);
  await openStore({ dataDir: dir }).then((store) => store.close());
  await writeFile(join(dir, 'certkeep.db'), 'this is not an SQLite file '.repeat(200));
  await assert.rejects(
    openStore({ dataDir: dir }),
    /cannot open the database .*certkeep\.db: .*not a database/,
  );
});

test('sqlite: a query through db inside a transaction fails clearly instead of waiting forever', async (t) => {
  const db = new Kysely<{ t: { n: number } }>({
    dialect: new NodeSqliteDialect({ database: new DatabaseSync(':memory:'), lockTimeoutMs: 50 }),
  });
  t.after(() => db.destroy());
  await sql`create table t (n integer)`.execute(db);
  await assert.rejects(
    db.transaction().execute(async (trx) => {
      await trx.insertInto('t').values({ n: 1 }).execute();
      await db.selectFrom('t').selectAll().execute(); // the mistake: db, not trx
    }),
    /waited 50 ms for the SQLite connection, which a transaction holds\. Inside db\.transaction\(\)\.execute\(\), query through the transaction object/,
  );
  assert.deepEqual(await db.selectFrom('t').selectAll().execute(), [], 'the transaction rolled back');
});
