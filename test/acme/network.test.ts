// A CA that cannot be reached: the error names the URL and says what to do.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AcmeClient, AcmeNetworkError } from '../../src/acme/index.ts';
import { freePort } from '../../src/rig/ports.ts';
import { ecKey } from './helpers.ts';

test('a closed port ends in AcmeNetworkError naming the URL, after retries', async (t) => {
  const directoryUrl = `https://127.0.0.1:${await freePort()}/dir`;
  const client = new AcmeClient({ directoryUrl, accountKey: ecKey(), retry: { attempts: 3, delayMs: 5 } });
  t.after(() => client.close());
  const err = await client.createAccount({ termsOfServiceAgreed: true }).catch((e) => e);
  assert.ok(err instanceof AcmeNetworkError, String(err));
  assert.equal(err.code, 'ECONNREFUSED');
  assert.equal(err.url, directoryUrl);
  assert.ok(err.message.includes(directoryUrl), 'the message names the URL');
  assert.match(err.message, /^get directory failed: could not reach the ACME CA/);
  assert.match(err.message, /Check the directory URL, that the CA is up/);
  assert.match(err.message, /Gave up after 3 attempts\.$/);
});

test('the directory is fetched again after a failure', async (t) => {
  const directoryUrl = `http://127.0.0.1:${await freePort()}/dir`;
  const client = new AcmeClient({ directoryUrl, accountKey: ecKey(), retry: { attempts: 1, delayMs: 1 } });
  t.after(() => client.close());
  const first = await client.directory().catch((e) => e);
  const second = await client.directory().catch((e) => e);
  assert.ok(first instanceof AcmeNetworkError);
  assert.ok(second instanceof AcmeNetworkError);
  assert.notEqual(first, second, 'a failed fetch is not cached');
});

test('a name that does not resolve names the host', async (t) => {
  const client = new AcmeClient({
    directoryUrl: 'https://acme.certkeep.invalid/dir',
    accountKey: ecKey(),
    retry: { attempts: 2, delayMs: 1 },
  });
  t.after(() => client.close());
  const err = await client.directory().catch((e) => e);
  assert.ok(err instanceof AcmeNetworkError, String(err));
  assert.match(err.code, /ENOTFOUND|EAI_AGAIN/);
  assert.match(err.message, /acme\.certkeep\.invalid/);
});
