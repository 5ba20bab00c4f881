// A process killed with SIGKILL mid-issuance resumes the same ACME order.
// The tokens are answered by nginx from a webroot, so they outlive the kill,
// as they would on a real web server.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ordersOf, type Rig, startRig, startWebrootRig, ZONE } from './harness.ts';

describe('killed mid-issuance', () => {
  let rig: Rig;
  let webroot: string;
  let stop: (() => Promise<void>) | undefined;
  after(() => stop?.());
  before(async () => {
    ({ rig, webroot, stop } = await startWebrootRig());
  });

  for (const step of ['placed', 'provisioned', 'responded', 'ready', 'finalized']) {
    test(`SIGKILL after "${step}": re-running issue completes that same order, with no second newOrder`, async () => {
      const name = `crash-${step}.${ZONE}`;
      const args = ['issue', '-d', name, '--webroot', webroot, '--json'];
      const killed = await rig.certkeep(args, { env: { CERTKEEP_CRASH_AFTER_STEP: step } });
      assert.equal(killed.signal, 'SIGKILL', `expected a SIGKILL, got code ${killed.code}: ${killed.stderr}`);

      const [killedOrder] = ordersOf(rig.dataDir, name);
      assert.equal(killedOrder.step, step);
      assert.ok(killedOrder.order_url, 'the order URL was stored before the kill');
      const newOrdersBefore = rig.pebble.requestCount('/order-plz');

      const resumed = await rig.certkeep(args);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.equal(resumed.json().status, 'resumed');
      assert.equal(rig.pebble.requestCount('/order-plz'), newOrdersBefore, 'no second newOrder was sent');
      const orders = ordersOf(rig.dataDir, name);
      assert.equal(orders.length, 1);
      assert.equal(orders[0].order_url, killedOrder.order_url);
      assert.equal(orders[0].step, 'valid');
    });
  }

  test('certkeep resume finishes every open order', async () => {
    const names = [`resume-a.${ZONE}`, `resume-b.${ZONE}`];
    for (const name of names) {
      const killed = await rig.certkeep(['issue', '-d', name, '--webroot', webroot], { env: { CERTKEEP_CRASH_AFTER_STEP: 'provisioned' } });
      assert.equal(killed.signal, 'SIGKILL');
    }
    const resumed = await rig.certkeep(['resume', '--json']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual(resumed.json().results.map((r: { status: string }) => r.status), ['resumed', 'resumed']);
    for (const name of names) assert.equal((await rig.certkeep(['show', name, '--json'])).json().state, 'valid');
  });

  test('the built-in responder dies with the process: re-running still gets the certificate', async () => {
    // Pebble may validate while nobody answers and invalidate the order; then
    // certkeep places one fresh order instead of giving up.
    const name = `crash-responder.${ZONE}`;
    const other = await freeHttpPortRig();
    const args = ['issue', '-d', name, '--http-port', String(other.httpPort), '--json'];
    const killed = await other.certkeep(args, { env: { CERTKEEP_CRASH_AFTER_STEP: 'responded' } });
    assert.equal(killed.signal, 'SIGKILL');
    const resumed = await other.certkeep(args);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal((await other.certkeep(['show', name, '--json'])).json().state, 'valid');
  });
});

/** A second rig whose HTTP-01 port is free for certkeep's own responder (nginx holds the first one's). */
let second: Rig | undefined;
after(() => second?.stop());
async function freeHttpPortRig(): Promise<Rig> {
  second ??= await startRig();
  return second;
}
