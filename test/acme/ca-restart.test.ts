// What a restarted Pebble 2.4 answers (it keeps everything in memory), and the
// client getting past it: the same directory URL and HTTPS trust; the old
// account URL refused with accountDoesNotExist; the old order's URLs 404.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Agent, request } from 'undici';
import { AcmeClient, AcmeNotFoundError, AcmeProblemError } from '../../src/acme/index.ts';
import { ecKey, makeCsr, pebbleForFile } from './helpers.ts';

const pebble = await pebbleForFile({ env: { PEBBLE_VA_ALWAYS_VALID: '1' } });
const IDENTIFIERS = [{ type: 'dns' as const, value: 'restart.example.test' }];

test('Pebble restarted: same directory and trust, the account and order forgotten, the client registers again', async (t) => {
  const stored: string[] = [];
  const key = ecKey();
  const client = new AcmeClient({
    directoryUrl: pebble.directoryUrl,
    accountKey: key,
    caCert: pebble.caCertPem,
    recovery: { registration: { termsOfServiceAgreed: true }, onNewAccountUrl: async (url) => void stored.push(url) },
  });
  t.after(() => client.close());
  const plain = new AcmeClient({ directoryUrl: pebble.directoryUrl, accountKey: key, caCert: pebble.caCertPem });
  t.after(() => plain.close());
  const { url: oldAccount } = await client.createAccount({ termsOfServiceAgreed: true });
  plain.accountUrl = oldAccount;
  const { url: orderUrl, order } = await client.newOrder({ identifiers: IDENTIFIERS });
  assert.deepEqual(await pebble.created(), { accounts: 1, orders: 1, certificates: 0 });

  const dispatcher = new Agent({ connect: { ca: pebble.caCertPem } });
  t.after(() => dispatcher.close());
  const requestsBefore = pebble.requestCount('/order-plz');
  await pebble.restart({
    whileDown: async () => {
      await assert.rejects(request(pebble.directoryUrl, { dispatcher }), /ECONNREFUSED/);
    },
  });
  assert.deepEqual(await pebble.created(), { accounts: 0, orders: 0, certificates: 0 }, 'counted from the new start');
  const directory = await request(pebble.directoryUrl, { dispatcher });
  assert.equal(directory.statusCode, 200, 'the same URL, trusted through the same TLS files');
  await directory.body.dump();

  // Without recovery: Pebble's answer for a kid it does not know.
  const refused = await plain.newOrder({ identifiers: IDENTIFIERS }).catch((e) => e);
  assert.ok(refused instanceof AcmeProblemError, String(refused));
  assert.equal(refused.acmeType, 'accountDoesNotExist');
  assert.equal(refused.status, 400);

  // With recovery: one newAccount for the same key, stored, then the order.
  const fresh = await client.newOrder({ identifiers: IDENTIFIERS });
  assert.equal(fresh.order.status, 'pending');
  assert.equal(stored.length, 1);
  assert.equal(client.accountUrl, stored[0]);
  assert.notEqual(stored[0], oldAccount, 'Pebble gives the key a new account URL');
  assert.deepEqual(await pebble.created(), { accounts: 1, orders: 1, certificates: 0 });
  // Refused (plain), refused then accepted (client), and bad nonces retried: at least 3 requests, one order.
  assert.ok(pebble.requestCount('/order-plz') - requestsBefore >= 3);
  plain.accountUrl = stored[0];
  assert.equal((await plain.findAccount())?.url, stored[0], 'the same key finds the new account');

  // Another process with the same key and the old URL: newAccount answers with the account
  // the first one registered (RFC 8555 §7.3), so both store the same URL.
  const otherStored: string[] = [];
  const other = new AcmeClient({
    directoryUrl: pebble.directoryUrl,
    accountKey: key,
    accountUrl: oldAccount,
    caCert: pebble.caCertPem,
    recovery: { registration: { termsOfServiceAgreed: true }, onNewAccountUrl: async (url) => void otherStored.push(url) },
  });
  t.after(() => other.close());
  await other.getOrder(fresh.url);
  assert.deepEqual(otherStored, stored);
  assert.deepEqual(await pebble.created(), { accounts: 1, orders: 1, certificates: 0 }, 'no second account');

  // The old order is gone: every URL of it is a 404.
  for (const attempt of [
    () => client.getOrder(orderUrl),
    () => client.getAuthorization(order.authorizations[0]),
    async () => client.finalize(order.finalize, (await makeCsr(IDENTIFIERS)).der),
  ]) {
    const err = await attempt().catch((e) => e);
    assert.ok(err instanceof AcmeNotFoundError, String(err));
  }
  assert.equal(stored.length, 1, 'no further registration');
});
