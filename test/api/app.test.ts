// The API over a real SQLite store, through Fastify's inject (no sockets).
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { after, before, describe, test } from 'node:test';
import { buildApp } from '../../src/api/app.ts';
import { type Engine, engineOn } from '../../src/engine/engine.ts';
import { allowLoopback } from '../rig/limits.ts';
import { createApiKey, createSubscription, revokeApiKey } from '../../src/engine/tenancy.ts';
import { openStore, type Store } from '../../src/store/database.ts';
import { insertCertificate, insertVersion } from '../../src/store/repositories/certificates.ts';
import { tempDir } from '../rig/tmp.ts';
import { certificateRecord, rowsFor } from '../store/rows.ts';

describe('API', () => {
  let store: Store;
  let ctx: Engine;
  let app: FastifyInstance;
  let remove: () => Promise<void>;
  const tenants: Record<'a' | 'b', { id: string; key: string; readKey: string }> = {} as never;

  before(async () => {
    const dir = await tempDir();
    remove = dir.remove;
    store = await openStore({ dataDir: dir.path });
    ctx = allowLoopback(engineOn(store, { answers: 'server' }));
    app = await buildApp({ engine: ctx });
    for (const tenant of ['a', 'b'] as const) {
      const created = await createSubscription(ctx, `tenant ${tenant}`);
      const read = await createApiKey(ctx, created.id, 'read');
      tenants[tenant] = { id: created.id, key: created.key.apiKey, readKey: read.apiKey };
      await insertCertificate(store.db, certificateRow(created.id, `www.${tenant}.example`));
    }
  });
  after(async () => {
    await app.close();
    await ctx.close();
    await store.close();
    await remove();
  });

  const get = (url: string, key?: string) => app.inject({ method: 'GET', url, headers: key ? { authorization: `Bearer ${key}` } : {} });

  test('healthz and readyz answer without a key', async () => {
    assert.equal((await get('/healthz')).statusCode, 200);
    const ready = await get('/readyz');
    assert.equal(ready.statusCode, 200);
    assert.deepEqual(ready.json(), { status: 'ready' });
  });

  test('the OpenAPI document lists the routes and the API-key scheme; /api/docs serves the interactive docs', async () => {
    const response = await get('/api/openapi.json');
    assert.equal(response.statusCode, 200);
    const document = response.json();
    assert.match(document.openapi, /^3\./);
    assert.ok(document.paths['/api/v1/certificates']?.get, 'list route documented');
    assert.ok(document.paths['/api/v1/certificates/{name}']?.get, 'get route documented');
    assert.equal(document.components.securitySchemes.apiKey.scheme, 'bearer');
    const docs = await get('/api/docs/');
    assert.equal(docs.statusCode, 200);
    assert.match(docs.headers['content-type'] as string, /text\/html/);
  });

  test('no key, a wrong key, a revoked key → 401 problem documents', async () => {
    for (const key of [undefined, 'ck_aaaaaaaaaaaa.bad', 'garbage']) {
      const response = await get('/api/v1/certificates', key);
      assert.equal(response.statusCode, 401);
      assert.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8');
      assert.equal(response.json().status, 401);
      assert.match(response.json().detail, /API key/);
    }
    const extra = await createApiKey(ctx, tenants.a.id, 'read');
    await revokeApiKey(ctx, extra.id);
    assert.equal((await get('/api/v1/certificates', extra.apiKey)).statusCode, 401);
  });

  test('a subscription sees its own certificates only', async () => {
    const listA = await get('/api/v1/certificates', tenants.a.readKey);
    assert.equal(listA.statusCode, 200);
    assert.deepEqual(listA.json().certificates.map((c: { name: string }) => c.name), ['www.a.example']);
    assert.equal((await get('/api/v1/certificates/www.a.example', tenants.a.key)).json().name, 'www.a.example');
    const foreign = await get('/api/v1/certificates/www.b.example', tenants.a.key);
    assert.equal(foreign.statusCode, 404);
    assert.match(foreign.json().detail, /no certificate named "www.b.example"/);
  });

  test('zones: created with a write key, credentials never returned, isolated per subscription', async () => {
    const post = (body: unknown, key: string) =>
      app.inject({ method: 'POST', url: '/api/v1/zones', headers: { authorization: `Bearer ${key}` }, payload: body as object });
    const body = { zone: 'a.example', provider: 'rfc2136', settings: { server: '127.0.0.1:53', tsigKey: 'k', tsigSecret: 'c2VjcmV0c2VjcmV0' } };
    assert.equal((await post(body, tenants.a.readKey)).statusCode, 403);
    const created = await post(body, tenants.a.key);
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(created.json().settings.tsigSecret, '(set)');
    assert.ok(!created.body.includes('c2VjcmV0c2VjcmV0'));
    const listed = await get('/api/v1/zones', tenants.a.readKey);
    assert.deepEqual(listed.json().zones.map((z: { zone: string }) => z.zone), ['a.example']);
    assert.ok(!listed.body.includes('c2VjcmV0c2VjcmV0'));
    assert.deepEqual((await get('/api/v1/zones', tenants.b.key)).json().zones, []);
    const foreignDelete = await app.inject({ method: 'DELETE', url: '/api/v1/zones/a.example', headers: { authorization: `Bearer ${tenants.b.key}` } });
    assert.equal(foreignDelete.statusCode, 404);

    const duplicate = await post(body, tenants.a.key);
    assert.equal(duplicate.statusCode, 400);
    assert.match(duplicate.json().detail, /already managed/);
    const unknownProvider = await post({ ...body, zone: 'b.example', provider: 'route53' }, tenants.a.key);
    assert.equal(unknownProvider.statusCode, 400);
    assert.equal(unknownProvider.json().errors[0].field, 'provider');
    const missingSetting = await post({ zone: 'c.example', provider: 'rfc2136', settings: {} }, tenants.a.key);
    assert.equal(missingSetting.statusCode, 400);
    assert.equal(missingSetting.json().errors[0].field, 'settings.server');
    const wrongType = await post({ zone: 'd.example', provider: 'rfc2136', settings: 'no' }, tenants.a.key);
    assert.equal(wrongType.statusCode, 400);
    assert.equal(wrongType.json().errors[0].field, 'settings');
    const unknownProperty = await post({ ...body, zone: 'f.example', ttl: 60 }, tenants.a.key);
    assert.equal(unknownProperty.statusCode, 400, 'refused, not silently dropped');
    assert.deepEqual(unknownProperty.json().errors, [{ field: 'ttl', message: 'is not a known property' }]);
    const huge = await post({ ...body, zone: 'e.example', settings: { server: 'x'.repeat(1_000_000) } }, tenants.a.key);
    assert.ok([400, 413].includes(huge.statusCode), String(huge.statusCode));
    const malformed = await app.inject({ method: 'POST', url: '/api/v1/zones', headers: { authorization: `Bearer ${tenants.a.key}`, 'content-type': 'application/json' }, payload: '{"zone":' });
    assert.equal(malformed.statusCode, 400);

    const deleted = await app.inject({ method: 'DELETE', url: '/api/v1/zones/a.example', headers: { authorization: `Bearer ${tenants.a.key}` } });
    assert.equal(deleted.statusCode, 204);
    assert.deepEqual((await get('/api/v1/zones', tenants.a.key)).json().zones, []);
  });

  test('invalid input → 400 naming the field; unknown route → 404; never a 500', async () => {
    const bad = await get(`/api/v1/certificates/${encodeURIComponent('-bad name')}`, tenants.a.key);
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().errors[0].field, 'name');
    const long = await get(`/api/v1/certificates/${'a'.repeat(5000)}`, tenants.a.key);
    assert.equal(long.statusCode, 414, 'URI Too Long');
    const unknown = await get('/api/v1/nothing', tenants.a.key);
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().title, 'Not Found');
  });

  test('the list filters by state and expiry and pages by name', async () => {
    const created = await createSubscription(ctx, 'paging tenant');
    const key = created.key.apiKey;
    const DAY = 86_400_000;
    for (let i = 0; i < 5; i++) {
      const row = certificateRow(created.id, `p${i}.example`);
      const versionId = `ver_p${i}`;
      await insertCertificate(store.db, { ...row, state: i === 4 ? 'failed' : 'valid', current_version_id: i === 4 ? null : versionId });
      if (i < 4) await insertVersion(store.db, { ...rowsFor(created.id).certificate_versions, id: versionId, certificate_id: row.id, order_id: null, not_after: Date.now() + (i + 1) * 10 * DAY });
    }
    const names = (response: { json(): { certificates: { name: string }[] } }) => response.json().certificates.map((c) => c.name);
    const first = await get('/api/v1/certificates?limit=2', key);
    assert.deepEqual(names(first), ['p0.example', 'p1.example']);
    assert.equal(first.json().next, 'p1.example');
    const second = await get(`/api/v1/certificates?limit=2&after=${first.json().next}`, key);
    assert.deepEqual(names(second), ['p2.example', 'p3.example']);
    const last = await get(`/api/v1/certificates?limit=2&after=${second.json().next}`, key);
    assert.deepEqual(names(last), ['p4.example']);
    assert.equal(last.json().next, null);
    assert.deepEqual(names(await get('/api/v1/certificates?state=failed', key)), ['p4.example']);
    const soon = new Date(Date.now() + 25 * DAY).toISOString();
    assert.deepEqual(names(await get(`/api/v1/certificates?expiresBefore=${soon}`, key)), ['p0.example', 'p1.example']);
    const bad = await get('/api/v1/certificates?expiresBefore=soon', key);
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().errors[0].field, 'expiresBefore');
    assert.equal((await get('/api/v1/certificates?limit=0', key)).statusCode, 400);
    assert.equal((await get('/api/v1/certificates?state=bogus', key)).statusCode, 400);
  });
});

function certificateRow(subscriptionId: string, name: string) {
  const { certificates } = rowsFor(subscriptionId);
  return certificateRecord({ ...certificates, id: `crt_${name}`, name, identifiers: JSON.stringify([{ type: 'dns', value: name }]) });
}
