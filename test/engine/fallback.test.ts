// Issuer fallback with real CAs: a certificate lists two Pebbles, the second
// requiring External Account Binding. When the first is down, renewal fails
// there three times, then the scheduler orders from the second — creating its
// account on first use with the EAB credentials kept (sealed) with the issuer.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { validateRequest } from '../../src/engine/requests.ts';
import type { Clock } from '../../src/time/clock.ts';
import { closeEngineContext, createEngineContext, type EngineContext } from '../../src/engine/context.ts';
import { withEab } from '../../src/engine/issuers.ts';
import { runOrderOnce } from '../../src/engine/runs.ts';
import { startCertificate, startRenewal } from '../../src/engine/orders.ts';
import { RenewalScheduler } from '../../src/engine/scheduler.ts';
import { ServerSolvers } from '../../src/engine/solvers.ts';
import { type Pebble, startPebble } from '../../src/rig/pebble.ts';
import { openStore, type Store } from '../../src/store/database.ts';
import { getCertificate, getVersion } from '../../src/store/repositories/certificates.ts';
import { findOpenOrder, getOrder } from '../../src/store/repositories/orders.ts';
import { DEFAULT_SUBSCRIPTION_ID, ensureSubscription } from '../../src/store/repositories/subscriptions.ts';
import { tempDir } from '../rig/tmp.ts';

describe('falling back to the next CA', () => {
  let primary: Pebble;
  let fallback: Pebble;
  let store: Store;
  let ctx: EngineContext;
  let remove: () => Promise<void>;
  let offset = 0;
  // Real time moved forward on demand: the planner's waits pass at once, the CAs see nothing odd.
  const clock: Clock = { now: () => Date.now() + offset, sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 50))) };
  const eab = { kid: 'fallback-kid', hmacKey: randomBytes(32).toString('base64url') };

  before(async () => {
    primary = await startPebble({ env: { PEBBLE_VA_ALWAYS_VALID: '1' } });
    fallback = await startPebble({ env: { PEBBLE_VA_ALWAYS_VALID: '1' }, eabKeys: { [eab.kid]: eab.hmacKey } });
    const dir = await tempDir();
    remove = dir.remove;
    store = await openStore({ dataDir: dir.path });
    ctx = createEngineContext(store, { clock });
    await ensureSubscription(store.db, DEFAULT_SUBSCRIPTION_ID, 'default', clock.now());
  });
  after(async () => {
    await closeEngineContext(ctx);
    await store.close();
    await primary.stop();
    await fallback.stop();
    await remove();
  });

  test('three failures at a CA that is down, then the next CA, with its EAB', async () => {
    const solvers = new ServerSolvers(ctx);
    const seal = (plain: string, aad: string) => store.secrets.encrypt(plain, aad);
    const request = validateRequest({
      subscriptionId: DEFAULT_SUBSCRIPTION_ID,
      names: ['fallback.example.test'],
      issuers: [{ caUrl: primary.directoryUrl, caCertPem: primary.caCertPem }, withEab({ caUrl: fallback.directoryUrl, caCertPem: fallback.caCertPem }, eab, seal)],
    });
    assert.ok(!JSON.stringify(request.issuers).includes(eab.hmacKey), 'the EAB key is stored sealed');
    const { certificate, order } = await startCertificate(ctx, request);
    await runOrderOnce(ctx, solvers, order);
    const issued = await getCertificate(store.db, certificate.id);
    assert.equal((await getVersion(store.db, issued!.current_version_id!))?.ca_url, primary.directoryUrl);

    await primary.stop();
    const renewal = await startRenewal(ctx, DEFAULT_SUBSCRIPTION_ID, certificate.name, { goal: 'valid' });
    for (let attempt = 1; attempt <= 3; attempt++) {
      await assert.rejects(runOrderOnce(ctx, solvers, (await getOrder(store.db, renewal.order.id))!));
      const failed = await getOrder(store.db, renewal.order.id);
      offset = Math.max(offset, (failed!.retry_at ?? 0) - Date.now() + 1);
    }
    assert.equal((await getOrder(store.db, renewal.order.id))?.step, 'invalid', 'given up at the CA that is down');
    const afterFailures = await getCertificate(store.db, certificate.id);
    assert.equal(afterFailures?.failure_count, 3);
    assert.ok(afterFailures?.retry_at, 'a retry is planned');

    offset = afterFailures!.retry_at! - Date.now() + 1;
    const report = await new RenewalScheduler(ctx).tick();
    assert.equal(report.ordersOpened, 1);
    const next = await findOpenOrder(store.db, certificate.id);
    assert.equal(next?.ca_url, fallback.directoryUrl, 'the next order goes to the fallback CA');
    await runOrderOnce(ctx, solvers, next!);
    const renewed = await getCertificate(store.db, certificate.id);
    assert.equal(renewed?.failure_count, 0);
    assert.equal((await getVersion(store.db, renewed!.current_version_id!))?.ca_url, fallback.directoryUrl);
    const events = await store.db.selectFrom('events').select(['type', 'payload']).orderBy('id').execute();
    assert.ok(events.some((e) => e.type === 'renewal.failed' && JSON.parse(e.payload).ca === primary.directoryUrl), 'the failure at the primary is in the event stream');
    assert.equal(events.at(-1)?.type, 'certificate.renewed');
  });
});
