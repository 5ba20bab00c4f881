// Accounts against a real Pebble: create, find, key rollover, deactivate, and
// the TLS trust error when the client does not know Pebble's HTTPS CA.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AcmeClient, AcmeProblemError, AcmeTlsTrustError } from '../../src/acme/index.ts';
import { ecKey, pebbleForFile } from './helpers.ts';

const pebble = await pebbleForFile({ env: { PEBBLE_VA_ALWAYS_VALID: '1' } });

function client(t: { after(fn: () => unknown): void }, key = ecKey()): AcmeClient {
  const c = new AcmeClient({ directoryUrl: pebble.directoryUrl, accountKey: key, caCert: pebble.caCertPem });
  t.after(() => c.close());
  return c;
}

test('create an account, then find it by key from a fresh client', async (t) => {
  const key = ecKey();
  const creator = client(t, key);
  const created = await creator.createAccount({
    contact: ['mailto:ops@example.com'],
    termsOfServiceAgreed: true,
  });
  assert.equal(created.account.status, 'valid');
  assert.deepEqual(created.account.contact, ['mailto:ops@example.com']);
  assert.match(created.url, /^https:\/\/127\.0\.0\.1:\d+\//);
  assert.equal(creator.accountUrl, created.url);

  const finder = client(t, key);
  const found = await finder.findAccount();
  assert.equal(found?.url, created.url);
  assert.equal(finder.accountUrl, created.url);
});

test('an ES384 account works too', async (t) => {
  const c = client(t, ecKey('P-384'));
  const { account } = await c.createAccount({ termsOfServiceAgreed: true });
  assert.equal(account.status, 'valid');
});

test('findAccount returns null for a key the CA does not know', async (t) => {
  assert.equal(await client(t).findAccount(), null);
});

test('key rollover: the new key finds the account, the old one no longer does', async (t) => {
  const oldKey = ecKey();
  const newKey = ecKey();
  const c = client(t, oldKey);
  const { url } = await c.createAccount({ termsOfServiceAgreed: true });
  const oldThumbprint = c.thumbprint();
  await c.rolloverKey(newKey);
  assert.notEqual(c.thumbprint(), oldThumbprint, 'the client now signs with the new key');
  const order = await c.newOrder({ identifiers: [{ type: 'dns', value: 'rolled.example.com' }] });
  assert.equal(order.order.status, 'pending', 'kid requests work with the new key');

  assert.equal((await client(t, newKey).findAccount())?.url, url);
  assert.equal(await client(t, oldKey).findAccount(), null);
});

test('deactivate: the account is deactivated and then refused', async (t) => {
  const c = client(t);
  await c.createAccount({ termsOfServiceAgreed: true });
  const account = await c.deactivateAccount();
  assert.equal(account.status, 'deactivated');
  await assert.rejects(
    c.newOrder({ identifiers: [{ type: 'dns', value: 'gone.example.com' }] }),
    (err: Error) => {
      assert.ok(err instanceof AcmeProblemError, String(err));
      assert.equal(err.acmeType, 'unauthorized');
      assert.match(err.message, /^new order failed: .*deactivated/);
      return true;
    },
  );
});

test('an untrusted CA certificate gives a clear trust error', async (t) => {
  const c = new AcmeClient({ directoryUrl: pebble.directoryUrl, accountKey: ecKey() });
  t.after(() => c.close());
  await assert.rejects(c.createAccount({ termsOfServiceAgreed: true }), (err: Error) => {
    assert.ok(err instanceof AcmeTlsTrustError, String(err));
    assert.equal(err.url, pebble.directoryUrl);
    assert.match(err.message, /the CA's TLS certificate is not trusted/);
    assert.match(err.message, /pass --ca-cert FILE/);
    return true;
  });
});
