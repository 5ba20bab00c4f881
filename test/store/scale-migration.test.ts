// Migration 0009 on a store that already holds history, on SQLite and on
// PostgreSQL: each certificate gets its current version's expiry beside it,
// and what retention may remove is marked retired by the same rule the engine
// applies from then on (repositories/retention.ts) — and nothing else.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Kysely } from 'kysely';
import { openStore } from '../../src/store/database.ts';
import { generateMasterKey } from '../../src/store/master-key.ts';
import type { Database } from '../../src/store/schema.ts';
import { type PostgresServer, startPostgres } from '../rig/postgres.ts';
import { tempDir } from '../rig/tmp.ts';
import { olderDatabase } from './older.ts';

const DAY = 86_400_000;
const T = Date.parse('2030-01-01T00:00:00Z');

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`${kind}: migration 0009 on a store with history`, () => {
    let postgres: PostgresServer | undefined;
    before(async () => {
      if (kind === 'postgres') postgres = await startPostgres();
    });
    after(() => postgres?.stop());

    test('current expiry copied, superseded versions and orders retired, the rest kept', async (t) => {
      const dir = await tempDir('certkeep-migration-');
      t.after(dir.remove);
      const databaseUrl = await postgres?.createDatabase();
      const old = await olderDatabase({ dataDir: dir.path, databaseUrl }, '0008_delivery');
      await seedHistory(old);
      await old.destroy();

      // A store made before this version has its master key; the test's is given, not found in a file.
      const store = await openStore({ dataDir: dir.path, databaseUrl, masterKey: generateMasterKey() });
      t.after(() => store.close());
      const certificates = await store.db
        .selectFrom('certificates')
        .select(['id', 'current_not_after'])
        .orderBy('id')
        .execute();
      assert.deepEqual(certificates, [
        { id: 'crt_a', current_not_after: T + 96 * DAY },
        { id: 'crt_b', current_not_after: null },
      ]);
      const retired = async (table: 'orders' | 'certificate_versions') =>
        (await store.db.selectFrom(table).select(['id', 'retired_at']).orderBy('id').execute()).map((row) => [
          row.id,
          row.retired_at !== null,
        ]);
      assert.deepEqual(await retired('certificate_versions'), [
        ['ver_1', true],
        ['ver_2', false],
        ['ver_3', false],
      ]);
      assert.deepEqual(await retired('orders'), [
        ['ord_1', true], // made a retired version
        ['ord_2', false], // made the previous version
        ['ord_3', false], // made the current one
        ['ord_4', true], // failed, and not the newest
        ['ord_5', false], // open, and the newest
        ['ord_b', false], // failed, but certificate b's newest
      ]);
    });
  });
}

async function seedHistory(db: Kysely<Database>): Promise<void> {
  await db.insertInto('subscriptions').values({ id: 'sub', name: 'tenant', created_at: T }).execute();
  await db
    .insertInto('acme_accounts')
    .values({
      id: 'acct',
      subscription_id: 'sub',
      ca_url: 'https://ca.test/dir',
      contact: '',
      key_enc: 'x',
      account_url: 'https://ca.test/acct/1',
      created_at: T,
    })
    .execute();
  const certificate = (id: string, currentVersion: string | null) => ({
    id,
    subscription_id: 'sub',
    name: id,
    identifiers: '[]',
    challenge_type: 'http-01',
    challenge_config: '{}',
    key_type: 'ec-p256',
    issuers: '[]',
    profile: null,
    renewal_policy: '{"autoRenew":true}',
    pfx_password_enc: null,
    csr_info: '{}',
    state: 'valid',
    current_version_id: currentVersion,
    next_renewal_at: T + 90 * DAY,
    retry_at: null,
    failure_count: 0,
    last_error: null,
    lease_owner: null,
    lease_token: 0,
    lease_until: null,
    created_at: T,
    updated_at: T,
    warned_days: null,
    ari_check_at: null,
  });
  await db
    .insertInto('certificates')
    .values([certificate('crt_a', 'ver_3'), certificate('crt_b', null)])
    .execute();
  const order = (id: string, certificateId: string, step: string, day: number) => ({
    id,
    certificate_id: certificateId,
    account_id: 'acct',
    ca_url: 'https://ca.test/dir',
    step,
    order_url: `https://ca.test/order/${id}`,
    finalize_url: null,
    certificate_url: null,
    authorizations: '[]',
    key_enc: 'x',
    replaces: null,
    error: null,
    attempt: 0,
    retry_at: null,
    created_at: T + day * DAY,
    updated_at: T + day * DAY,
  });
  await db
    .insertInto('orders')
    .values([
      order('ord_1', 'crt_a', 'valid', 0),
      order('ord_2', 'crt_a', 'valid', 3),
      order('ord_4', 'crt_a', 'failed', 5),
      order('ord_3', 'crt_a', 'valid', 6),
      order('ord_5', 'crt_a', 'placed', 9),
      order('ord_b', 'crt_b', 'failed', 1),
    ])
    .execute();
  const version = (id: string, orderId: string, day: number) => ({
    id,
    certificate_id: 'crt_a',
    order_id: orderId,
    serial: id,
    not_before: T + day * DAY,
    not_after: T + (day + 90) * DAY,
    chain_pem: 'pem',
    key_enc: 'x',
    ca_url: 'https://ca.test/dir',
    ari_cert_id: null,
    ari_window_start: null,
    ari_window_end: null,
    created_at: T + day * DAY,
  });
  await db
    .insertInto('certificate_versions')
    .values([version('ver_1', 'ord_1', 0), version('ver_2', 'ord_2', 3), version('ver_3', 'ord_3', 6)])
    .execute();
}
