// Webhooks end to end over real parts: a SQLite store in a temp dir, the API
// through inject, the dispatcher, and a real HTTP server on 127.0.0.1
// receiving the POSTs. Time moves by the test's clock, never by sleeping.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { after, afterEach, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { Kysely } from 'kysely';
import { buildApp } from '../../src/api/app.ts';
import { type Engine, engineOn } from '../../src/engine/engine.ts';
import { TenantLimits } from '../../src/outbound/tenant-limits.ts';
import { allowLoopback } from '../rig/limits.ts';
import { createApiKey, createSubscription } from '../../src/engine/tenancy.ts';
import {
  type DispatcherOptions,
  startWebhookDispatcher,
  WebhookDispatcher,
} from '../../src/notify/dispatcher.ts';
import { verifySignature } from '../../src/notify/signature.ts';
import { type DeliveryView, webhookSecretAad } from '../../src/notify/webhooks.ts';
import { openStore, SQLITE_FILE, type Store } from '../../src/store/database.ts';
import type { Database } from '../../src/store/schema.ts';
import { NodeSqliteDialect } from '../../src/store/sqlite-dialect.ts';
import { insertCertificate } from '../../src/store/repositories/certificates.ts';
import { appendEvent, type EventType } from '../../src/store/repositories/events.ts';
import { manualClock } from '../rig/clock.ts';
import { tempDir } from '../rig/tmp.ts';
import { certificateRecord, rowsFor } from '../store/rows.ts';
import { type Receiver, startReceiver } from './receiver.ts';

type Tenant = { id: string; key: string; readKey: string; certificate: string };

describe('webhooks', () => {
  const clock = manualClock(Date.parse('2030-05-01T12:00:00Z'));
  let dataDir: string;
  let store: Store;
  let ctx: Engine;
  let app: FastifyInstance;
  let receiver: Receiver;
  let remove: () => Promise<void>;
  const errors: unknown[] = [];
  const dispatchers: WebhookDispatcher[] = [];

  before(async () => {
    const dir = await tempDir();
    remove = dir.remove;
    dataDir = dir.path;
    store = await openStore({ dataDir });
    ctx = allowLoopback(engineOn(store, { answers: 'server', clock }));
    app = await buildApp({ engine: ctx });
  });
  after(async () => {
    await app.close();
    await ctx.close();
    await store.close();
    await remove();
  });
  afterEach(async () => {
    await Promise.all(dispatchers.splice(0).map((d) => d.stop()));
    await receiver?.close();
    await store.db.deleteFrom('webhooks').execute(); // and their deliveries: each test starts with none pending
    assert.deepEqual(errors.splice(0), [], 'the dispatcher reported no errors');
  });

  /** A new subscription per test, so that no test sees another's events. */
  async function tenant(): Promise<Tenant> {
    const created = await createSubscription(ctx, 'webhook tenant');
    const readKey = (await createApiKey(ctx, created.id, 'read')).apiKey;
    const { certificates } = rowsFor(created.id);
    const name = `www.${created.id.slice(-6)}.example`;
    await insertCertificate(store.db, certificateRecord({ ...certificates, name }));
    return { id: created.id, key: created.key.apiKey, readKey, certificate: certificates.id };
  }
  function dispatcher(options: DispatcherOptions = {}): WebhookDispatcher {
    const created = new WebhookDispatcher(ctx, { settleMs: 0, onError: (e) => errors.push(e), ...options });
    dispatchers.push(created);
    return created;
  }
  async function receive(): Promise<Receiver> {
    receiver = await startReceiver();
    return receiver;
  }
  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, key?: string, payload?: object) =>
    app.inject({
      method,
      url,
      headers: key ? { authorization: `Bearer ${key}` } : {},
      ...(payload ? { payload } : {}),
    });
  async function createWebhook(
    owner: Tenant,
    body: object,
  ): Promise<{ id: string; url: string; eventTypes: string[]; createdAt: string; secret: string }> {
    const response = await call('POST', '/api/v1/webhooks', owner.key, body);
    assert.equal(response.statusCode, 201, response.body);
    return response.json();
  }
  async function append(
    owner: Tenant,
    type: EventType = 'certificate.issued',
    payload: Record<string, unknown> = { serial: '0a1b' },
  ): Promise<number> {
    await appendEvent(
      store.db,
      { subscriptionId: owner.id, certificateId: owner.certificate, type, payload },
      clock.now(),
    );
    const row = await store.db
      .selectFrom('events')
      .select('id')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirstOrThrow();
    return row.id;
  }
  async function deliveries(owner: Tenant, webhookId: string): Promise<DeliveryView[]> {
    const response = await call('GET', `/api/v1/webhooks/${webhookId}/deliveries`, owner.readKey);
    assert.equal(response.statusCode, 200, response.body);
    return response.json().deliveries;
  }
  /** Moves the clock to the delivery's next attempt. */
  async function untilNextAttempt(deliveryId: number): Promise<void> {
    const row = await store.db
      .selectFrom('webhook_deliveries')
      .select('next_attempt_at')
      .where('id', '=', deliveryId)
      .executeTakeFirstOrThrow();
    assert.ok(row.next_attempt_at !== null);
    clock.advance(Math.max(0, row.next_attempt_at - clock.now()));
  }

  test('creating needs a write key; the secret is returned once, stored encrypted, and never listed', async () => {
    const owner = await tenant();
    const body = { url: 'http://127.0.0.1:9/hook' };
    assert.equal((await call('POST', '/api/v1/webhooks', undefined, body)).statusCode, 401);
    assert.equal((await call('POST', '/api/v1/webhooks', owner.readKey, body)).statusCode, 403);
    const created = await createWebhook(owner, body);
    assert.match(created.id, /^whk_[0-9a-z]{26}$/);
    assert.deepEqual(
      { ...created, id: '', secret: '' },
      { id: '', url: body.url, eventTypes: [], createdAt: '2030-05-01T12:00:00Z', secret: '' },
    );
    assert.match(created.secret, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');

    const row = await store.db
      .selectFrom('webhooks')
      .selectAll()
      .where('id', '=', created.id)
      .executeTakeFirstOrThrow();
    assert.ok(!row.secret_enc.includes(created.secret));
    assert.equal(store.secrets.decryptString(row.secret_enc, webhookSecretAad(created.id)), created.secret);
    assert.throws(
      () => store.secrets.decryptString(row.secret_enc, webhookSecretAad('whk_other')),
      /cannot decrypt/,
    );

    const chosen = await createWebhook(owner, {
      url: 'https://hooks.example.com/x',
      secret: 'my own secret, 16+ chars',
      eventTypes: ['renewal.failed'],
    });
    assert.equal(chosen.secret, 'my own secret, 16+ chars');
    const listed = await call('GET', '/api/v1/webhooks', owner.readKey);
    assert.equal(listed.statusCode, 200);
    assert.deepEqual(listed.json(), {
      webhooks: [
        { id: created.id, url: body.url, eventTypes: [], createdAt: created.createdAt },
        {
          id: chosen.id,
          url: 'https://hooks.example.com/x',
          eventTypes: ['renewal.failed'],
          createdAt: chosen.createdAt,
        },
      ],
    });
    assert.ok(!listed.body.includes(created.secret) && !listed.body.includes('my own secret'));
    assert.equal((await call('GET', '/api/v1/webhooks')).statusCode, 401);
  });

  test('bad input → 400 naming the field', async () => {
    const owner = await tenant();
    const cases: [object, string][] = [
      [{ url: 'ftp://127.0.0.1/hook' }, 'url'],
      [{ url: 'not a url' }, 'url'],
      [{ url: '/relative/path' }, 'url'],
      [{ url: `http://127.0.0.1/${'a'.repeat(2000)}` }, 'url'],
      [{ url: 'https://user:password@hooks.example.com/' }, 'url'],
      [{}, 'url'],
      [{ url: { href: 'http://127.0.0.1/' } }, 'url'],
      [{ url: 'http://127.0.0.1/', eventTypes: { all: true } }, 'eventTypes'],
      [{ url: 'http://127.0.0.1/', eventTypes: ['certificate.isued'] }, 'eventTypes.0'],
      [{ url: 'http://127.0.0.1/', eventTypes: ['renewal.failed', 'renewal.failed'] }, 'eventTypes'],
      [{ url: 'http://127.0.0.1/', secret: 'short' }, 'secret'],
      [{ url: 'http://127.0.0.1/', events: ['renewal.failed'] }, 'events'],
    ];
    for (const [body, field] of cases) {
      const response = await call('POST', '/api/v1/webhooks', owner.key, body);
      assert.equal(response.statusCode, 400, JSON.stringify(body));
      assert.equal(response.json().errors?.[0]?.field, field, `${JSON.stringify(body)}: ${response.body}`);
    }
    const scheme = await call('POST', '/api/v1/webhooks', owner.key, { url: 'ftp://127.0.0.1/hook' });
    assert.match(scheme.json().detail, /must be http or https, not ftp/);
    assert.deepEqual(
      (await call('GET', '/api/v1/webhooks', owner.key)).json().webhooks,
      [],
      'nothing was created',
    );
    assert.equal(
      (await call('GET', '/api/v1/webhooks/not-an-id/deliveries', owner.key)).json().errors[0].field,
      'id',
    );
  });

  test('an event is POSTed with its headers and a signature that verifies with the secret; once only', async () => {
    const owner = await tenant();
    await receive();
    const hook = await createWebhook(owner, { url: receiver.url() });
    const eventId = await append(owner, 'certificate.issued', { name: 'bücher.example', serial: '0a1b' });
    const dispatch = dispatcher();
    await dispatch.tick();

    assert.equal(receiver.received.length, 1);
    const [post] = receiver.received;
    assert.equal(post.path, '/hook');
    assert.equal(post.headers['content-type'], 'application/json');
    assert.equal(post.headers['user-agent'], 'certkeep');
    assert.equal(post.headers['x-certkeep-event'], 'certificate.issued');
    const [delivery] = await deliveries(owner, hook.id);
    assert.equal(post.headers['x-certkeep-delivery'], String(delivery.id));
    assert.deepEqual(JSON.parse(post.raw), {
      id: eventId,
      type: 'certificate.issued',
      createdAt: '2030-05-01T12:00:00Z',
      certificate: (
        await store.db
          .selectFrom('certificates')
          .select('name')
          .where('id', '=', owner.certificate)
          .executeTakeFirstOrThrow()
      ).name,
      payload: { name: 'bücher.example', serial: '0a1b' },
    });

    // Verified as a receiver would, by the documented recipe.
    const signature = post.headers['x-certkeep-signature'] as string;
    const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(signature);
    assert.ok(match, signature);
    assert.equal(Number(match[1]), Math.floor(clock.now() / 1000));
    assert.equal(match[2], createHmac('sha256', hook.secret).update(`${match[1]}.${post.raw}`).digest('hex'));
    const nowSeconds = Math.floor(clock.now() / 1000);
    assert.equal(verifySignature(hook.secret, signature, post.raw, { nowSeconds }), true);
    assert.equal(verifySignature('another secret', signature, post.raw, { nowSeconds }), false);
    assert.equal(verifySignature(hook.secret, signature, `${post.raw} `, { nowSeconds }), false);
    assert.equal(
      verifySignature(hook.secret, signature, post.raw, { nowSeconds: nowSeconds + 3600 }),
      false,
      'too old',
    );

    assert.deepEqual(
      { ...delivery, id: 0 },
      {
        id: 0,
        eventId,
        eventType: 'certificate.issued',
        status: 'delivered',
        attempts: 1,
        lastStatusCode: 200,
        lastError: null,
        nextAttemptAt: null,
        deliveredAt: '2030-05-01T12:00:00Z',
        createdAt: '2030-05-01T12:00:00Z',
      },
    );
    clock.advance(3_600_000);
    await dispatch.tick();
    await dispatch.tick();
    assert.equal(receiver.received.length, 1, 'not sent again');
    assert.equal((await deliveries(owner, hook.id)).length, 1, 'no second delivery row');
  });

  test('a webhook receives the types it asked for, and only events created after it', async () => {
    const owner = await tenant();
    await receive();
    const before = await append(owner, 'certificate.issued');
    clock.advance(1000);
    const all = await createWebhook(owner, { url: receiver.url('/all') });
    const renewals = await createWebhook(owner, {
      url: receiver.url('/renewals'),
      eventTypes: ['certificate.renewed', 'renewal.failed'],
    });
    const issued = await append(owner, 'certificate.issued');
    const renewed = await append(owner, 'certificate.renewed');
    const failed = await append(owner, 'renewal.failed');
    await dispatcher().tick();

    const paths = receiver.received.map((r) => `${r.path} ${JSON.parse(r.raw).id}`).sort();
    assert.deepEqual(
      paths,
      [
        `/all ${failed}`,
        `/all ${issued}`,
        `/all ${renewed}`,
        `/renewals ${failed}`,
        `/renewals ${renewed}`,
      ].sort(),
    );
    assert.ok(!paths.some((p) => p.endsWith(` ${before}`)), 'the event older than the webhooks is not sent');
    assert.deepEqual(
      (await deliveries(owner, renewals.id)).map((d) => d.eventId),
      [failed, renewed],
      'newest first',
    );
    const page = await call('GET', `/api/v1/webhooks/${all.id}/deliveries?limit=2`, owner.readKey);
    assert.deepEqual(
      page.json().deliveries.map((d: DeliveryView) => d.eventId),
      [failed, renewed],
    );
    const older = await call(
      'GET',
      `/api/v1/webhooks/${all.id}/deliveries?before=${page.json().deliveries[1].id}`,
      owner.readKey,
    );
    assert.deepEqual(
      older.json().deliveries.map((d: DeliveryView) => d.eventId),
      [issued],
    );
    assert.equal((await deliveries(owner, all.id)).length, 3);
  });

  test('a failed POST is retried with growing waits; the log records each attempt; success ends it', async () => {
    const owner = await tenant();
    await receive();
    receiver.answers.push({ status: 500, body: 'database\n  down' }, { status: 502 });
    const hook = await createWebhook(owner, { url: receiver.url() });
    const eventId = await append(owner);
    const dispatch = dispatcher();

    await dispatch.tick();
    let [delivery] = await deliveries(owner, hook.id);
    assert.equal(delivery.status, 'pending');
    assert.equal(delivery.attempts, 1);
    assert.equal(delivery.lastStatusCode, 500);
    assert.equal(delivery.lastError, 'HTTP 500: database down');
    assertWait(delivery.nextAttemptAt, 5_000, 10_000);

    await dispatch.tick();
    assert.equal(receiver.received.length, 1, 'not retried before its time');

    await untilNextAttempt(delivery.id);
    await dispatch.tick();
    [delivery] = await deliveries(owner, hook.id);
    assert.equal(delivery.attempts, 2);
    assert.equal(delivery.lastStatusCode, 502);
    assert.equal(delivery.lastError, 'HTTP 502');
    assertWait(delivery.nextAttemptAt, 10_000, 20_000);

    await untilNextAttempt(delivery.id);
    await dispatch.tick();
    [delivery] = await deliveries(owner, hook.id);
    assert.equal(delivery.status, 'delivered');
    assert.equal(delivery.attempts, 3);
    assert.equal(delivery.lastStatusCode, 200);
    assert.equal(delivery.lastError, null);
    assert.equal(delivery.nextAttemptAt, null);
    assert.ok(delivery.deliveredAt);

    assert.equal(receiver.received.length, 3);
    assert.deepEqual(
      new Set(receiver.received.map((r) => r.headers['x-certkeep-delivery'])),
      new Set([String(delivery.id)]),
      'one delivery id on every retry',
    );
    assert.deepEqual(new Set(receiver.received.map((r) => JSON.parse(r.raw).id)), new Set([eventId]));
    const stamps = receiver.received.map((r) =>
      Number(/t=(\d+)/.exec(r.headers['x-certkeep-signature'] as string)?.[1]),
    );
    assert.ok(
      stamps[0] < stamps[1] && stamps[1] < stamps[2],
      `each attempt is signed at its own time: ${stamps}`,
    );
  });

  test('after 12 failed attempts the delivery is failed; the waits double up to an hour', async () => {
    const owner = await tenant();
    await receive();
    receiver.fallback = { status: 503 };
    const hook = await createWebhook(owner, { url: receiver.url() });
    await append(owner);
    const dispatch = dispatcher();
    const waits: number[] = [];
    await dispatch.tick();
    for (let attempt = 2; attempt <= 12; attempt++) {
      const row = await store.db
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('webhook_id', '=', hook.id)
        .executeTakeFirstOrThrow();
      assert.equal(row.status, 'pending');
      assert.equal(row.attempts, attempt - 1);
      waits.push((row.next_attempt_at ?? 0) - clock.now());
      await untilNextAttempt(row.id);
      await dispatch.tick();
    }
    const [delivery] = await deliveries(owner, hook.id);
    assert.equal(delivery.status, 'failed');
    assert.equal(delivery.attempts, 12);
    assert.equal(delivery.lastStatusCode, 503);
    assert.equal(delivery.nextAttemptAt, null);
    assert.equal(delivery.deliveredAt, null);
    assert.equal(receiver.received.length, 12);

    waits.forEach((wait, i) => {
      const nominal = Math.min(10_000 * 2 ** i, 3_600_000);
      assert.ok(wait >= nominal / 2 && wait <= nominal, `wait ${i + 1}: ${wait} ms, nominal ${nominal} ms`);
    });
    clock.advance(24 * 3_600_000);
    await dispatch.tick();
    assert.equal(receiver.received.length, 12, 'a failed delivery is not tried again');
  });

  test('no answer, a refused connection and a redirect are failed attempts with their reason', async () => {
    const owner = await tenant();
    await receive();
    receiver.answers.push(
      { status: 0, hang: true },
      { status: 302, headers: { location: 'http://127.0.0.1:9/' } },
    );
    const hook = await createWebhook(owner, { url: receiver.url() });
    const closed = await startReceiver();
    const refusedUrl = closed.url();
    await closed.close();
    const refusing = await createWebhook(owner, { url: refusedUrl });
    await append(owner);
    const dispatch = dispatcher({ timeoutMs: 300 });

    await dispatch.tick();
    let [delivery] = await deliveries(owner, hook.id);
    assert.equal(delivery.lastStatusCode, null);
    assert.match(delivery.lastError ?? '', /^no answer: no connection, no answer in time, or a TLS failure/);
    const [refused] = await deliveries(owner, refusing.id);
    assert.equal(refused.lastStatusCode, null);
    assert.equal(refused.lastError, delivery.lastError, 'a refused connection reads as no answer: the log is no port scanner');
    assert.equal(refused.status, 'pending');

    await untilNextAttempt(delivery.id);
    await dispatch.tick();
    [delivery] = await deliveries(owner, hook.id);
    assert.equal(delivery.lastStatusCode, 302);
    assert.equal(delivery.lastError, 'HTTP 302 (redirects are not followed)');
    assert.equal(delivery.status, 'pending');
  });

  test("a subscription never sees another's webhooks or deliveries, nor receives its events", async () => {
    const a = await tenant();
    const b = await tenant();
    await receive();
    const hookA = await createWebhook(a, { url: receiver.url('/a') });
    const hookB = await createWebhook(b, { url: receiver.url('/b') });
    const eventA = await append(a);
    const eventB = await append(b);
    await dispatcher().tick();

    assert.deepEqual(receiver.received.map((r) => `${r.path} ${JSON.parse(r.raw).id}`).sort(), [
      `/a ${eventA}`,
      `/b ${eventB}`,
    ]);
    assert.deepEqual(
      (await call('GET', '/api/v1/webhooks', a.key)).json().webhooks.map((w: { id: string }) => w.id),
      [hookA.id],
    );
    const foreignLog = await call('GET', `/api/v1/webhooks/${hookB.id}/deliveries`, a.key);
    assert.equal(foreignLog.statusCode, 404);
    assert.match(foreignLog.json().detail, /no webhook/);
    assert.equal((await call('DELETE', `/api/v1/webhooks/${hookB.id}`, a.key)).statusCode, 404);
    assert.deepEqual(
      (await deliveries(b, hookB.id)).map((d) => d.eventId),
      [eventB],
      "B's webhook and log are intact",
    );
  });

  test('deleting a webhook (write key) drops its log and the deliveries not yet sent', async () => {
    const owner = await tenant();
    await receive();
    receiver.fallback = { status: 500 };
    const hook = await createWebhook(owner, { url: receiver.url() });
    await append(owner);
    const dispatch = dispatcher();
    await dispatch.tick();
    assert.equal(receiver.received.length, 1);

    assert.equal((await call('DELETE', `/api/v1/webhooks/${hook.id}`)).statusCode, 401);
    assert.equal((await call('DELETE', `/api/v1/webhooks/${hook.id}`, owner.readKey)).statusCode, 403);
    assert.equal((await call('DELETE', `/api/v1/webhooks/${hook.id}`, owner.key)).statusCode, 204);
    assert.equal((await call('DELETE', `/api/v1/webhooks/${hook.id}`, owner.key)).statusCode, 404);
    assert.deepEqual((await call('GET', '/api/v1/webhooks', owner.key)).json().webhooks, []);
    assert.equal((await call('GET', `/api/v1/webhooks/${hook.id}/deliveries`, owner.key)).statusCode, 404);
    const left = await store.db
      .selectFrom('webhook_deliveries')
      .select('id')
      .where('webhook_id', '=', hook.id)
      .execute();
    assert.deepEqual(left, []);

    clock.advance(3_600_000);
    await dispatch.tick();
    assert.equal(receiver.received.length, 1, 'nothing more sent');
  });

  test('an event is fanned out only once it is settleMs old', async () => {
    const owner = await tenant();
    await receive();
    const hook = await createWebhook(owner, { url: receiver.url() });
    await append(owner);
    const dispatch = dispatcher({ settleMs: 5_000 });
    await dispatch.tick();
    assert.equal(receiver.received.length, 0);
    assert.deepEqual(await deliveries(owner, hook.id), []);
    clock.advance(5_000);
    await dispatch.tick();
    assert.equal(receiver.received.length, 1);
  });

  test('a backlog is sent in batches of `concurrency`, several batches per tick', async () => {
    const owner = await tenant();
    await receive();
    await createWebhook(owner, { url: receiver.url() });
    for (let i = 0; i < 7; i++) await append(owner);
    await dispatcher({ concurrency: 3 }).tick();
    assert.equal(receiver.received.length, 7);
  });

  test('a restarted dispatcher neither repeats nor misses a fan-out', async () => {
    const owner = await tenant();
    await receive();
    receiver.fallback = { status: 500 }; // keep the rows pending, so that a repeat would show
    const hook = await createWebhook(owner, { url: receiver.url() });
    const first = [await append(owner), await append(owner)];
    await dispatcher().tick();
    const later = [await append(owner), await append(owner, 'renewal.failed')];

    const restarted = dispatcher();
    await restarted.tick();
    await restarted.tick();
    const rows = await store.db
      .selectFrom('webhook_deliveries')
      .select('event_id')
      .where('webhook_id', '=', hook.id)
      .orderBy('event_id')
      .execute();
    assert.deepEqual(
      rows.map((r) => r.event_id),
      [...first, ...later],
    );
  });

  test('after its first tick a dispatcher reads only the webhooks of subscriptions with new events', async () => {
    const busy = await tenant();
    const quiet = await tenant();
    await receive();
    const busyHook = await createWebhook(busy, { url: receiver.url() });
    const quietHook = await createWebhook(quiet, { url: receiver.url() });
    const queries: { sql: string; parameters: readonly unknown[] }[] = [];
    const logged = new Kysely<Database>({
      dialect: new NodeSqliteDialect({ database: new DatabaseSync(join(dataDir, SQLITE_FILE)) }),
      log: (event) => {
        queries.push(event.query);
      },
    });
    const loggedCtx = allowLoopback(engineOn({ ...store, db: logged }, { answers: 'server', clock }));
    const watched = new WebhookDispatcher(loggedCtx, { settleMs: 0, onError: (e) => errors.push(e) });
    dispatchers.push(watched);
    await watched.tick();
    const event = await append(busy);

    queries.length = 0;
    await watched.tick();
    await logged.destroy();

    assert.ok(!queries.some((q) => /from "webhooks"/.test(q.sql) && !/where/.test(q.sql)), 'no query lists every webhook');
    assert.ok(!queries.some((q) => q.parameters.includes(quietHook.id)), 'the quiet subscription’s webhook is not looked at');
    assert.deepEqual(
      receiver.received.map((r) => [JSON.parse(r.raw).id, r.headers['x-certkeep-event']]),
      [[event, 'certificate.issued']],
    );
    assert.equal((await deliveries(busy, busyHook.id)).length, 1);
  });

  test('a webhook more than one fan-out behind catches up over the next ticks with no new events', async () => {
    const owner = await tenant();
    const hook = await createWebhook(owner, { url: 'http://127.0.0.1:9/refused' });
    const first = dispatcher({ concurrency: 1 });
    await first.tick(); // seen once: afterwards it looks only at what changed
    for (let i = 0; i < 1_100; i++) await append(owner);
    const count = async () =>
      Number(
        (
          await store.db
            .selectFrom('webhook_deliveries')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('webhook_id', '=', hook.id)
            .executeTakeFirstOrThrow()
        ).n,
      );
    await first.tick();
    assert.equal(await count(), 500, 'one fan-out adds at most 500');
    await first.tick();
    await first.tick();
    assert.equal(await count(), 1_100, 'the rest in the ticks that follow, though no event is new');
  });

  test('two server processes on one database send each delivery exactly once', async () => {
    const owner = await tenant();
    await receive();
    const hook = await createWebhook(owner, { url: receiver.url() });
    const events: number[] = [];
    for (let i = 0; i < 40; i++) events.push(await append(owner));
    const elsewhere = await startSecondProcess(clock.now(), 3);
    const here = dispatcher({ concurrency: 3 });
    elsewhere.go();
    for (let i = 0; i < 20; i++) await here.tick();
    assert.deepEqual(await elsewhere.exit, { code: 0, stderr: '' }, 'the other process reported no errors');

    const sent = receiver.received.map((r) => JSON.parse(r.raw).id as number).sort((x, y) => x - y);
    assert.deepEqual(sent, events, 'every event once, none twice');
    const log = await deliveries(owner, hook.id);
    assert.equal(log.length, 40, 'one delivery row per event');
    assert.ok(log.every((d) => d.status === 'delivered' && d.attempts === 1));
  });

  /** test/notify/dispatch-process.ts on this store, ready to start its ticks when go() is called. */
  async function startSecondProcess(now: number, concurrency: number) {
    const script = fileURLToPath(new URL('./dispatch-process.ts', import.meta.url));
    const child = spawn(process.execPath, [script, dataDir, String(now), String(concurrency)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const exit = once(child, 'exit').then(([code]) => ({ code, stderr }));
    const [ready] = await Promise.race([
      once(child.stdout, 'data'),
      exit.then((e) => [`exited: ${JSON.stringify(e)}`]),
    ]);
    assert.equal(String(ready), 'ready\n');
    return { go: () => child.stdin.write('go\n'), exit };
  }

  test('started, the dispatcher ticks by itself until stopped', async () => {
    const owner = await tenant();
    await receive();
    await createWebhook(owner, { url: receiver.url() });
    const arrived = receiver.next();
    const eventId = await append(owner);
    const running = startWebhookDispatcher(ctx, {
      intervalMs: 10,
      settleMs: 0,
      onError: (e) => errors.push(e),
    });
    try {
      assert.equal(JSON.parse((await arrived).raw).id, eventId);
    } finally {
      await running.stop();
    }
    await running.stop(); // a second stop is harmless
  });

  test('the address is checked when connecting: a loopback URL stored some other way gets no request', async () => {
    const owner = await tenant();
    await receive();
    const hook = await createWebhook(owner, { url: receiver.url() });
    await append(owner);
    const allowing = ctx.limits;
    ctx.limits = new TenantLimits(); // the server without --allow-outbound
    try {
      await dispatcher().tick();
    } finally {
      ctx.limits = allowing;
    }
    assert.equal(receiver.received.length, 0);
    const [delivery] = await deliveries(owner, hook.id);
    assert.match(delivery.lastError ?? '', /^no answer: 127\.0\.0\.1 is not a public address.*--allow-outbound CIDR/);
  });

  test('the OpenAPI document describes the webhook routes and the signature', async () => {
    const document = (await call('GET', '/api/openapi.json')).json();
    const create = document.paths['/api/v1/webhooks']?.post;
    assert.ok(create, 'POST /api/v1/webhooks documented');
    assert.match(create.description, /x-certkeep-signature/);
    assert.equal(create.requestBody.content['application/json'].schema.additionalProperties, false);
    assert.ok(document.paths['/api/v1/webhooks']?.get);
    assert.ok(document.paths['/api/v1/webhooks/{id}']?.delete);
    assert.ok(document.paths['/api/v1/webhooks/{id}/deliveries']?.get);
  });

  /** The next attempt is at least `min` and at most `max` ms from now (the log keeps whole seconds). */
  function assertWait(nextAttemptAt: string | null, min: number, max: number): void {
    assert.ok(nextAttemptAt, 'a next attempt is planned');
    const wait = Date.parse(nextAttemptAt) - clock.now();
    assert.ok(wait >= min - 1000 && wait <= max, `waits ${wait} ms, expected ${min}..${max}`);
  }
});
