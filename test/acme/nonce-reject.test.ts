// Pebble rejecting half of all good nonces (PEBBLE_WFE_NONCEREJECT=50): the
// client retries badNonce with the nonce from the error response and completes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientWithAccount, issue, pebbleForFile } from './helpers.ts';

const pebble = await pebbleForFile({ env: { PEBBLE_VA_ALWAYS_VALID: '1', PEBBLE_WFE_NONCEREJECT: '50' } });

test('several orders complete while Pebble rejects 50% of nonces', async () => {
  const client = await clientWithAccount(pebble);
  const names = ['n1', 'n2', 'n3', 'n4', 'n5'].map((n) => `${n}.example.com`);
  const results = await Promise.all(names.map((value) => issue(client, [{ type: 'dns', value }])));
  for (const [i, result] of results.entries()) {
    assert.equal(result.order.status, 'valid');
    assert.match(result.pem, /-----BEGIN CERTIFICATE-----/);
    assert.deepEqual(result.order.identifiers, [{ type: 'dns', value: names[i] }]);
  }
});
