// The live feed behind the portal's and the agents' streams: a change stored
// right after the first listener subscribed — before the feed's first tick —
// still reaches it. (An agent connecting while its certificate was renewed
// missed the new version until it reconnected: the feed took its starting
// point a second late, after the event.)
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createEngineContext, type EngineContext } from '../../src/engine/context.ts';
import { type Change, LiveFeed } from '../../src/engine/live.ts';
import { openStore, type Store } from '../../src/store/database.ts';
import { appendEvent } from '../../src/store/repositories/events.ts';
import { DEFAULT_SUBSCRIPTION_ID, ensureSubscription } from '../../src/store/repositories/subscriptions.ts';
import { tempDir } from '../rig/tmp.ts';

let store: Store;
let ctx: EngineContext;
let remove = async () => {};

before(async () => {
  const dir = await tempDir('certkeep-live-');
  remove = dir.remove;
  store = await openStore({ dataDir: dir.path });
  ctx = createEngineContext(store);
  await ensureSubscription(store.db, DEFAULT_SUBSCRIPTION_ID, 'default', Date.now());
});

after(async () => {
  await store?.close();
  await remove();
});

function received(changes: Change[], type: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const look = () => {
      if (changes.some((change) => change.kind === 'event' && change.event.type === type)) return resolve();
      if (Date.now() - started > 10_000) return reject(new Error(`no ${type} reached the listener: ${JSON.stringify(changes)}`));
      setTimeout(look, 20);
    };
    look();
  });
}

const renewed = { subscriptionId: DEFAULT_SUBSCRIPTION_ID, certificateId: null, type: 'certificate.renewed', payload: {} } as const;

test('an event stored once the feed is ready, before its first tick, reaches the listener; one stored before is not replayed', async () => {
  await appendEvent(store.db, { ...renewed, type: 'certificate.issued' }, Date.now());
  const feed = new LiveFeed(ctx);
  const changes: Change[] = [];
  const unsubscribe = feed.subscribe(DEFAULT_SUBSCRIPTION_ID, (change) => changes.push(change));
  try {
    await feed.ready();
    await appendEvent(store.db, renewed, Date.now());
    await received(changes, 'certificate.renewed');
    assert.deepEqual(
      changes.map((change) => change.kind === 'event' && change.event.type),
      ['certificate.renewed'],
      'only what was stored after the feed started',
    );
  } finally {
    unsubscribe();
    feed.close();
  }
});

test('a feed stopped (no listener) and started again starts afresh, and is ready again before its first tick', async () => {
  const feed = new LiveFeed(ctx);
  const first: Change[] = [];
  feed.subscribe(DEFAULT_SUBSCRIPTION_ID, (change) => first.push(change))();
  await feed.ready();
  await appendEvent(store.db, { ...renewed, type: 'certificate.revoked' }, Date.now());
  const changes: Change[] = [];
  const unsubscribe = feed.subscribe(DEFAULT_SUBSCRIPTION_ID, (change) => changes.push(change));
  try {
    await feed.ready();
    await appendEvent(store.db, { ...renewed, type: 'certificate.deleted' }, Date.now());
    await received(changes, 'certificate.deleted');
    assert.ok(!changes.some((change) => change.kind === 'event' && change.event.type === 'certificate.revoked'), 'what was stored while stopped is owed to no one');
    assert.deepEqual(first, []);
  } finally {
    unsubscribe();
    feed.close();
  }
});

test('an event whose number was handed out before a later one but committed after it (PostgreSQL) still reaches the listener, once', async () => {
  const feed = new LiveFeed(ctx);
  const changes: Change[] = [];
  const unsubscribe = feed.subscribe(DEFAULT_SUBSCRIPTION_ID, (change) => changes.push(change));
  try {
    await feed.ready();
    const newest = (await store.db.selectFrom('events').select('id').orderBy('id', 'desc').executeTakeFirstOrThrow()).id;
    const row = (id: number, type: string) => ({
      id,
      subscription_id: DEFAULT_SUBSCRIPTION_ID,
      certificate_id: null,
      type,
      payload: '{}',
      created_at: Date.now(),
      acked_at: null,
      emailed_at: null,
    });
    // The later number commits first, as a second worker's transaction can on PostgreSQL.
    await store.db.insertInto('events').values(row(newest + 2, 'certificate.expiring')).execute();
    await received(changes, 'certificate.expiring');
    await store.db.insertInto('events').values(row(newest + 1, 'certificate.expired')).execute();
    await received(changes, 'certificate.expired');
    await new Promise((resolve) => setTimeout(resolve, 1500)); // another tick: nothing sent twice
    assert.deepEqual(
      changes.map((change) => change.kind === 'event' && change.event.id),
      [newest + 2, newest + 1],
    );
  } finally {
    unsubscribe();
    feed.close();
  }
});
