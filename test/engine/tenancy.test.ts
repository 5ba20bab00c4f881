// API keys: shown once, stored as hashes, found by prefix, refused when revoked or altered.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { closeEngineContext, createEngineContext, type EngineContext } from '../../src/engine/context.ts';
import { authenticateApiKey, createApiKey, createSubscription, listSubscriptions, revokeApiKey } from '../../src/engine/tenancy.ts';
import { openStore, type Store } from '../../src/store/database.ts';
import { tempDir } from '../rig/tmp.ts';

describe('tenancy', () => {
  let store: Store;
  let ctx: EngineContext;
  let remove: () => Promise<void>;
  before(async () => {
    const dir = await tempDir();
    remove = dir.remove;
    store = await openStore({ dataDir: dir.path });
    ctx = createEngineContext(store);
  });
  after(async () => {
    await closeEngineContext(ctx);
    await store.close();
    await remove();
  });

  test("a new subscription comes with its owner's key (read, write and admin) that authenticates", async () => {
    const created = await createSubscription(ctx, 'Acme Hosting');
    assert.match(created.key.apiKey, /^ck_[a-z2-7]{12}\.[A-Za-z0-9_-]{43}$/);
    const caller = await authenticateApiKey(ctx, created.key.apiKey);
    assert.deepEqual(caller, { subscriptionId: created.id, keyId: created.key.id, keyPrefix: created.key.apiKey.slice(0, 15), scopes: ['read', 'write', 'admin'] });
  });

  test('only the hash of a key is stored', async () => {
    const { key } = await createSubscription(ctx, 'hash check');
    const row = await store.db.selectFrom('api_keys').selectAll().where('id', '=', key.id).executeTakeFirstOrThrow();
    const secret = key.apiKey.split('.')[1];
    assert.ok(!JSON.stringify(row).includes(secret));
    assert.match(row.secret_hash, /^[0-9a-f]{64}$/);
  });

  test('a read key reads only; altered, unknown and revoked keys are refused', async () => {
    const { id } = await createSubscription(ctx, 'scopes');
    const read = await createApiKey(ctx, id, 'read');
    assert.deepEqual((await authenticateApiKey(ctx, read.apiKey))?.scopes, ['read']);
    const altered = `${read.apiKey.slice(0, -1)}${read.apiKey.endsWith('A') ? 'B' : 'A'}`;
    assert.equal(await authenticateApiKey(ctx, altered), undefined);
    assert.equal(await authenticateApiKey(ctx, `ck_aaaaaaaaaaaa.${'x'.repeat(43)}`), undefined);
    assert.equal(await authenticateApiKey(ctx, 'not a key'), undefined);
    await revokeApiKey(ctx, read.id);
    assert.equal(await authenticateApiKey(ctx, read.apiKey), undefined);
  });

  test('bad input is refused with the field named', async () => {
    await assert.rejects(createApiKey(ctx, 'sub_missing', 'write'), /no subscription sub_missing/);
    const { id } = await createSubscription(ctx, 'bad scope');
    await assert.rejects(createApiKey(ctx, id, 'owner'), { name: 'UsageError', field: 'scope', message: 'scope: "owner" is not a scope; use read, write or admin' });
    await assert.rejects(createApiKey(ctx, id, 'read', 'x'.repeat(101)), /label: at most 100 characters/);
    assert.deepEqual((await createApiKey(ctx, id, 'admin')).scopes, ['read', 'write', 'admin']);
    await assert.rejects(createSubscription(ctx, ''), /subscription name/);
    await assert.rejects(revokeApiKey(ctx, 'key_missing'), /no API key/);
  });

  test('subscriptions are listed with their active keys', async () => {
    const listed = await listSubscriptions(ctx);
    const scopes = listed.find((s) => s.name === 'scopes');
    assert.equal(scopes?.activeKeys, 1, 'the revoked read key is not counted');
  });
});
