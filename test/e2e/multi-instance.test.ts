// Several `certkeep serve` processes on one PostgreSQL share the due renewals:
// 200 certificates due at once, three instances, one of them killed with
// SIGKILL mid-way and started again — every certificate is renewed exactly once.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { seedDueCertificates } from '../rig/due-certificates.ts';
import { startPebble, type Pebble } from '../../src/rig/pebble.ts';
import { openStore } from '../../src/store/database.ts';
import { generateMasterKey } from '../../src/store/master-key.ts';
import { DEFAULT_SUBSCRIPTION_ID, ensureSubscription } from '../../src/store/repositories/subscriptions.ts';
import { type PostgresServer, startPostgres } from '../rig/postgres.ts';
import { tempDir } from '../rig/tmp.ts';
import { eventually, type Server, startServer } from './server.ts';

const COUNT = 200;
const WORKERS = '2';

describe('three instances on one PostgreSQL', () => {
  let postgres: PostgresServer;
  let pebble: Pebble;
  let databaseUrl: string;
  let masterKey: string;
  let client: pg.Client;
  const servers: Server[] = [];
  const dirs: { remove(): Promise<void> }[] = [];

  before(async () => {
    postgres = await startPostgres();
    databaseUrl = await postgres.createDatabase();
    // Validation skipped: this is about sharing the work, not about challenges.
    // No nonce rejections, so that newOrder requests count orders exactly.
    pebble = await startPebble({ env: { PEBBLE_VA_ALWAYS_VALID: '1', PEBBLE_WFE_NONCEREJECT: '0' } });
    masterKey = generateMasterKey();
    const seedDir = await tempDir();
    dirs.push(seedDir);
    const store = await openStore({ dataDir: seedDir.path, databaseUrl, masterKey });
    await ensureSubscription(store.db, DEFAULT_SUBSCRIPTION_ID, 'default', Date.now());
    // Not due yet: they fall due at once when all three instances are up.
    await seedDueCertificates(store, { subscriptionId: DEFAULT_SUBSCRIPTION_ID, count: COUNT, caUrl: pebble.directoryUrl, caCertPem: pebble.caCertPem });
    await store.db.updateTable('certificates').set({ next_renewal_at: Date.now() + 86_400_000 }).execute();
    await store.close();
    client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await client?.end();
    await pebble?.stop();
    await postgres?.stop();
    for (const dir of dirs) await dir.remove();
  });

  const count = async (sql: string) => Number((await client.query(sql)).rows[0].n);
  const renewed = () => count('SELECT count(*) AS n FROM certificate_versions WHERE order_id IS NOT NULL');

  /** An instance of its own data dir (the database is shared), against the one Pebble. */
  async function instance(): Promise<Server> {
    const dir = await tempDir();
    dirs.push(dir);
    const server = await startServer({ pebble, dataDir: dir.path }, {
      httpChallengeListen: 'off',
      env: { CERTKEEP_DATABASE_URL: databaseUrl, CERTKEEP_MASTER_KEY: masterKey },
      args: ['--renew-interval', '1', '--workers', WORKERS, '--lease-seconds', '3'],
    });
    servers.push(server);
    return server;
  }

  test('200 due certificates, one instance killed mid-way: each renewed exactly once', async () => {
    const [, doomed] = [await instance(), await instance(), await instance()];
    await client.query('UPDATE certificates SET next_renewal_at = $1', [Date.now() - 1000]);
    const atKill = await eventually(renewed, (n) => n >= COUNT / 10, 120_000, 'a tenth renewed');
    doomed.process.kill('SIGKILL');
    await doomed.stop();
    assert.ok(atKill < COUNT / 2, `killed mid-way (${atKill} of ${COUNT} renewed)`);
    await instance();
    await eventually(renewed, (n) => n >= COUNT, 180_000, 'all renewed');

    // Exactly once: one new version and one order per certificate, none left open.
    const odd = (await client.query('SELECT certificate_id, count(*) AS n FROM certificate_versions GROUP BY certificate_id HAVING count(*) <> 2')).rows;
    assert.deepEqual(odd, [], 'every certificate has its seeded version and exactly one new one');
    const extra = (await client.query("SELECT step, error, attempt FROM orders WHERE certificate_id IN (SELECT certificate_id FROM orders GROUP BY certificate_id HAVING count(*) > 1)")).rows;
    assert.equal(await count('SELECT count(*) AS n FROM orders'), COUNT, `one order per certificate; more for: ${JSON.stringify(extra)}`);
    assert.equal(await count("SELECT count(*) AS n FROM orders WHERE step <> 'valid'"), 0);
    assert.equal(await count('SELECT count(*) AS n FROM certificate_versions'), 2 * COUNT);
    // At the CA: every certificate was finalized once. An order the killed instance had asked
    // for but not yet stored is abandoned (never finalized), so newOrder may exceed COUNT by
    // at most the orders it had in flight.
    const newOrders = pebble.requestCount('/order-plz');
    assert.ok(newOrders >= COUNT && newOrders <= COUNT + Number(WORKERS), `newOrder requests: ${newOrders}`);
    const finalized = await count("SELECT count(DISTINCT order_url) AS n FROM orders WHERE step = 'valid'");
    assert.equal(finalized, COUNT);
    // The work was shared.
    const owners = await count('SELECT count(DISTINCT lease_owner) AS n FROM orders');
    assert.equal(owners, 0, 'every lease released');
  });
});
