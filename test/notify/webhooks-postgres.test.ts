// The dispatcher on PostgreSQL: two instances (two connection pools, as two
// servers have) fanning out and sending at the same moment deliver each event
// exactly once. Row locks and conditional UPDATEs are what keep them apart
// here; on SQLite the one writer does much of it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createEngineContext, type EngineContext } from '../../src/engine/context.ts';
import { allowLoopback } from '../rig/limits.ts';
import { createSubscription } from '../../src/engine/tenancy.ts';
import { WebhookDispatcher } from '../../src/notify/dispatcher.ts';
import { createWebhook } from '../../src/notify/webhooks.ts';
import { openStore, type Store } from '../../src/store/database.ts';
import { appendEvent } from '../../src/store/repositories/events.ts';
import { manualClock } from '../rig/clock.ts';
import { type PostgresServer, startPostgres } from '../rig/postgres.ts';
import { tempDir } from '../rig/tmp.ts';
import { type Receiver, startReceiver } from './receiver.ts';

let server: PostgresServer;
before(async () => {
  server = await startPostgres();
});
after(() => server?.stop());

test('postgres: two instances racing send every event exactly once', async (t) => {
  const dir = await tempDir('certkeep-pg-webhooks-');
  t.after(dir.remove);
  const clock = manualClock();
  const options = { dataDir: dir.path, databaseUrl: await server.createDatabase() };
  const stores: Store[] = [await openStore(options)];
  stores.push(await openStore(options)); // the master key file now exists: both use it
  t.after(() => Promise.all(stores.map((s) => s.close())));
  const [ctx, otherCtx]: EngineContext[] = stores.map((store) => allowLoopback(createEngineContext(store, { clock })));
  const receiver: Receiver = await startReceiver();
  t.after(() => receiver.close());

  const subscription = await createSubscription(ctx, 'pg tenant');
  const hooks = [
    await createWebhook(ctx, subscription.id, { url: receiver.url('/one') }),
    await createWebhook(ctx, subscription.id, { url: receiver.url('/two'), eventTypes: ['renewal.failed'] }),
  ];
  const errors: unknown[] = [];
  const dispatchers = [ctx, otherCtx].map(
    (c) => new WebhookDispatcher(c, { settleMs: 0, concurrency: 4, onError: (e) => errors.push(e) }),
  );
  t.after(() => Promise.all(dispatchers.map((d) => d.stop())));

  const expected: string[] = [];
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 15; i++) {
      const type = i % 3 === 0 ? 'renewal.failed' : 'certificate.issued';
      await appendEvent(
        stores[0].db,
        { subscriptionId: subscription.id, certificateId: null, type, payload: { i } },
        clock.now(),
      );
      const { id } = await stores[0].db
        .selectFrom('events')
        .select('id')
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirstOrThrow();
      expected.push(`/one ${id}`);
      if (type === 'renewal.failed') expected.push(`/two ${id}`);
    }
    // Both instances tick at once, several times: fan-out and claims race.
    await Promise.all(dispatchers.flatMap((d) => [d.tick(), d.tick(), d.tick(), d.tick(), d.tick()]));
  }
  for (let i = 0; i < 10; i++) await Promise.all(dispatchers.map((d) => d.tick()));

  assert.deepEqual(errors, []);
  const received = receiver.received.map((r) => `${r.path} ${JSON.parse(r.raw).id}`);
  assert.deepEqual(received.sort(), expected.sort(), 'each event once per matching webhook');
  for (const hook of hooks) {
    const rows = await stores[0].db
      .selectFrom('webhook_deliveries')
      .select(['event_id', 'status'])
      .where('webhook_id', '=', hook.id)
      .execute();
    assert.equal(rows.length, new Set(rows.map((r) => r.event_id)).size, 'no event has two delivery rows');
    assert.ok(rows.every((r) => r.status === 'delivered'));
  }
});
