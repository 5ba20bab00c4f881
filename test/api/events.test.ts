// The poll queue through the API, over a real SQLite store.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.ts';
import { type Engine, engineOn } from '../../src/engine/engine.ts';
import { createApiKey, createSubscription } from '../../src/engine/tenancy.ts';
import { ackEvent, nextEvents } from '../../src/notify/events.ts';
import { openStore, type Store } from '../../src/store/database.ts';
import { insertCertificate } from '../../src/store/repositories/certificates.ts';
import { appendEvent, type EventType } from '../../src/store/repositories/events.ts';
import { manualClock } from '../rig/clock.ts';
import { tempDir } from '../rig/tmp.ts';
import { certificateRecord, rowsFor } from '../store/rows.ts';

type Tenant = { id: string; key: string; readKey: string };

describe('events API', () => {
  const clock = manualClock(Date.parse('2030-05-01T12:00:00.250Z'));
  let store: Store;
  let ctx: Engine;
  let app: FastifyInstance;
  let remove: () => Promise<void>;
  const tenants = {} as Record<'a' | 'b', Tenant>;

  before(async () => {
    const dir = await tempDir();
    remove = dir.remove;
    store = await openStore({ dataDir: dir.path });
    ctx = engineOn(store, { answers: 'server', clock });
    app = await buildApp({ engine: ctx });
    for (const name of ['a', 'b'] as const) {
      const created = await createSubscription(ctx, `tenant ${name}`);
      tenants[name] = {
        id: created.id,
        key: created.key.apiKey,
        readKey: (await createApiKey(ctx, created.id, 'read')).apiKey,
      };
      const { certificates } = rowsFor(created.id);
      await insertCertificate(store.db, certificateRecord({ ...certificates, id: `crt_${name}`, name: `www.${name}.example` }));
    }
  });
  after(async () => {
    await app.close();
    await ctx.close();
    await store.close();
    await remove();
  });

  const call = (method: 'GET' | 'POST', url: string, key?: string) =>
    app.inject({ method, url, headers: key ? { authorization: `Bearer ${key}` } : {} });
  const poll = async (query: string, key: string) => {
    const response = await call('GET', `/api/v1/events${query}`, key);
    assert.equal(response.statusCode, 200, response.body);
    return response.json() as {
      events: { id: number; type: string; certificate: string | null; payload: unknown; createdAt: string }[];
      remaining: number;
    };
  };
  const ack = (id: number, key: string) => call('POST', `/api/v1/events/${id}/ack`, key);
  /** Appends `count` events to the tenant's queue and returns their ids. */
  const append = async (tenant: Tenant, count: number, type: EventType = 'certificate.issued'): Promise<number[]> => {
    for (let i = 0; i < count; i++) {
      const certificateId = tenant === tenants.a ? 'crt_a' : 'crt_b';
      await appendEvent(
        store.db,
        { subscriptionId: tenant.id, certificateId, type, payload: { n: i, name: 'bücher' } },
        clock.now(),
      );
    }
    const all = await store.db
      .selectFrom('events')
      .select('id')
      .where('subscription_id', '=', tenant.id)
      .orderBy('id', 'desc')
      .limit(count)
      .execute();
    return all.map((row) => row.id).reverse();
  };
  /** Acknowledges everything so that each test starts from an empty queue. */
  const drain = async (tenant: Tenant) => {
    for (const event of (await nextEvents(ctx, tenant.id, { limit: 1000 })).events)
      await ackEvent(ctx, tenant.id, event.id);
  };

  test('without a key → 401; a read key may poll but not acknowledge → 403', async () => {
    const [id] = await append(tenants.a, 1);
    assert.equal((await call('GET', '/api/v1/events')).statusCode, 401);
    assert.equal((await ack(id, undefined as unknown as string)).statusCode, 401);
    const forbidden = await ack(id, tenants.a.readKey);
    assert.equal(forbidden.statusCode, 403);
    assert.match(forbidden.json().detail, /needs a write key/);
    assert.deepEqual(
      (await poll('', tenants.a.readKey)).events.map((e) => e.id),
      [id],
      'still queued after the refused ack',
    );
    await drain(tenants.a);
  });

  test('an event is shown with its certificate name, its payload as an object and an ISO time', async () => {
    await append(tenants.a, 1, 'renewal.failed');
    await appendEvent(
      store.db,
      { subscriptionId: tenants.a.id, certificateId: null, type: 'issuance.failed', payload: {} },
      clock.now(),
    );
    const page = await poll('', tenants.a.key);
    assert.equal(page.events.length, 2);
    const [withCertificate, withoutCertificate] = page.events;
    assert.equal(withCertificate.type, 'renewal.failed');
    assert.equal(withCertificate.certificate, 'www.a.example');
    assert.deepEqual(withCertificate.payload, { n: 0, name: 'bücher' });
    assert.equal(withCertificate.createdAt, '2030-05-01T12:00:00Z');
    assert.equal(withoutCertificate.certificate, null);
    assert.equal(page.remaining, 0);
    await drain(tenants.a);
  });

  test('pages: oldest first, limit, after, and remaining counts what follows the page', async () => {
    const ids = await append(tenants.a, 5);
    const first = await poll('?limit=2', tenants.a.key);
    assert.deepEqual(
      first.events.map((e) => e.id),
      ids.slice(0, 2),
    );
    assert.equal(first.remaining, 3);
    const second = await poll(`?limit=2&after=${ids[1]}`, tenants.a.key);
    assert.deepEqual(
      second.events.map((e) => e.id),
      ids.slice(2, 4),
    );
    assert.equal(second.remaining, 1);
    const last = await poll(`?after=${ids[3]}`, tenants.a.key);
    assert.deepEqual(
      last.events.map((e) => e.id),
      [ids[4]],
    );
    assert.equal(last.remaining, 0);
    const past = await poll(`?after=${ids[4]}`, tenants.a.key);
    assert.deepEqual(past, { events: [], remaining: 0 });
    await drain(tenants.a);
  });

  test('the default page is 100 events and the largest 1000', async () => {
    await append(tenants.a, 101);
    const page = await poll('', tenants.a.key);
    assert.equal(page.events.length, 100);
    assert.equal(page.remaining, 1);
    assert.equal((await poll('?limit=1000', tenants.a.key)).events.length, 101);
    await drain(tenants.a);
  });

  test('an acknowledged event leaves the queue; acknowledging again is fine; unknown ids → 404', async () => {
    const ids = await append(tenants.a, 3);
    const acked = await ack(ids[1], tenants.a.key);
    assert.equal(acked.statusCode, 204, acked.body);
    const page = await poll('', tenants.a.key);
    assert.deepEqual(
      page.events.map((e) => e.id),
      [ids[0], ids[2]],
    );
    assert.equal((await ack(ids[1], tenants.a.key)).statusCode, 204, 'idempotent');
    const stored = await store.db
      .selectFrom('events')
      .select('acked_at')
      .where('id', '=', ids[1])
      .executeTakeFirstOrThrow();
    assert.equal(stored.acked_at, clock.now());
    const unknown = await ack(ids[2] + 1000, tenants.a.key);
    assert.equal(unknown.statusCode, 404);
    assert.match(unknown.json().detail, new RegExp(`no event ${ids[2] + 1000}`));
    await drain(tenants.a);
  });

  test("a subscription never sees nor acknowledges another's events", async () => {
    const [mine] = await append(tenants.a, 1);
    const [theirs] = await append(tenants.b, 1);
    assert.deepEqual(
      (await poll('', tenants.a.key)).events.map((e) => e.id),
      [mine],
    );
    assert.deepEqual(
      (await poll('', tenants.b.key)).events.map((e) => e.id),
      [theirs],
    );
    assert.equal((await ack(theirs, tenants.a.key)).statusCode, 404);
    assert.deepEqual(
      (await poll('', tenants.b.key)).events.map((e) => e.id),
      [theirs],
      "B's event is still queued",
    );
    assert.equal((await poll('', tenants.b.key)).events[0].certificate, 'www.b.example');
    await drain(tenants.a);
    await drain(tenants.b);
  });

  test('bad query and path values → 400 naming the field', async () => {
    for (const [url, field] of [
      ['/api/v1/events?limit=0', 'limit'],
      ['/api/v1/events?limit=1001', 'limit'],
      ['/api/v1/events?limit=ten', 'limit'],
      ['/api/v1/events?after=-1', 'after'],
      ['/api/v1/events?after=1.5', 'after'],
    ]) {
      const response = await call('GET', url, tenants.a.key);
      assert.equal(response.statusCode, 400, url);
      assert.equal(response.json().errors[0].field, field, url);
    }
    for (const id of ['abc', '0', '99999999999999999999']) {
      const response = await call('POST', `/api/v1/events/${id}/ack`, tenants.a.key);
      assert.equal(response.statusCode, 400, id);
      assert.equal(response.json().errors[0].field, 'id', id);
    }
  });

  test('the OpenAPI document describes the events routes', async () => {
    const document = (await call('GET', '/api/openapi.json')).json();
    const list = document.paths['/api/v1/events']?.get;
    assert.ok(list, 'GET /api/v1/events documented');
    assert.deepEqual(list.parameters.map((p: { name: string }) => p.name).sort(), ['after', 'limit']);
    assert.ok(list.responses['200'].content['application/json'].schema.properties.remaining);
    assert.ok(document.paths['/api/v1/events/{id}/ack']?.post, 'ack documented');
  });
});
