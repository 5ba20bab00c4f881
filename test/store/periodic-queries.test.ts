// Every query the server runs on a timer (the renewal scheduler, the order
// workers, retention, the webhook and mail senders) is served from an index
// range that holds only rows with work to do (issue 16): its plan, on SQLite
// and on PostgreSQL with real values bound, reads no whole table and no whole
// index. And the index keys that make this possible pick exactly the rows the
// planner's own rules (planner.ts) pick.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { expiryWarning, isDue, onTrack } from '../../src/engine/planner.ts';
import { openStore, type Store } from '../../src/store/database.ts';
import { newId } from '../../src/store/ids.ts';
import {
  ariChecksDue,
  claimDueCertificate,
  claimStuckCertificate,
  dueCertificates,
  nearingExpiry,
  stuckCertificates,
} from '../../src/store/repositories/certificates.ts';
import { eventsAfter, eventsWithIds, ordersChangedSince } from '../../src/store/repositories/changes.ts';
import type { Db, NewRow } from '../../src/store/repositories/db.ts';
import { overdueTargets, undeployedLocalTargets } from '../../src/store/repositories/deploy-targets.ts';
import { agentsChangedSince } from '../../src/store/repositories/agents.ts';
import { dueEmailEvents, swapEmailState } from '../../src/store/repositories/email-queue.ts';
import {
  eventIdsForWebhook,
  newestEventIdAtOrBefore,
  subscriptionsWithEvents,
} from '../../src/store/repositories/events.ts';
import { claimLease } from '../../src/store/repositories/leases.ts';
import { dueOrders, FINISHED_STEPS } from '../../src/store/repositories/orders.ts';
import {
  deleteAcknowledgedEvents,
  deleteRetiredOrders,
  deleteRetiredVersions,
} from '../../src/store/repositories/retention.ts';
import {
  claimDelivery,
  dueDeliveryIds,
  getWebhookById,
  lastDeliveredEventId,
  listWebhooks,
} from '../../src/store/repositories/webhooks.ts';
import type { OrderStep } from '../../src/store/records.ts';
import { fleetCertificateId, seedFleet } from '../rig/fleet.ts';
import { type PostgresServer, startPostgres } from '../rig/postgres.ts';
import { tempDir } from '../rig/tmp.ts';
import { seededRandom } from '../simulation/random.ts';
import { explainingDb } from './plans.ts';

const DAY = 86_400_000;
const NOW = Date.now();
const CA_URL = 'https://ca.example.test/directory';
const SUBSCRIPTION = 'sub_periodic';
const OPEN_ORDERS = 40;
/** A few events before the newest: where the live stream's and the webhook sender's cursors stand between ticks. */
let recentEvent = 0;

/** Each periodic query, as its caller sends it, and the index its plan must read where one was made for it. */
const PERIODIC: Record<string, { run: (db: Db) => Promise<unknown>; index?: string }> = {
  'scheduler: due certificates': {
    run: (db) => dueCertificates(db, NOW, 500),
    index: 'certificates_due_idx',
  },
  'scheduler: claim a due certificate': {
    run: (db) => claimDueCertificate(db, fleetCertificateId(1), 'me', NOW, 60_000),
  },
  'scheduler: expiry warnings': {
    run: (db) => nearingExpiry(db, NOW, 500),
    index: 'certificates_warning_idx',
  },
  'scheduler: ARI checks': { run: (db) => ariChecksDue(db, NOW, 500), index: 'certificates_ari_check_idx' },
  'scheduler: certificates left issuing': {
    run: (db) => stuckCertificates(db, NOW, NOW - 60_000, 500),
    index: 'certificates_issuing_idx',
  },
  'scheduler: claim one left issuing': {
    run: (db) => claimStuckCertificate(db, fleetCertificateId(11), 'me', NOW, NOW - 60_000, 60_000),
  },
  'worker: due orders': { run: (db) => dueOrders(db, NOW, 64), index: 'orders_runnable_idx' },
  'worker: claim an order': { run: (db) => claimLease(db, 'orders', 'ord_scale1', 'me', NOW, 30_000) },
  'retention: versions': {
    run: (db) => deleteRetiredVersions(db, NOW - 90 * DAY, 200),
    index: 'certificate_versions_retired_idx',
  },
  'retention: orders': {
    run: (db) => deleteRetiredOrders(db, NOW - 90 * DAY, 200),
    index: 'orders_retired_idx',
  },
  'retention: events': {
    run: (db) => deleteAcknowledgedEvents(db, NOW - 90 * DAY, 200),
    index: 'events_acked_idx',
  },
  'webhooks: settled events': { run: (db) => newestEventIdAtOrBefore(db, NOW - 5000, recentEvent) },
  'webhooks: subscriptions with new events': {
    run: (db) => subscriptionsWithEvents(db, recentEvent, recentEvent + 3),
  },
  "webhooks: a subscription's webhooks": { run: (db) => listWebhooks(db, SUBSCRIPTION) },
  'webhooks: a webhook still behind': { run: (db) => getWebhookById(db, 'whk_periodic') },
  "webhooks: a webhook's mark": { run: (db) => lastDeliveredEventId(db, 'whk_periodic') },
  'webhooks: new events for a webhook': {
    run: (db) =>
      eventIdsForWebhook(db, {
        subscriptionId: SUBSCRIPTION,
        createdSince: NOW - DAY,
        types: ['certificate.renewed'],
        afterId: recentEvent,
        upToId: recentEvent + 3,
        limit: 500,
      }),
  },
  'webhooks: due deliveries': { run: (db) => dueDeliveryIds(db, NOW, 20) },
  'webhooks: claim a delivery': { run: (db) => claimDelivery(db, 1, NOW, NOW + 60_000) },
  'live stream: new events': { run: (db) => eventsAfter(db, recentEvent, 500) },
  'live stream: events skipped over, looked up again': { run: (db) => eventsWithIds(db, [recentEvent - 1, recentEvent]) },
  'live stream: orders that moved': {
    run: (db) => ordersChangedSince(db, NOW - 5000, 500),
    index: 'orders_updated_at_idx',
  },
  "deployer: this machine's targets not on their current version": {
    run: (db) => undeployedLocalTargets(db, 'web-1.example', 100),
    index: 'deploy_targets_local_directory_key',
  },
  'deployments: targets overdue': {
    run: (db) => overdueTargets(db, NOW - 7 * DAY - 30 * 60_000, NOW - 30 * 60_000, 500),
    index: 'certificate_versions_created_at_idx',
  },
  'live stream: agents that changed': {
    run: (db) => agentsChangedSince(db, NOW - 5000, 500),
    index: 'agents_changed_at_idx',
  },
  'mail: due events': { run: (db) => dueEmailEvents(db, NOW, 50) },
  'mail: claim an event': { run: (db) => swapEmailState(db, 1, null, -(NOW + 600_000)) },
};

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`${kind}: periodic queries`, () => {
    let postgres: PostgresServer | undefined;
    let store: Store;
    let removeDir: () => Promise<void>;

    before(async () => {
      const dir = await tempDir('certkeep-periodic-');
      removeDir = dir.remove;
      if (kind === 'postgres') postgres = await startPostgres();
      store = await openStore({ dataDir: dir.path, databaseUrl: postgres?.url });
    });

    after(async () => {
      await store?.close();
      await postgres?.stop();
      await removeDir?.();
    });

    test('each reads only an index range, never a whole table or index', async () => {
      await seedStore(store);
      const failures: string[] = [];
      for (const [name, { run, index }] of Object.entries(PERIODIC)) {
        const { db, plans } = explainingDb(store);
        await run(db);
        assert.ok(plans.length > 0, `${name}: no query was sent`);
        for (const plan of plans) {
          if (plan.fullScans.length > 0)
            failures.push(`${name}: ${plan.fullScans.join('; ')}\n  ${plan.sql}\n${plan.plan}`);
        }
        if (index && !plans.some((plan) => plan.plan.includes(index)))
          failures.push(`${name}: does not read ${index}\n${plans.map((p) => p.plan).join('\n')}`);
      }
      assert.deepEqual(failures, [], `plans that read too much:\n${failures.join('\n\n')}`);
    });

    test("the due and warning keys pick exactly the certificates the planner's rules pick", async () => {
      const random = seededRandom(16);
      const rows = Array.from({ length: 400 }, (_, i) => randomCertificate(i, random));
      await store.db.insertInto('certificates').values(rows).execute();
      const ours = new Set(rows.map((row) => row.id));
      const picked = async (query: Promise<{ id: string }[]>) =>
        (await query)
          .map((row) => row.id)
          .filter((id) => ours.has(id))
          .sort();

      const due = rows.filter(
        (row) => row.state !== 'revoked' && isDue(row.retry_at ?? null, row.next_renewal_at ?? null, NOW),
      );
      assert.deepEqual(
        await picked(dueCertificates(store.db, NOW, 100_000)),
        due.map((row) => row.id).sort(),
      );

      const warned = rows.filter(
        (row) =>
          row.state !== 'revoked' &&
          row.current_not_after != null &&
          expiryWarning(
            row.current_not_after,
            NOW,
            row.warned_days ?? null,
            onTrack(row.next_renewal_at ?? null, row.failure_count ?? 0, NOW),
          ) !== undefined,
      );
      assert.ok(warned.length > 20 && due.length > 20, 'the random rows cover both cases');
      assert.deepEqual(
        await picked(nearingExpiry(store.db, NOW, 100_000)),
        warned.map((row) => row.id).sort(),
      );
    });

    test('the runnable key picks exactly the orders a worker may run', async () => {
      const random = seededRandom(17);
      const steps: OrderStep[] = ['new', 'placed', 'ready', 'valid', 'failed'];
      const orders = Array.from({ length: 300 }, (_, i) => {
        const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)];
        const around = () => pick([null, NOW - 60_000, NOW, NOW + 60_000]);
        return {
          id: `ord_runnable${i}`,
          step: pick(steps),
          goal: pick(['placed', 'ready', 'valid'] as const),
          retry_at: around(),
          lease_until: around(),
        };
      });
      await store.db
        .insertInto('orders')
        .values(
          orders.map((order, i) => ({
            ...order,
            // One open order per certificate at most (migration 0006).
            certificate_id: fleetCertificateId(100 + i),
            account_id: 'acct_scale',
            ca_url: CA_URL,
            authorizations: '[]',
            key_enc: '',
            replaces: null,
            error: null,
            attempt: 0,
            created_at: NOW,
            updated_at: NOW,
            order_url: null,
            finalize_url: null,
            certificate_url: null,
            csr: null,
            lease_owner: null,
          })),
        )
        .execute();
      const runnable = orders.filter(
        (o) =>
          o.step !== o.goal &&
          !(FINISHED_STEPS as readonly string[]).includes(o.step) &&
          (o.lease_until === null || o.lease_until < NOW) &&
          (o.retry_at === null || o.retry_at <= NOW),
      );
      assert.ok(runnable.length > 10);
      const found = (await dueOrders(store.db, NOW, 100_000))
        .map((o) => o.id)
        .filter((id) => id.startsWith('ord_runnable'));
      assert.deepEqual(found.sort(), runnable.map((o) => o.id).sort());
    });
  });
}

/** A fleet of healthy certificates and finished orders, with a little of each kind of work to do. */
async function seedStore(store: Store): Promise<void> {
  await store.db
    .insertInto('subscriptions')
    .values({ id: SUBSCRIPTION, name: 'periodic', created_at: NOW - 400 * DAY })
    .execute();
  await seedFleet(store, {
    subscriptionId: SUBSCRIPTION,
    certificates: 400,
    orders: 4000,
    caUrl: CA_URL,
    now: NOW,
  });
  const { db } = store;
  // Due, failing, off track and asking for ARI.
  await db
    .updateTable('certificates')
    .set({ next_renewal_at: NOW - 1000 })
    .where('id', 'in', [fleetCertificateId(1), fleetCertificateId(3)])
    .execute();
  await db
    .updateTable('certificates')
    .set({ failure_count: 2, retry_at: NOW + 60_000, last_error: 'down' })
    .where('id', '=', fleetCertificateId(5))
    .execute();
  await db
    .updateTable('certificates')
    .set({ ari_check_at: NOW - 1000 })
    .where('id', '=', fleetCertificateId(7))
    .execute();
  // An open order being run, one waiting to retry, one waiting for its client.
  const open = (id: string, step: OrderStep, goal: string, patch: Partial<NewRow<'orders'>>) =>
    db
      .updateTable('orders')
      .set({ step, goal, ...patch })
      .where('id', '=', id)
      .execute();
  await open('ord_scale1', 'placed', 'valid', { lease_until: NOW + 30_000, lease_owner: 'elsewhere' });
  await open('ord_scale3', 'new', 'valid', { retry_at: NOW + 60_000 });
  await open('ord_scale5', 'placed', 'placed', {});
  // A tenth of the fleet renewing: open orders waiting for their clients (the compatibility APIs' flows).
  await db
    .updateTable('orders')
    .set({ step: 'placed', goal: 'placed' })
    .where(
      'id',
      'in',
      Array.from({ length: OPEN_ORDERS }, (_, i) => `ord_scale${10 + i}`),
    )
    .execute();
  // History old enough to go.
  await db
    .updateTable('orders')
    .set({ created_at: NOW - 120 * DAY })
    .where('id', 'in', ['ord_scale2000', 'ord_scale2001'])
    .execute();
  await db
    .updateTable('events')
    .set({ created_at: NOW - 120 * DAY })
    .where('certificate_id', '=', fleetCertificateId(9))
    .execute();
  // Local deploy targets of two hundred machines sharing the store, ten each: a machine's deployer reads only its own.
  await db
    .insertInto('deploy_targets')
    .values(
      Array.from({ length: 2000 }, (_, i) => ({
        id: `dtg_periodic${i}`,
        certificate_id: fleetCertificateId(i % 400),
        agent_id: null,
        host: `web-${i % 200}.example`,
        directory: `/etc/ssl/site-${i}`,
        format: 'pem',
        owner: null,
        deploy_hook: null,
        reload: null,
        verify: '[]',
        verify_timeout_ms: 30_000,
        created_at: NOW - DAY,
        updated_at: NOW - DAY + i,
        lease_owner: null,
        lease_token: 0,
        lease_until: null,
      })),
    )
    .execute();
  // A webhook with deliveries sent and one pending; an event waiting for the mailer.
  await db
    .insertInto('webhooks')
    .values({
      id: 'whk_periodic',
      subscription_id: SUBSCRIPTION,
      url: 'https://hooks.example.test/',
      secret_enc: 'x',
      event_types: '[]',
      created_at: NOW - DAY,
    })
    .execute();
  const events = await db.selectFrom('events').select('id').orderBy('id').limit(50).execute();
  await db
    .insertInto('webhook_deliveries')
    .values(
      events.map((event, i) => ({
        webhook_id: 'whk_periodic',
        event_id: event.id,
        status: i === 0 ? 'pending' : 'delivered',
        attempts: 1,
        next_attempt_at: i === 0 ? NOW + 10_000 : null,
        last_status_code: 200,
        last_error: null,
        lease_until: null,
        created_at: NOW - DAY,
        delivered_at: i === 0 ? null : NOW - DAY,
      })),
    )
    .execute();
  await db.updateTable('events').set({ emailed_at: null }).where('id', '=', events[1].id).execute();
  const newest = await db
    .selectFrom('events')
    .select((eb) => eb.fn.max('id').as('id'))
    .executeTakeFirstOrThrow();
  recentEvent = Number(newest.id) - 3;
  // PostgreSQL's autovacuum analyzes new rows soon after they are written; the planner then has their statistics.
  if (store.kind === 'postgres') await sql`analyze`.execute(db);
}

function randomCertificate(i: number, random: () => number): NewRow<'certificates'> {
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)];
  const offset = () => Math.round((random() - 0.5) * 20 * DAY);
  const notAfter = pick([null, NOW + offset(), NOW - DAY, NOW + 2 * 3_600_000]);
  return {
    id: newId('crt'),
    subscription_id: SUBSCRIPTION,
    name: `random-${i}.example.test`,
    identifiers: '[]',
    challenge_type: 'http-01',
    challenge_config: '{}',
    key_type: 'ec-p256',
    issuers: JSON.stringify([{ caUrl: CA_URL }]),
    profile: null,
    renewal_policy: '{"autoRenew":true}',
    pfx_password_enc: null,
    csr_info: '{}',
    state: pick(['valid', 'valid', 'valid', 'revoked', 'failed']),
    current_version_id: notAfter === null ? null : newId('ver'),
    current_not_after: notAfter,
    next_renewal_at: pick([null, NOW + offset(), NOW - 30 * 60_000, NOW - 2 * 3_600_000]),
    retry_at: pick([null, null, NOW + offset()]),
    failure_count: pick([0, 0, 1, 4]),
    last_error: null,
    lease_owner: null,
    lease_token: 0,
    lease_until: null,
    warned_days: pick([null, null, 7, 3, 1, 0]),
    ari_check_at: null,
    created_at: NOW,
    updated_at: NOW,
  };
}
