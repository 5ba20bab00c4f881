// The store tests that must pass on SQLite and on PostgreSQL alike; each
// backend's test file calls storeSuite() with a way to get a fresh, empty store.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { migrationStatus, openStore, type Store, type StoreOptions } from '../../src/store/database.ts';
import { generateMasterKey } from '../../src/store/master-key.ts';
import { newId } from '../../src/store/ids.ts';
import { compatIdsSchema } from '../../src/store/migrations/0007-compat-ids.ts';
import { deleteCertificateRow, findCertificateWithDates, insertCertificate, listCertificatesWithDates } from '../../src/store/repositories/certificates.ts';
import { certificateNumbers, certificateOfNumber, subscriptionNumber, subscriptionOfNumber } from '../../src/store/repositories/numbers.ts';
import { claimLease, takeOverLease } from '../../src/store/repositories/leases.ts';
import { fencedUpdateOrder, insertOrderUnlessOpen } from '../../src/store/repositories/orders.ts';
import { insertSubscription } from '../../src/store/repositories/subscriptions.ts';
import { olderDatabase } from './older.ts';
import { certificateRecord, INSERT_ORDER, LATE, orderRecord, type Rows, rowsFor } from './rows.ts';

interface TestContext {
  after(fn: () => Promise<void>): void;
}

export interface Backend {
  kind: Store['kind'];
  /** Options for a new, empty database (and data dir); removed after the test. */
  freshOptions(t: TestContext): Promise<StoreOptions>;
}

async function open(t: TestContext, options: StoreOptions): Promise<Store> {
  const store = await openStore(options);
  t.after(() => store.close());
  return store;
}

async function withSubscription(store: Store): Promise<string> {
  const id = newId('sub');
  await store.db.insertInto('subscriptions').values({ id, name: 'tenant', created_at: LATE }).execute();
  return id;
}

async function insertAll(store: Store, rows: Rows): Promise<void> {
  for (const table of INSERT_ORDER) {
    if (table === 'webhook_deliveries') {
      const event = await store.db.selectFrom('events').select('id').executeTakeFirstOrThrow();
      rows.webhook_deliveries.event_id = event.id;
    }
    // Each table's row type is checked in rows.ts; here the table varies.
    await store.db
      .insertInto(table)
      .values(rows[table] as never)
      .execute();
  }
}

export function storeSuite(backend: Backend): void {
  const fresh = async (t: TestContext) => open(t, await backend.freshOptions(t));

  test(`${backend.kind}: migrations apply, and opening again changes nothing`, async (t) => {
    const options = await backend.freshOptions(t);
    const first = await openStore(options);
    assert.equal(first.kind, backend.kind);
    assert.deepEqual(await migrationStatus(first.db), { current: true, pending: [] });
    const sealed = first.secrets.encrypt('account key', 'probe');
    await first.close();
    await first.close(); // a second close is harmless

    const second = await open(t, options);
    assert.deepEqual(await migrationStatus(second.db), { current: true, pending: [] });
    const applied = await sql<{ name: string }>`select name from kysely_migration`.execute(second.db);
    assert.deepEqual(
      applied.rows.map((r) => r.name),
      ['0001_initial', '0002_server', '0003_renewal', '0004_challenges', '0005_portal', '0006_open_order', '0007_compat_ids', '0008_delivery', '0009_scale', '0010_agent', '0011_watch'],
    );
    assert.equal(
      second.secrets.decryptString(sealed, 'probe'),
      'account key',
      'the same master key is used again',
    );
  });

  test(`${backend.kind}: every table round-trips a full row, timestamps past 2^32 ms and JSON text`, async (t) => {
    const store = await fresh(t);
    const rows = rowsFor();
    await insertAll(store, rows);
    for (const table of INSERT_ORDER) {
      const [stored] = await store.db.selectFrom(table).selectAll().execute();
      const { id: _generated, ...expected } = rows[table] as Record<string, unknown>;
      assert.deepEqual(stored, { ...stored, ...expected }, `${table} reads back what was written`);
      assert.equal(Object.getPrototypeOf(stored), Object.prototype, `${table} rows are plain objects`);
    }
    const version = await store.db
      .selectFrom('certificate_versions')
      .select('not_after')
      .executeTakeFirstOrThrow();
    assert.equal(typeof version.not_after, 'number');
    const count = await store.db
      .selectFrom('events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    assert.equal(count.n, 1, 'counts are numbers too');
  });

  test(`${backend.kind}: a certificate name is unique per subscription`, async (t) => {
    const store = await fresh(t);
    const rows = rowsFor();
    await store.db.insertInto('subscriptions').values(rows.subscriptions).execute();
    await store.db.insertInto('certificates').values(rows.certificates).execute();
    await assert.rejects(
      store.db
        .insertInto('certificates')
        .values({ ...rows.certificates, id: newId('crt') })
        .execute(),
      /unique/i,
    );
    const other = rowsFor();
    await store.db.insertInto('subscriptions').values(other.subscriptions).execute();
    await store.db
      .insertInto('certificates')
      .values({ ...other.certificates, name: rows.certificates.name })
      .execute();
  });

  test(`${backend.kind}: the write that finishes an order releases its lease, and a finished order gives none`, async (t) => {
    const store = await fresh(t);
    const rows = rowsFor();
    await store.db.insertInto('subscriptions').values(rows.subscriptions).execute();
    await store.db.insertInto('certificates').values(rows.certificates).execute();
    await store.db.insertInto('acme_accounts').values(rows.acme_accounts).execute();
    const id = newId('ord');
    const leased = { lease_owner: 'host:1:a', lease_token: 7, lease_until: LATE + 60_000 };
    await store.db.insertInto('orders').values({ ...rows.orders, id, step: 'finalized', ...leased }).execute();
    const holder = () => store.db.selectFrom('orders').select(['step', 'lease_owner', 'lease_until']).where('id', '=', id).executeTakeFirstOrThrow();

    assert.equal(await fencedUpdateOrder(store.db, id, 6, { step: 'valid' }), false, 'a stale token writes nothing');
    assert.deepEqual(await holder(), { step: 'finalized', lease_owner: 'host:1:a', lease_until: LATE + 60_000 });
    assert.equal(await fencedUpdateOrder(store.db, id, 7, { error: 'still working' }), true);
    assert.equal((await holder()).lease_owner, 'host:1:a', 'a step short of the end keeps the lease');
    assert.equal(await fencedUpdateOrder(store.db, id, 7, { step: 'valid' }), true);
    assert.deepEqual(await holder(), { step: 'valid', lease_owner: null, lease_until: null });
    // A runner that read the order as open a moment before gets no lease on it.
    assert.equal(await claimLease(store.db, 'orders', id, 'host:2:b', LATE, 60_000), undefined);
    assert.equal(await takeOverLease(store.db, 'orders', id, 7, 'host:2:b', LATE, 60_000), undefined);
    assert.deepEqual(await holder(), { step: 'valid', lease_owner: null, lease_until: null });
  });

  test(`${backend.kind}: a certificate has at most one open order, the lock between processes`, async (t) => {
    const store = await fresh(t);
    const rows = rowsFor();
    await store.db.insertInto('subscriptions').values(rows.subscriptions).execute();
    await store.db.insertInto('certificates').values(rows.certificates).execute();
    await store.db.insertInto('acme_accounts').values(rows.acme_accounts).execute();
    const order = (step: string) => ({ ...rows.orders, id: newId('ord'), step });
    assert.equal(await insertOrderUnlessOpen(store.db, orderRecord(order('valid'))), true);
    assert.equal(await insertOrderUnlessOpen(store.db, orderRecord(order('placed'))), true, 'finished orders do not count');
    assert.equal(await insertOrderUnlessOpen(store.db, orderRecord(order('new'))), false, 'a second open order is refused');
    await assert.rejects(store.db.insertInto('orders').values(order('ready')).execute(), /unique/i);
    await store.db.updateTable('orders').set({ step: 'invalid' }).where('step', '=', 'placed').execute();
    assert.equal(await insertOrderUnlessOpen(store.db, orderRecord(order('new'))), true, 'once it ended, a new one may open');
  });

  test(`${backend.kind}: migration 0006 keeps the newest of two open orders and lower-cases names`, async (t) => {
    const options = await backend.freshOptions(t);
    // The state before 0006: no index, so a race could leave two open orders; names as typed.
    const older = await olderDatabase(options, '0005_portal');
    const first = { db: older, close: () => older.destroy() };
    const rows = rowsFor();
    // Rows as that version wrote them: without the columns later migrations add.
    const { current_not_after: _expiry, ...certificate } = rows.certificates;
    const { retired_at: _retired, ...order } = rows.orders;
    const other = { ...certificate, id: newId('crt'), name: 'taken.example' };
    try {
      await first.db.insertInto('subscriptions').values(rows.subscriptions).execute();
      await first.db.insertInto('certificates').values({ ...certificate, name: 'Mixed.Example.' }).execute();
      await first.db.insertInto('certificates').values(other).execute();
      await first.db.insertInto('certificates').values({ ...other, id: newId('crt'), name: 'TAKEN.example' }).execute();
      await first.db.insertInto('acme_accounts').values(rows.acme_accounts).execute();
      for (const [id, created] of [['ord_old', LATE], ['ord_new', LATE + 1]] as const) {
        await first.db.insertInto('orders').values({ ...order, id, step: 'placed', created_at: created }).execute();
      }
    } finally {
      await first.close();
    }
    const second = await open(t, { ...options, masterKey: generateMasterKey() });
    const steps = await second.db.selectFrom('orders').select(['id', 'step']).orderBy('id').execute();
    assert.deepEqual(steps, [{ id: 'ord_new', step: 'placed' }, { id: 'ord_old', step: 'failed' }]);
    const names = await second.db.selectFrom('certificates').select('name').execute();
    assert.deepEqual(names.map((n) => n.name).sort(), ['TAKEN.example', 'mixed.example', 'taken.example'], 'a rename that would collide is left alone');
  });

  test(`${backend.kind}: an ACME account is unique per subscription, CA and contact`, async (t) => {
    const store = await fresh(t);
    const rows = rowsFor();
    await store.db.insertInto('subscriptions').values(rows.subscriptions).execute();
    await store.db.insertInto('acme_accounts').values(rows.acme_accounts).execute();
    await assert.rejects(
      store.db
        .insertInto('acme_accounts')
        .values({ ...rows.acme_accounts, id: newId('acc') })
        .execute(),
      /unique/i,
    );
    await store.db
      .insertInto('acme_accounts')
      .values({ ...rows.acme_accounts, id: newId('acc'), contact: '' })
      .execute();
  });

  test(`${backend.kind}: a transaction that throws leaves no trace`, async (t) => {
    const store = await fresh(t);
    const subscriptionId = await withSubscription(store);
    await assert.rejects(
      store.db.transaction().execute(async (trx) => {
        await trx
          .insertInto('audit_log')
          .values({ subscription_id: subscriptionId, actor: 'a', action: 'b', target: null, created_at: 1 })
          .execute();
        await trx
          .updateTable('subscriptions')
          .set({ name: 'renamed' })
          .where('id', '=', subscriptionId)
          .execute();
        throw new Error('abort');
      }),
      /abort/,
    );
    const subscription = await store.db.selectFrom('subscriptions').select('name').executeTakeFirstOrThrow();
    assert.equal(subscription.name, 'tenant');
    assert.deepEqual(await store.db.selectFrom('audit_log').selectAll().execute(), []);
  });

  test(`${backend.kind}: event ids are generated and increase`, async (t) => {
    const store = await fresh(t);
    const subscriptionId = await withSubscription(store);
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) {
      const { id } = await store.db
        .insertInto('events')
        .values({
          subscription_id: subscriptionId,
          certificate_id: null,
          type: 't',
          payload: '{}',
          created_at: LATE,
          acked_at: null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      ids.push(id);
    }
    assert.ok(
      ids.every((id) => Number.isInteger(id)),
      `ids are numbers: ${ids}`,
    );
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => a - b),
    );
    assert.equal(new Set(ids).size, 3);
  });

  test(`${backend.kind}: foreign keys refuse orphans and deleting a subscription removes what it owns`, async (t) => {
    const store = await fresh(t);
    const rows = rowsFor();
    await assert.rejects(
      store.db.insertInto('certificates').values(rows.certificates).execute(),
      /foreign key/i,
    );
    await insertAll(store, rows);
    await store.db.deleteFrom('subscriptions').where('id', '=', rows.subscriptions.id).execute();
    for (const table of INSERT_ORDER.filter((name) => name !== 'audit_log')) {
      assert.deepEqual(await store.db.selectFrom(table).selectAll().execute(), [], `${table} is emptied`);
    }
    assert.equal(
      (await store.db.selectFrom('audit_log').selectAll().execute()).length,
      1,
      'the audit log stays',
    );
  });

  test(`${backend.kind}: a directory holds one target per machine: this machine's, or each agent's`, async (t) => {
    const store = await fresh(t);
    const rows = rowsFor();
    await insertAll(store, rows);
    const target = rows.deploy_targets;
    const another = (changes: object) => store.db.insertInto('deploy_targets').values({ ...target, id: newId('dpt'), ...changes }).execute();
    await assert.rejects(another({}), /unique/i, 'the same directory on the same machine');
    await another({ host: 'another-host' });
    await another({ host: null, agent_id: 'agent-1' });
    await another({ host: null, agent_id: 'agent-2' });
    await assert.rejects(another({ host: null, agent_id: 'agent-1' }), /unique/i, 'the same directory on the same agent');
    await assert.rejects(
      store.db.insertInto('deployments').values({ ...rows.deployments, id: newId('dpl') }).execute(),
      /unique/i,
      'one deployment per version and target',
    );
  });

  test(`${backend.kind}: a value of the wrong type is refused, as on the other database`, async (t) => {
    const store = await fresh(t);
    const subscriptionId = await withSubscription(store);
    await assert.rejects(
      store.db
        .insertInto('audit_log')
        .values({ subscription_id: subscriptionId, actor: 'a', action: 'b', target: null, created_at: 1.5 })
        .execute(),
    );
  });

  test(`${backend.kind}: a master key other than the database's own is refused at open`, async (t) => {
    const options = await backend.freshOptions(t);
    const store = await openStore({ ...options, masterKey: generateMasterKey() });
    await store.close();
    await assert.rejects(openStore({ ...options, masterKey: generateMasterKey() }), (error: Error) => {
      assert.equal(error.name, 'StoreError');
      assert.match(
        error.message,
        /the master key from CERTKEEP_MASTER_KEY is not the one this database's secrets were written with/,
      );
      return true;
    });
  });

  test(`${backend.kind}: a certificate with its current version's dates, from a query compiled once, in and out of transactions`, async (t) => {
    const store = await fresh(t);
    const subscriptionId = await withSubscription(store);
    const rows = rowsFor(subscriptionId);
    const issued = certificateRecord({ ...rows.certificates, name: 'issued', current_version_id: rows.certificate_versions.id as string });
    await insertCertificate(store.db, issued);
    await insertCertificate(store.db, certificateRecord({ ...rows.certificates, id: newId('crt'), name: 'new', current_version_id: null }));
    await store.db.insertInto('certificate_versions').values({ ...rows.certificate_versions, order_id: null }).execute();
    const expected = { id: issued.id, name: 'issued', state: 'valid', identifiers: issued.identifiers, next_renewal_at: LATE + 5, serial: '03a1b2c3d4', not_before: LATE + 13, not_after: LATE + 14 };
    // Twice each, so that the second call runs the query compiled by the first with other arguments.
    for (let round = 0; round < 2; round++) {
      assert.deepEqual(await findCertificateWithDates(store.db, subscriptionId, 'issued'), expected);
      assert.equal((await findCertificateWithDates(store.db, subscriptionId, 'new'))?.serial, null);
      assert.equal(await findCertificateWithDates(store.db, subscriptionId, 'missing'), undefined);
      assert.equal(await findCertificateWithDates(store.db, 'sub_other', 'issued'), undefined);
    }
    await store.db.transaction().execute(async (trx) => {
      assert.deepEqual(await findCertificateWithDates(trx, subscriptionId, 'issued'), expected);
    });
    assert.deepEqual((await listCertificatesWithDates(store.db, subscriptionId)).map((c) => c.name), ['issued', 'new']);
  });

  test(`${backend.kind}: rows made before migration 0007 get numbers in the order they were made; later ones the next, never one given before`, async (t) => {
    const store = await fresh(t);
    await sql`DROP TABLE certificate_numbers`.execute(store.db);
    await sql`DROP TABLE subscription_numbers`.execute(store.db);
    const subscriptionId = await withSubscription(store);
    const rows = rowsFor(subscriptionId);
    // Inserted newest first: the numbers follow created_at, not the insertion order.
    const made = [3, 1, 2].map((n) => ({ ...rows.certificates, id: `crt_${n}`, name: `c${n}`, created_at: LATE + n, current_version_id: null }));
    for (const row of made) await store.db.insertInto('certificates').values(row).execute();
    await compatIdsSchema.up(store.db);
    const numbers = await certificateNumbers(store.db, ['crt_1', 'crt_2', 'crt_3']);
    assert.deepEqual([1, 2, 3].map((n) => numbers.get(`crt_${n}`)), [1, 2, 3]);
    assert.equal(await subscriptionNumber(store.db, subscriptionId), 1);

    await deleteCertificateRow(store.db, 'crt_3');
    const next = certificateRecord({ ...rows.certificates, id: 'crt_4', name: 'c4', current_version_id: null });
    await store.db.transaction().execute((trx) => insertCertificate(trx, next));
    assert.equal((await certificateNumbers(store.db, ['crt_4'])).get('crt_4'), 4, 'the deleted certificate\'s 3 is not given again');
    assert.equal(await certificateOfNumber(store.db, subscriptionId, 4), 'crt_4');
    assert.equal(await certificateOfNumber(store.db, subscriptionId, 3), undefined);
    assert.equal(await certificateOfNumber(store.db, 'sub_other', 4), undefined, "another subscription's number finds nothing");

    await store.db.transaction().execute((trx) => insertSubscription(trx, { id: 'sub_second', name: 'second', created_at: LATE }));
    assert.equal(await subscriptionNumber(store.db, 'sub_second'), 2);
    assert.equal(await subscriptionOfNumber(store.db, 2), 'sub_second');
  });
}
