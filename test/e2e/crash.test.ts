// A process killed with SIGKILL mid-issuance resumes the same ACME order.
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Rig, startRig, ZONE } from './harness.ts';

function ordersOf(dataDir: string): { step: string; order_url: string | null }[] {
  const db = new DatabaseSync(join(dataDir, 'certkeep.db'), { readOnly: true });
  try {
    return db.prepare('SELECT step, order_url FROM orders ORDER BY created_at').all() as { step: string; order_url: string | null }[];
  } finally {
    db.close();
  }
}

describe('killed mid-issuance', () => {
  let rig: Rig;
  after(() => rig?.stop());
  before(async () => {
    rig = await startRig();
  });

  for (const step of ['placed', 'provisioned', 'responded', 'ready', 'finalized']) {
    test(`SIGKILL after "${step}": re-running issue completes that same order`, async () => {
      const name = `crash-${step}.${ZONE}`;
      const args = ['issue', '-d', name, '--http-port', String(rig.httpPort), '--json'];
      const killed = await rig.certkeep(args, { env: { CERTKEEP_CRASH_AFTER_STEP: step } });
      assert.equal(killed.signal, 'SIGKILL', `expected a SIGKILL, got code ${killed.code}: ${killed.stderr}`);

      const killedOrder = ordersOf(rig.dataDir).at(-1)!;
      assert.equal(killedOrder.step, step);
      assert.ok(killedOrder.order_url, 'the order URL was stored before the kill');
      const newOrdersBefore = rig.pebble.requestCount('/order-plz');

      const resumed = await rig.certkeep(args);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.equal(resumed.json().status, 'resumed');
      assert.equal(rig.pebble.requestCount('/order-plz'), newOrdersBefore, 'no second newOrder was sent');
      const finished = ordersOf(rig.dataDir).at(-1)!;
      assert.equal(finished.order_url, killedOrder.order_url);
      assert.equal(finished.step, 'valid');
    });
  }

  test('certkeep resume finishes every open order', async () => {
    const name = `resume.${ZONE}`;
    const killed = await rig.certkeep(['issue', '-d', name, '--http-port', String(rig.httpPort)], { env: { CERTKEEP_CRASH_AFTER_STEP: 'responded' } });
    assert.equal(killed.signal, 'SIGKILL');
    const resumed = await rig.certkeep(['resume', '--json']);
    assert.equal(resumed.code, 0, resumed.stderr);
    const show = await rig.certkeep(['show', name, '--json']);
    assert.equal(show.json().state, 'valid');
  });
});
