// Retention with the real engine: a 6-day certificate renewed by the scheduler
// against FakeAcme (a CA dated by the test's clock) for a month, then a
// retention pass a quarter of a year later. What a certificate still needs
// stays (its current and previous versions, its newest order, the orders that
// made those versions, unacknowledged events); everything else goes, a small
// batch at a time.
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import type { ChallengeSolver } from '../../src/challenges/solver.ts';
import { issueCertificate } from '../../src/engine/certificates.ts';
import { closeEngineContext, createEngineContext } from '../../src/engine/context.ts';
import { supersedeOpenOrder } from '../../src/engine/orders.ts';
import { validateRequest } from '../../src/engine/requests.ts';
import { Retention } from '../../src/engine/retention.ts';
import { runOrderOnce } from '../../src/engine/runs.ts';
import { RenewalScheduler } from '../../src/engine/scheduler.ts';
import type { SolverSource } from '../../src/engine/solvers.ts';
import { openStore } from '../../src/store/database.ts';
import {
  findCertificate,
  listVersions,
  makeVersionCurrent,
} from '../../src/store/repositories/certificates.ts';
import { ackEvent } from '../../src/store/repositories/events.ts';
import { findOpenOrder, listOrders } from '../../src/store/repositories/orders.ts';
import { retireSuperseded } from '../../src/store/repositories/retention.ts';
import { DEFAULT_SUBSCRIPTION_ID, ensureSubscription } from '../../src/store/repositories/subscriptions.ts';
import { FakeAcme } from '../acme/fake-acme.ts';
import { FakeIssuance } from '../acme/fake-issuance.ts';
import { tempDir } from '../rig/tmp.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

async function setup(t: TestContext) {
  const dir = await tempDir();
  const store = await openStore({ dataDir: dir.path });
  let now = Date.parse('2030-01-01T00:00:00Z');
  const clock = {
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
    advance: (ms: number) => {
      now += ms;
    },
  };
  const ctx = createEngineContext(store, { clock });
  t.after(async () => {
    await closeEngineContext(ctx);
    await store.close();
    await dir.remove();
  });
  await ensureSubscription(store.db, DEFAULT_SUBSCRIPTION_ID, 'default', clock.now());
  const acme = await FakeAcme.start(t, { renewalInfo: false });
  const served = new Map<string, string>();
  new FakeIssuance(acme, { clock, lifetimeMs: 6 * DAY, http01: (token) => served.get(token) });
  const solver: ChallengeSolver = {
    type: 'http-01',
    present: async (task) => void served.set(task.token, task.keyAuthorization),
    cleanup: async (task) => void served.delete(task.token),
  };
  const solvers: SolverSource = { solverFor: async () => solver, close: async () => {} };
  const request = validateRequest({
    subscriptionId: DEFAULT_SUBSCRIPTION_ID,
    names: ['short.test'],
    issuers: [{ caUrl: acme.directoryUrl }],
  });
  await issueCertificate(ctx, request, { solvers });
  const certificate = async () => (await findCertificate(store.db, DEFAULT_SUBSCRIPTION_ID, 'short.test'))!;
  const scheduler = new RenewalScheduler(ctx);
  /** Half of the 6-day lifetime later the scheduler opens an order; a worker runs it. */
  const renew = async () => {
    clock.advance(3 * DAY + MINUTE);
    assert.equal((await scheduler.tick()).ordersOpened, 1);
    const order = await findOpenOrder(store.db, (await certificate()).id);
    await runOrderOnce(ctx, solvers, order!);
  };
  return { ctx, store, clock, certificate, renew, scheduler };
}

test('a month of 6-day renewals: all but what stays is retired at once, and removed once older than the retention age', async (t) => {
  const rig = await setup(t);
  const { store } = rig;
  for (let i = 0; i < 4; i++) await rig.renew();
  // An order given up (replaced), then one more renewal.
  rig.clock.advance(3 * DAY + MINUTE);
  await rig.scheduler.tick();
  await supersedeOpenOrder(rig.ctx, (await rig.certificate()).id);
  await rig.renew();
  const certificate = await rig.certificate();

  const versions = await listVersions(store.db, certificate.id);
  const orders = await listOrders(store.db, certificate.id);
  assert.equal(versions.length, 6);
  assert.equal(orders.length, 7);
  const staying = versions.slice(0, 2); // newest first: the current one and the one before it
  assert.equal(staying[0].id, certificate.current_version_id);
  const stayingOrders = new Set([orders.at(-1)!.id, ...staying.map((v) => v.order_id)]);
  assert.equal(stayingOrders.size, 2, 'the newest order made the current version');
  assert.deepEqual(
    versions.map((v) => v.retired_at !== null),
    [false, false, true, true, true, true],
  );
  assert.deepEqual(
    orders.map((o) => o.retired_at !== null),
    orders.map((o) => !stayingOrders.has(o.id)),
  );

  // Every event acknowledged but the last; then a quarter of a year passes.
  const events = await store.db.selectFrom('events').select('id').orderBy('id').execute();
  for (const event of events.slice(0, -1))
    await ackEvent(store.db, DEFAULT_SUBSCRIPTION_ID, event.id, rig.clock.now());
  rig.clock.advance(91 * DAY);

  const report = await new Retention(rig.ctx, { days: 90, batch: 2, batchesPerPass: 100 }).tick();

  assert.deepEqual(report, { versions: 4, orders: 5, events: events.length - 1 });
  assert.deepEqual(
    (await listVersions(store.db, certificate.id)).map((v) => v.id),
    staying.map((v) => v.id),
  );
  assert.deepEqual(
    (await listOrders(store.db, certificate.id)).map((o) => o.id).sort(),
    [...stayingOrders].sort(),
  );
  assert.deepEqual(
    (await store.db.selectFrom('events').select('id').execute()).map((e) => e.id),
    [events.at(-1)!.id],
    'the unacknowledged event stays',
  );
  assert.deepEqual(
    await new Retention(rig.ctx, { days: 90 }).tick(),
    { versions: 0, orders: 0, events: 0 },
    'nothing more goes',
  );
});

test('within the retention age nothing goes; a retired version made current again stays', async (t) => {
  const rig = await setup(t);
  const { store } = rig;
  for (let i = 0; i < 3; i++) await rig.renew();
  const certificate = await rig.certificate();
  const [, , oldest] = await listVersions(store.db, certificate.id);
  assert.ok(oldest.retired_at !== null);
  await makeVersionCurrent(store.db, certificate.id, oldest, {});
  await retireSuperseded(store.db, certificate.id, rig.clock.now());

  assert.deepEqual(await new Retention(rig.ctx, { days: 90 }).tick(), { versions: 0, orders: 0, events: 0 });
  rig.clock.advance(100 * DAY);
  await new Retention(rig.ctx, { days: 90 }).tick();
  const left = await listVersions(store.db, certificate.id);
  assert.ok(
    left.some((v) => v.id === oldest.id),
    'the current version is never removed',
  );
  assert.equal((await rig.certificate()).current_not_after, oldest.not_after, 'its expiry is kept with it');
});

test("an old acknowledged event that holds a webhook's newest delivery stays: the fan-out resumes after it", async (t) => {
  const rig = await setup(t);
  const { store } = rig;
  await rig.renew();
  await rig.renew();
  const old = rig.clock.now();
  await store.db
    .insertInto('webhooks')
    .values({
      id: 'whk_mark',
      subscription_id: DEFAULT_SUBSCRIPTION_ID,
      url: 'https://hooks.example.test/',
      secret_enc: 'x',
      event_types: '[]',
      created_at: old,
    })
    .execute();
  const events = await store.db.selectFrom('events').select('id').orderBy('id').execute();
  assert.ok(events.length >= 3);
  await store.db
    .insertInto('webhook_deliveries')
    .values(
      events.map((event) => ({
        webhook_id: 'whk_mark',
        event_id: event.id,
        status: 'delivered',
        attempts: 1,
        next_attempt_at: null,
        last_status_code: 200,
        last_error: null,
        lease_until: null,
        created_at: old,
        delivered_at: old,
      })),
    )
    .execute();
  for (const event of events) await ackEvent(store.db, DEFAULT_SUBSCRIPTION_ID, event.id, old);
  rig.clock.advance(91 * DAY);

  const report = await new Retention(rig.ctx, { days: 90 }).tick();

  assert.equal(report.events, events.length - 1);
  const left = await store.db.selectFrom('webhook_deliveries').select('event_id').execute();
  assert.deepEqual(left, [{ event_id: events.at(-1)!.id }], "the webhook's mark is where it was");
});
