// The in-process cache of verified API keys: served for a few seconds, dropped
// at once when this process revokes the key and within a second when another
// does, never refilled by a lookup that a revocation overtook.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Clock } from '../../src/time/clock.ts';
import { closeEngineContext, createEngineContext, type EngineContext } from '../../src/engine/context.ts';
import type { Caller } from '../../src/engine/callers.ts';
import { authenticateApiKey, createApiKey, createSubscription, revokeApiKey } from '../../src/engine/tenancy.ts';
import { REVOCATION_CHECK_MS, VERIFIED_KEY_TTL_MS, VerifiedKeys } from '../../src/engine/verified-keys.ts';
import { openStore, type Store } from '../../src/store/database.ts';
import { revokeApiKey as markRevoked } from '../../src/store/repositories/api-keys.ts';
import { tempDir } from '../rig/tmp.ts';

describe('verified API keys', () => {
  let store: Store;
  let ctx: EngineContext;
  let remove: () => Promise<void>;
  let now = Date.UTC(2030, 0, 1);
  const clock: Clock = { now: () => now, sleep: async () => {} };
  let subscriptionId: string;

  before(async () => {
    const dir = await tempDir();
    remove = dir.remove;
    store = await openStore({ dataDir: dir.path });
    ctx = createEngineContext(store, { clock });
    subscriptionId = (await createSubscription(ctx, 'cache')).id;
  });
  after(async () => {
    await closeEngineContext(ctx);
    await store.close();
    await remove();
  });

  test('another process revoking a key is seen here within REVOCATION_CHECK_MS, long before the entry expires', async () => {
    const key = await createApiKey(ctx, subscriptionId, 'read');
    const other = await createApiKey(ctx, subscriptionId, 'read');
    assert.equal((await authenticateApiKey(ctx, key.apiKey))?.keyId, key.id);
    assert.equal((await authenticateApiKey(ctx, other.apiKey))?.keyId, other.id);
    await markRevoked(store.db, key.id, now); // as `certkeep admin apikey revoke` would, in its own process
    now += REVOCATION_CHECK_MS;
    assert.ok(REVOCATION_CHECK_MS < VERIFIED_KEY_TTL_MS);
    assert.equal(await authenticateApiKey(ctx, key.apiKey), undefined);
    assert.equal((await authenticateApiKey(ctx, other.apiKey))?.keyId, other.id, 'other keys are verified again');
  });

  test('revoking a key in this process refuses it at once, through any engine context on the store', async () => {
    const key = await createApiKey(ctx, subscriptionId, 'write');
    const other = await createApiKey(ctx, subscriptionId, 'read');
    assert.ok(await authenticateApiKey(ctx, key.apiKey));
    assert.ok(await authenticateApiKey(ctx, other.apiKey));
    const admin = createEngineContext(store, { clock });
    try {
      await revokeApiKey(admin, key.id);
    } finally {
      await closeEngineContext(admin);
    }
    assert.equal(await authenticateApiKey(ctx, key.apiKey), undefined);
    assert.equal((await authenticateApiKey(ctx, other.apiKey))?.keyId, other.id, 'other keys stay verified');
  });

  test('the cached caller cannot be changed by one request for the next', async () => {
    const key = await createApiKey(ctx, subscriptionId, 'read');
    const caller = await authenticateApiKey(ctx, key.apiKey);
    assert.ok(caller);
    assert.throws(() => caller.scopes.push('write'));
    assert.throws(() => {
      (caller as { subscriptionId: string }).subscriptionId = 'sub_other';
    });
    assert.deepEqual((await authenticateApiKey(ctx, key.apiKey))?.scopes, ['read']);
  });

  test('a lookup that a revocation overtook is not remembered', () => {
    const keys = new VerifiedKeys();
    const caller: Caller = { subscriptionId: 'sub_1', keyId: 'key_1', keyPrefix: 'ck_aaaaaaaaaaaa', scopes: ['read'] };
    const generation = keys.generation; // taken before reading the store…
    keys.forget('key_1'); // …which the revocation then changed
    keys.set('hash', caller, 0, generation);
    assert.equal(keys.get('hash', 1), undefined);
    keys.set('hash', caller, 0, keys.generation);
    assert.equal(keys.get('hash', 1), caller);
    assert.equal(keys.get('hash', VERIFIED_KEY_TTL_MS), undefined, 'expired');
  });
});
