// Notification recipients per subscription: certkeep admin subscription notify
// (the real CLI) and GET/PUT /api/v1/notifications, over one SQLite store.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.ts';
import { type Engine, engineOn } from '../../src/engine/engine.ts';
import { createApiKey, createSubscription } from '../../src/engine/tenancy.ts';
import { openStore, type Store } from '../../src/store/database.ts';
import { getNotifyEmails } from '../../src/store/repositories/subscriptions.ts';
import { oneLine, runCli } from '../e2e/harness.ts';
import { tempDir } from '../rig/tmp.ts';

describe('certkeep admin subscription notify', () => {
  let dataDir: string;
  let remove: () => Promise<void>;
  let id: string;
  before(async () => {
    ({ path: dataDir, remove } = await tempDir());
    id = (await admin(['subscription', 'create', 'hosting-co', '--json'])).json().id;
  });
  after(() => remove());
  const admin = (args: string[]) => runCli(['admin', ...args], { CERTKEEP_DATA_DIR: dataDir });

  test('--email (repeated or comma-separated) replaces the list; without addresses it shows it; --none clears it', async () => {
    const set = await admin([
      'subscription',
      'notify',
      id,
      '--email',
      'ops@example.com',
      '--email',
      'dev@example.com,Ops@Example.com',
      '--json',
    ]);
    assert.equal(set.code, 0, set.stderr);
    assert.deepEqual(set.json(), { id, emails: ['ops@example.com', 'dev@example.com'] });

    const shown = await admin(['subscription', 'notify', id]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal(shown.stdout.trim(), `${id} notifies ops@example.com, dev@example.com`);

    const cleared = await admin(['subscription', 'notify', id, '--none', '--json']);
    assert.deepEqual(cleared.json(), { id, emails: [] });
    assert.deepEqual((await admin(['subscription', 'notify', id, '--json'])).json().emails, []);
  });

  test('the global --email (ACME contact) before the command is not taken as a recipient', async () => {
    const result = await runCli(
      [
        '--email',
        'acme@example.com',
        'admin',
        'subscription',
        'notify',
        id,
        '--email',
        'ops@example.com',
        '--json',
      ],
      {
        CERTKEEP_DATA_DIR: dataDir,
      },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.json().emails, ['ops@example.com']);
  });

  test('a bad address → exit 2 naming --email and an example; an unknown subscription → exit 1; the list is unchanged', async () => {
    await admin(['subscription', 'notify', id, '--email', 'ops@example.com']);
    const bad = await admin([
      'subscription',
      'notify',
      id,
      '--email',
      'ops@example.com',
      '--email',
      'not-an-address',
    ]);
    assert.equal(bad.code, 2);
    assert.match(
      oneLine(bad.stderr),
      /--email: "not-an-address" is not an email address; write it as ops@example\.com/,
    );
    const both = await admin(['subscription', 'notify', id, '--email', 'ops@example.com', '--none']);
    assert.equal(both.code, 2);
    assert.match(oneLine(both.stderr), /--none and --email/);
    const missing = await admin(['subscription', 'notify', 'sub_missing', '--email', 'ops@example.com']);
    assert.equal(missing.code, 1);
    assert.match(oneLine(missing.stderr), /no subscription sub_missing/);
    assert.deepEqual((await admin(['subscription', 'notify', id, '--json'])).json().emails, [
      'ops@example.com',
    ]);
  });
});

describe('GET/PUT /api/v1/notifications', () => {
  let store: Store;
  let ctx: Engine;
  let app: FastifyInstance;
  let remove: () => Promise<void>;
  const tenants = {} as Record<'a' | 'b', { id: string; key: string; readKey: string }>;

  before(async () => {
    const dir = await tempDir();
    remove = dir.remove;
    store = await openStore({ dataDir: dir.path });
    ctx = engineOn(store, { answers: 'server' });
    app = await buildApp({ engine: ctx });
    for (const tenant of ['a', 'b'] as const) {
      const created = await createSubscription(ctx, `tenant ${tenant}`);
      tenants[tenant] = {
        id: created.id,
        key: created.key.apiKey,
        readKey: (await createApiKey(ctx, created.id, 'read')).apiKey,
      };
    }
  });
  after(async () => {
    await app.close();
    await ctx.close();
    await store.close();
    await remove();
  });

  const call = (method: 'GET' | 'PUT', key?: string, payload?: unknown) =>
    app.inject({
      method,
      url: '/api/v1/notifications',
      headers: key ? { authorization: `Bearer ${key}` } : {},
      ...(payload ? { payload } : {}),
    });

  test('no key → 401; a read key may GET but not PUT (403)', async () => {
    assert.equal((await call('GET')).statusCode, 401);
    assert.equal((await call('PUT', undefined, { emails: [] })).statusCode, 401);
    const read = await call('GET', tenants.a.readKey);
    assert.equal(read.statusCode, 200);
    assert.deepEqual(read.json(), { emails: [] });
    const denied = await call('PUT', tenants.a.readKey, { emails: ['ops@a.example'] });
    assert.equal(denied.statusCode, 403);
    assert.deepEqual(await getNotifyEmails(store.db, tenants.a.id), []);
  });

  test('PUT replaces the list of the key’s own subscription only', async () => {
    const put = await call('PUT', tenants.a.key, { emails: ['ops@a.example', ' oncall@a.example '] });
    assert.equal(put.statusCode, 200, put.body);
    assert.deepEqual(put.json(), { emails: ['ops@a.example', 'oncall@a.example'] });
    assert.deepEqual((await call('GET', tenants.a.readKey)).json(), {
      emails: ['ops@a.example', 'oncall@a.example'],
    });
    assert.deepEqual((await call('GET', tenants.b.readKey)).json(), { emails: [] });
    assert.deepEqual(await getNotifyEmails(store.db, tenants.b.id), []);
  });

  test('a bad address, too many addresses or a wrong shape → 400 naming the field; the list is unchanged', async () => {
    const bad = await call('PUT', tenants.b.key, { emails: ['admin@b.example', 'admin at b.example'] });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.equal(bad.json().errors[0].field, 'emails');
    assert.match(
      bad.json().detail,
      /"admin at b\.example" is not an email address; write it as ops@example\.com/,
    );

    const many = await call('PUT', tenants.b.key, {
      emails: Array.from({ length: 21 }, (_, i) => `a${i}@b.example`),
    });
    assert.equal(many.statusCode, 400);
    assert.equal(many.json().errors[0].field, 'emails');

    const shape = await call('PUT', tenants.b.key, { emails: 'admin@b.example' });
    assert.equal(shape.statusCode, 400);
    assert.equal(shape.json().errors[0].field, 'emails');
    assert.deepEqual(await getNotifyEmails(store.db, tenants.b.id), []);
  });

  test('the routes are in the OpenAPI document', async () => {
    const document = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    assert.ok(document.paths['/api/v1/notifications']?.get);
    assert.ok(document.paths['/api/v1/notifications']?.put);
  });
});
