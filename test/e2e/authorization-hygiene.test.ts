// Authorization hygiene (RFC 8555 §7.5.2) against Pebble: an order that ends
// without a certificate gives its pending authorizations back to the CA, and
// the user still hears the order's own error.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ensureAccount } from '../../src/engine/accounts.ts';
import { closeEngineContext, createEngineContext } from '../../src/engine/context.ts';
import { openStore } from '../../src/store/database.ts';
import { findCertificate } from '../../src/store/repositories/certificates.ts';
import { listOrders } from '../../src/store/repositories/orders.ts';
import { DEFAULT_SUBSCRIPTION_ID } from '../../src/store/repositories/subscriptions.ts';
import { freePort } from '../../src/rig/ports.ts';
import { oneLine, type Rig, startRig, ZONE } from './harness.ts';

describe('the authorizations of a failed order', () => {
  let rig: Rig;
  before(async () => {
    rig = await startRig();
  });
  after(() => rig?.stop());

  /** What Pebble says of each authorization of the certificate's orders, asked with the CLI's own account. */
  async function authorizationStatuses(name: string): Promise<string[]> {
    const store = await openStore({ dataDir: rig.dataDir });
    const ctx = createEngineContext(store);
    try {
      const certificate = await findCertificate(store.db, DEFAULT_SUBSCRIPTION_ID, name);
      assert.ok(certificate, `certificate ${name} is stored`);
      const urls = (await listOrders(store.db, certificate.id)).flatMap((order) => order.authorizations.map((r) => r.url));
      assert.ok(urls.length > 0, 'the order was placed at the CA');
      const { client } = await ensureAccount(ctx, DEFAULT_SUBSCRIPTION_ID, { caUrl: rig.pebble.directoryUrl, caCertPem: rig.pebble.caCertPem });
      return await Promise.all(urls.map(async (url) => (await client.getAuthorization(url)).status));
    } finally {
      await closeEngineContext(ctx);
      await store.close();
    }
  }

  test('an order that fails before validation (no managed zone for DNS-01): both authorizations are deactivated, the error is the zone', async () => {
    const result = await rig.certkeep(['issue', '-d', `h1.${ZONE}`, '-d', `h2.${ZONE}`, '--name', 'hygiene', '--challenge', 'dns-01', '--resolver', rig.bind.address]);
    assert.equal(result.code, 1);
    assert.match(oneLine(result.stderr), /no managed zone holds _acme-challenge\.h[12]\.example\.test/);
    assert.deepEqual(await authorizationStatuses('hygiene'), ['deactivated', 'deactivated']);
  });

  test('an order whose validation failed: the failed authorization stays invalid (the CA judged it), nothing is left pending', async () => {
    const result = await rig.certkeep(['issue', '-d', `h3.${ZONE}`, '--name', 'judged', '--challenge', 'tls-alpn-01', '--tls-port', String(await freePort())]);
    assert.equal(result.code, 1);
    assert.match(oneLine(result.stderr), /tls-alpn-01 challenge failed/);
    assert.deepEqual(await authorizationStatuses('judged'), ['invalid']);
  });
});
