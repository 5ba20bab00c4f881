// The dashboard and the searchable list are computed by the database: the same
// answers on SQLite and on PostgreSQL, and nothing of another subscription.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { closeEngineContext, createEngineContext, type EngineContext } from '../../src/engine/context.ts';
import { dashboard, searchCertificateSummaries } from '../../src/engine/dashboard.ts';
import { createSubscription } from '../../src/engine/tenancy.ts';
import { openStore, type Store, type StoreOptions } from '../../src/store/database.ts';
import { newId } from '../../src/store/ids.ts';
import type { CertificateState } from '../../src/store/records.ts';
import { insertCertificate, insertVersion, UNTOUCHED_RENEWAL_STATE } from '../../src/store/repositories/certificates.ts';
import { appendEvent } from '../../src/store/repositories/events.ts';
import { manualClock } from '../rig/clock.ts';
import { type PostgresServer, startPostgres } from '../rig/postgres.ts';
import { tempDir } from '../rig/tmp.ts';

const DAY = 86_400_000;
const clock = manualClock();
const NOW = clock.now();

/** name, state, days until expiry (null: never issued), failures */
const CERTIFICATES: [string, CertificateState, number | null, number][] = [
  ['alpha.example', 'valid', 5, 0],
  ['beta.example', 'valid', 20, 0],
  ['gamma.example', 'valid', 45, 2],
  ['delta.example', 'valid', 89, 0],
  ['epsilon.example', 'valid', 200, 0],
  ['zeta.example', 'valid', -3, 0],
  ['eta.example', 'issuing', null, 0],
  ['theta.example', 'failed', null, 1],
  ['iota.example', 'revoked', 10, 0],
  ['100%_sure.example', 'valid', 60, 0],
];

async function seed(ctx: EngineContext, subscriptionId: string, suffix = ''): Promise<void> {
  for (const [name, state, days, failures] of CERTIFICATES) {
    const id = newId('crt');
    const versionId = days === null ? null : newId('ver');
    await insertCertificate(ctx.store.db, {
      id,
      subscription_id: subscriptionId,
      name: `${name}${suffix}`,
      identifiers: [
        { type: 'dns', value: `${name}${suffix}` },
        { type: 'dns', value: `www.${name}${suffix}` },
      ],
      challenge_type: 'http-01',
      challenge_config: {},
      key_type: 'ec-p256',
      issuers: [{ caUrl: 'https://ca.example/dir' }],
      profile: null,
      renewal_policy: { autoRenew: true },
      pfx_password_enc: null,
      csr_info: {},
      state,
      current_version_id: versionId,
      current_not_after: days === null ? null : NOW + days * DAY + 1000,
      next_renewal_at: null,
      ...UNTOUCHED_RENEWAL_STATE,
      failure_count: failures,
      last_error: failures > 0 ? 'the CA said no' : null,
      created_at: NOW,
      updated_at: NOW,
    });
    if (versionId && days !== null) {
      await insertVersion(ctx.store.db, {
        id: versionId,
        certificate_id: id,
        order_id: null,
        serial: '01',
        not_before: NOW - DAY,
        not_after: NOW + days * DAY + 1000,
        chain_pem: '',
        key_enc: '',
        ca_url: 'https://ca.example/dir',
        ari_cert_id: null,
        ari_window_start: null,
        ari_window_end: null,
        created_at: NOW,
      });
    }
    await appendEvent(ctx.store.db, { subscriptionId, certificateId: id, type: 'certificate.issued', payload: { name } }, NOW);
  }
}

function suite(kind: string, options: () => Promise<StoreOptions>) {
  describe(`dashboard and search on ${kind}`, () => {
    let store: Store;
    let ctx: EngineContext;
    let mine: string;
    before(async () => {
      store = await openStore(await options());
      ctx = createEngineContext(store, { clock });
      mine = (await createSubscription(ctx, 'mine')).id;
      const theirs = (await createSubscription(ctx, 'theirs')).id;
      await seed(ctx, mine);
      await seed(ctx, theirs, '.theirs');
    });
    after(async () => {
      await closeEngineContext(ctx);
      await store.close();
    });

    test('counts by state, expiring within 30 days, expired, failing, a 90-day histogram and recent events', async () => {
      const board = await dashboard(ctx, mine);
      assert.deepEqual(board.counts, { total: 10, byState: { valid: 7, issuing: 1, failed: 1, revoked: 1 } });
      assert.equal(board.expiring.count, 2, 'alpha (5 days) and beta (20); not the revoked iota');
      assert.equal(board.expiring.expired, 1);
      assert.deepEqual(board.expiring.soonest.map((c) => c.name), ['alpha.example', 'beta.example']);
      assert.equal(board.failing.count, 2);
      assert.deepEqual(board.failing.certificates.map((c) => c.name).sort(), ['gamma.example', 'theta.example']);
      assert.equal(board.expiryHistogram.length, 90);
      const days = board.expiryHistogram.flatMap((count, day) => Array(count).fill(day));
      assert.deepEqual(days, [5, 20, 45, 60, 89]);
      assert.equal(board.recentEvents.length, 10);
      assert.ok(board.recentEvents.every((e) => !String(e.certificate).endsWith('.theirs')));
    });

    test('search, filter, sort and pages with a total', async () => {
      const find = (search: Parameters<typeof searchCertificateSummaries>[2]) => searchCertificateSummaries(ctx, mine, search);
      const all = await find({ limit: 100 });
      assert.equal(all.total, 10);
      assert.ok(all.certificates.every((c) => !c.name.endsWith('.theirs')));
      assert.deepEqual((await find({ search: 'WWW.ALPHA', limit: 10 })).certificates.map((c) => c.name), ['alpha.example'], 'by a domain name, any case');
      assert.deepEqual((await find({ search: '100%_', limit: 10 })).certificates.map((c) => c.name), ['100%_sure.example'], '% and _ match themselves');
      assert.equal((await find({ search: '%', limit: 10 })).total, 1);
      assert.equal((await find({ state: 'valid', limit: 10 })).total, 7);
      const soonest = await find({ sort: 'expiry', limit: 100 });
      assert.deepEqual(soonest.certificates.slice(0, 3).map((c) => c.name), ['zeta.example', 'alpha.example', 'iota.example']);
      assert.deepEqual(soonest.certificates.slice(-2).map((c) => c.notAfter), [null, null], 'never issued: last');
      const latest = await find({ sort: '-expiry', limit: 100 });
      assert.equal(latest.certificates[0].name, 'epsilon.example');
      assert.deepEqual(latest.certificates.slice(-2).map((c) => c.notAfter), [null, null], 'never issued: last either way');
      const page = await find({ sort: 'name', offset: 3, limit: 3 });
      assert.equal(page.total, 10);
      assert.deepEqual(page.certificates.map((c) => c.name), ['delta.example', 'epsilon.example', 'eta.example']);
      assert.equal((await find({ expiresBefore: new Date(NOW + 30 * DAY).toISOString(), limit: 100 })).total, 4, 'includes the expired and the revoked');
      await assert.rejects(find({ expiresBefore: 'soon', limit: 10 }), /expiresBefore: "soon" is not a time/);
    });
  });
}

suite('SQLite', async () => {
  const dir = await tempDir();
  after(dir.remove);
  return { dataDir: dir.path };
});

let postgres: PostgresServer | undefined;
after(() => postgres?.stop());
suite('PostgreSQL', async () => {
  postgres = await startPostgres();
  const dir = await tempDir();
  after(dir.remove);
  return { dataDir: dir.path, databaseUrl: await postgres.createDatabase() };
});
