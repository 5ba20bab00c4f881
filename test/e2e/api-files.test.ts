// Downloading a really issued certificate through the API, in every format.
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { after, before, describe, test } from 'node:test';
import { buildApp } from '../../src/api/app.ts';
import { type Engine, engineOn } from '../../src/engine/engine.ts';
import { createApiKey, createSubscription } from '../../src/engine/tenancy.ts';
import { openStore, type Store } from '../../src/store/database.ts';
import { type Rig, startRig, ZONE } from './harness.ts';

describe('GET /api/v1/certificates/{name}/files/{format}', () => {
  let rig: Rig;
  let store: Store;
  let ctx: Engine;
  let app: FastifyInstance;
  let readKey: string;
  let writeKey: string;
  let otherKey: string;
  const name = `files.${ZONE}`;

  before(async () => {
    rig = await startRig();
    const issued = await rig.certkeep(['issue', '-d', name, '--http-port', String(rig.httpPort)]);
    assert.equal(issued.code, 0, issued.stderr);
    store = await openStore({ dataDir: rig.dataDir });
    ctx = engineOn(store, { answers: 'server' });
    app = await buildApp({ engine: ctx });
    readKey = (await createApiKey(ctx, 'default', 'read')).apiKey;
    writeKey = (await createApiKey(ctx, 'default', 'write')).apiKey;
    otherKey = (await createSubscription(ctx, 'someone else')).key.apiKey;
  });
  after(async () => {
    await app?.close();
    if (ctx) await ctx.close();
    await store?.close();
    await rig?.stop();
  });

  const download = (format: string, key: string) =>
    app.inject({ method: 'GET', url: `/api/v1/certificates/${name}/files/${format}`, headers: { authorization: `Bearer ${key}` } });

  test('public formats with a read key, with their content types', async () => {
    const pem = await download('pem', readKey);
    assert.equal(pem.statusCode, 200);
    assert.equal(pem.headers['content-type'], 'application/pem-certificate-chain');
    assert.equal((pem.body.match(/BEGIN CERTIFICATE/g) ?? []).length, 2, 'leaf and intermediate');
    const cert = await download('cert', readKey);
    assert.equal(new X509Certificate(cert.body).subjectAltName, `DNS:${name}`);
    const der = await download('der', readKey);
    assert.equal(der.headers['content-type'], 'application/pkix-cert');
    assert.equal(new X509Certificate(der.rawPayload).serialNumber, new X509Certificate(cert.body).serialNumber);
    assert.equal((await download('chain', readKey)).statusCode, 200);
  });

  test('the key needs a write key; it matches the certificate', async () => {
    const refused = await download('key', readKey);
    assert.equal(refused.statusCode, 403);
    assert.match(refused.json().detail, /write-scoped/);
    const key = await download('key', writeKey);
    assert.equal(key.statusCode, 200);
    assert.match(key.body, /BEGIN PRIVATE KEY/);
    assert.equal(key.headers['cache-control'], 'no-store');
    const cert = new X509Certificate((await download('cert', readKey)).body);
    assert.ok(cert.checkPrivateKey(createPrivateKey(key.body)));
  });

  test('no PFX password → 409 saying so; unknown format → 400; another subscription → 404', async () => {
    const pfx = await download('pfx', writeKey);
    assert.equal(pfx.statusCode, 409);
    assert.match(pfx.json().detail, /PFX password/);
    const unknown = await download('p7b', readKey);
    assert.equal(unknown.statusCode, 400);
    assert.equal(unknown.json().errors[0].field, 'format');
    assert.equal((await download('pem', otherKey)).statusCode, 404);
  });
});
