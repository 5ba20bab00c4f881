// Pebble rejecting half of all nonces: badNonce is retried and issuance succeeds.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Rig, startRig, ZONE } from './harness.ts';

describe('Pebble with PEBBLE_WFE_NONCEREJECT=50', () => {
  let rig: Rig;
  after(() => rig?.stop());
  before(async () => {
    rig = await startRig({ pebble: { env: { PEBBLE_WFE_NONCEREJECT: '50' } } });
  });

  test('still issues, twice in a row', async () => {
    for (const label of ['n1', 'n2']) {
      const result = await rig.certkeep(['issue', '-d', `${label}.${ZONE}`, '-d', `www.${label}.${ZONE}`, '--http-port', String(rig.httpPort), '--json']);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.json().status, 'issued');
    }
  });
});
