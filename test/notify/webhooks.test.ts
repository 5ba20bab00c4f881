// Webhooks through the API over a real SQLite store: registering, listing,
// deleting, and what is refused.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.ts';
import { closeEngineContext, createEngineContext, type EngineContext } from '../../src/engine/context.ts';
import { createApiKey, createSubscription } from '../../src/engine/tenancy.ts';
import { webhookSecretAad } from '../../src/notify/webhooks.ts';
import { openStore, type Store } from '../../src/store/database.ts';
import { manualClock } from '../rig/clock.ts';
import { tempDir } from '../rig/tmp.ts';

type Tenant = { id: string; key: string; readKey: string };

describe('webhooks', () => {
  const clock = manualClock(Date.parse('2030-05-01T12:00:00Z'));
  let store: Store;
  let ctx: EngineContext;
  let app: FastifyInstance;
  let remove: () => Promise<void>;

  before(async () => {
    const dir = await tempDir();
    remove = dir.remove;
    store = await openStore({ dataDir: dir.path });
    ctx = createEngineContext(store, { clock });
    app = await buildApp({ ctx });
  });
  after(async () => {
    await app.close();
    await closeEngineContext(ctx);
    await store.close();
    await remove();
  });

  async function tenant(): Promise<Tenant> {
    const created = await createSubscription(ctx, 'webhook tenant');
    const readKey = (await createApiKey(ctx, created.id, 'read')).apiKey;
    return { id: created.id, key: created.key.apiKey, readKey };
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

  test("a subscription never sees nor deletes another's webhooks", async () => {
    const a = await tenant();
    const b = await tenant();
    const hookA = await createWebhook(a, { url: 'http://127.0.0.1:9/a' });
    const hookB = await createWebhook(b, { url: 'http://127.0.0.1:9/b' });
    assert.deepEqual(
      (await call('GET', '/api/v1/webhooks', a.key)).json().webhooks.map((w: { id: string }) => w.id),
      [hookA.id],
    );
    assert.equal((await call('GET', `/api/v1/webhooks/${hookB.id}/deliveries`, a.key)).statusCode, 404);
    assert.equal((await call('DELETE', `/api/v1/webhooks/${hookB.id}`, a.key)).statusCode, 404);
    assert.deepEqual((await call('GET', `/api/v1/webhooks/${hookB.id}/deliveries`, b.key)).json(), {
      deliveries: [],
    });
    assert.equal((await call('DELETE', `/api/v1/webhooks/${hookB.id}`, b.readKey)).statusCode, 403);
    assert.equal((await call('DELETE', `/api/v1/webhooks/${hookB.id}`, b.key)).statusCode, 204);
    assert.deepEqual((await call('GET', '/api/v1/webhooks', b.key)).json().webhooks, []);
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
});
