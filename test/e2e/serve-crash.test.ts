// certkeep serve killed with SIGKILL mid-order: the next instance resumes the
// same ACME order once the dead one's lease runs out — no second newOrder. A
// peer instance on the same store (API and HTTP-01 only, --workers 0) answers
// the CA from the store while the worker is dead.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ordersOf, type Rig, startRig, ZONE } from './harness.ts';
import { eventually, type Server, startServer } from './server.ts';


describe('certkeep serve killed mid-order', () => {
  let rig: Rig;
  let apiKey: string;
  let peer: Server;
  before(async () => {
    rig = await startRig();
    peer = await startServer(rig, { args: ['--workers', '0'] });
    apiKey = (await peer.subscription('crash tenant')).apiKey;
  });
  after(async () => {
    await peer?.stop();
    await rig?.stop();
  });

  for (const step of ['placed', 'responded', 'finalized']) {
    test(`SIGKILL after "${step}": a restarted server finishes that same order`, async () => {
      const name = `serve-crash-${step}.${ZONE}`;
      const doomed = await startServer(rig, { httpChallengeListen: 'off', env: { CERTKEEP_CRASH_AFTER_STEP: step }, args: ['--lease-seconds', '2'] });
      const created = await doomed.call('POST', '/api/v1/certificates', { key: apiKey, body: { names: [name] } });
      assert.equal(created.status, 202, await created.text());
      await doomed.stop();
      assert.equal(doomed.process.signalCode, 'SIGKILL', `the worker killed itself after ${step}:\n${doomed.output()}`);
      const [killed] = ordersOf(rig.dataDir, name);
      assert.equal(killed.step, step);
      const newOrders = rig.pebble.requestCount('/order-plz');

      const restarted = await startServer(rig, { httpChallengeListen: 'off', args: ['--lease-seconds', '2'] });
      try {
        const done = await eventually(
          () => restarted.call('GET', `/api/v1/certificates/${name}`, { key: apiKey }).then((r) => r.json()),
          (c) => c.state === 'valid',
          30_000,
          `${name} valid`,
        );
        assert.ok(done.serial);
      } finally {
        assert.equal(await restarted.stop(), 0);
      }
      assert.equal(rig.pebble.requestCount('/order-plz'), newOrders, 'no second newOrder');
      const orders = ordersOf(rig.dataDir, name);
      assert.equal(orders.length, 1);
      assert.equal(orders[0].order_url, killed.order_url);
      assert.equal(orders[0].step, 'valid');
    });
  }
});
