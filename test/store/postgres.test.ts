import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { GCProfiler, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { sql } from 'kysely';
import { openStore } from '../../src/store/database.ts';
import { generateMasterKey } from '../../src/store/master-key.ts';
import { freePort } from '../../src/rig/ports.ts';
import { type PostgresServer, startPostgres } from '../rig/postgres.ts';
import { tempDir } from '../rig/tmp.ts';
import { storeSuite } from './store-suite.ts';

let server: PostgresServer;
before(async () => {
  server = await startPostgres();
});
after(() => server?.stop());

async function dataDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await tempDir('certkeep-pg-store-');
  t.after(dir.remove);
  return dir.path;
}

storeSuite({
  kind: 'postgres',
  freshOptions: async (t) => ({ dataDir: await dataDir(t), databaseUrl: await server.createDatabase() }),
});

test('postgres: the rig database opens as a store', async (t) => {
  const store = await openStore({ dataDir: await dataDir(t), databaseUrl: server.url });
  t.after(() => store.close());
  assert.equal(store.kind, 'postgres');
});

test('postgres: a server that cannot be reached is named by host:port, without the password', async (t) => {
  const port = await freePort();
  await assert.rejects(
    openStore({
      dataDir: await dataDir(t),
      databaseUrl: `postgres://certkeep:hunter2@127.0.0.1:${port}/certkeep`,
    }),
    (error: Error) => {
      assert.equal(error.name, 'StoreError');
      assert.match(
        error.message,
        new RegExp(
          `^cannot reach PostgreSQL at 127\\.0\\.0\\.1:${port}: connection refused\\. Check that the server is running`,
        ),
      );
      assert.match(error.message, /CERTKEEP_DATABASE_URL/);
      assert.doesNotMatch(error.message, /hunter2/);
      return true;
    },
  );
});

test('postgres: a database that does not exist is named, with how to create it', async (t) => {
  const url = server.url.replace(/\/certkeep$/, '/nosuchdb');
  await assert.rejects(
    openStore({ dataDir: await dataDir(t), databaseUrl: url }),
    /^StoreError: PostgreSQL at 127\.0\.0\.1:\d+ has no database "nosuchdb"\. Create it \(createdb nosuchdb\)/,
  );
});

test('postgres: instances starting together on a new database migrate it once and agree on the key', async (t) => {
  const databaseUrl = await server.createDatabase();
  const masterKey = generateMasterKey();
  const stores = await Promise.all(
    Array.from({ length: 3 }, async () => openStore({ dataDir: await dataDir(t), databaseUrl, masterKey })),
  );
  t.after(() => Promise.all(stores.map((s) => s.close())).then(() => {}));
  const applied = await sql<{ name: string }>`select name from kysely_migration`.execute(stores[0].db);
  assert.deepEqual(
    applied.rows.map((r) => r.name),
    ['0001_initial', '0002_server', '0003_renewal', '0004_challenges', '0005_portal', '0006_open_order', '0007_compat_ids', '0008_delivery', '0009_scale', '0010_agent', '0011_watch'],
  );
  const sealed = stores[1].secrets.encrypt('shared', 'probe');
  assert.equal(stores[2].secrets.decryptString(sealed, 'probe'), 'shared');
});

test('postgres: a database URL of another kind is refused without echoing it', async (t) => {
  await assert.rejects(
    openStore({ dataDir: await dataDir(t), databaseUrl: 'mysql://root:hunter2@127.0.0.1/certkeep' }),
    (error: Error) => {
      assert.match(
        error.message,
        /^CERTKEEP_DATABASE_URL must be a postgres:\/\/ or postgresql:\/\/ URL \(it has mysql:\)/,
      );
      assert.doesNotMatch(error.message, /hunter2/);
      return true;
    },
  );
});

test("postgres: a query's objects die young: what the young generation's collections promote stays far below a query's worth", async (t) => {
  const store = await openStore({ dataDir: await dataDir(t), databaseUrl: await server.createDatabase() });
  t.after(() => store.close());
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (options: { type: 'minor' }) => void;
  const queries = 3000;
  const profiler = new GCProfiler();
  profiler.start();
  for (let i = 0; i < queries; i++) {
    await sql`select ${i}::int as n, key, value from certkeep_meta where key = ${'master_key_check'}`.execute(store.db);
  }
  // Two: the first keeps the last queries' survivors young, the second promotes whatever still survives.
  gc({ type: 'minor' });
  gc({ type: 'minor' });
  const scavenges = profiler.stop().statistics.filter((entry) => entry.gcType === 'Scavenge');
  const oldSpace = (heap: (typeof scavenges)[number]['beforeGC']) =>
    heap.heapSpaceStatistics.find((space) => space.spaceName === 'old_space')?.spaceUsedSize ?? 0;
  const promoted = scavenges.reduce(
    (sum, entry) => sum + oldSpace(entry.afterGC) - oldSpace(entry.beforeGC),
    0,
  );
  assert.ok(scavenges.length >= 2);
  // pg's promise form of query() promoted about 2 KB a query (its query, result, rows and field descriptions); now about 0.1 KB.
  assert.ok(promoted / queries < 500, `${Math.round(promoted / queries)} bytes promoted a query`);
});
