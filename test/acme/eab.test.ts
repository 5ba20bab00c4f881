// External Account Binding (RFC 8555 §7.3.4) against Pebble with EAB required.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { AcmeClient, AcmeProblemError } from '../../src/acme/index.ts';
import { ecKey, pebbleForFile } from './helpers.ts';

const hmacKey = randomBytes(32).toString('base64url');
const pebble = await pebbleForFile({ env: { PEBBLE_VA_ALWAYS_VALID: '1' }, eabKeys: { 'kid-1': hmacKey } });

function client(t: { after(fn: () => unknown): void }): AcmeClient {
  const c = new AcmeClient({
    directoryUrl: pebble.directoryUrl,
    accountKey: ecKey(),
    caCert: pebble.caCertPem,
  });
  t.after(() => c.close());
  return c;
}

test('the directory says EAB is required', async (t) => {
  assert.equal((await client(t).directory()).meta?.externalAccountRequired, true);
});

test('an account with a correct EAB is created', async (t) => {
  const { account } = await client(t).createAccount({
    termsOfServiceAgreed: true,
    externalAccountBinding: { kid: 'kid-1', hmacKey },
  });
  assert.equal(account.status, 'valid');
});

test('a wrong HMAC key is refused with a clear error that does not leak the key', async (t) => {
  const wrongKey = randomBytes(32).toString('base64url');
  const err = await client(t)
    .createAccount({
      termsOfServiceAgreed: true,
      externalAccountBinding: { kid: 'kid-1', hmacKey: wrongKey },
    })
    .catch((e) => e);
  assert.ok(err instanceof AcmeProblemError, String(err));
  assert.match(err.message, /^create account failed: /);
  assert.match(err.message, /EAB|external account/i);
  assert.ok(!err.message.includes(wrongKey), 'the HMAC key is not in the message');
});

test('no EAB at all: the CA refuses and the message says to pass EAB credentials', async (t) => {
  const err = await client(t)
    .createAccount({ termsOfServiceAgreed: true })
    .catch((e) => e);
  assert.ok(err instanceof AcmeProblemError, String(err));
  assert.equal(err.acmeType, 'externalAccountRequired');
  assert.match(err.message, /pass --eab-kid and --eab-hmac-key/);
});
