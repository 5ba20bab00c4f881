// Contract tests: the client against a scripted local ACME server, for what
// Pebble 2.4 cannot produce (rate limits, 5xx, profiles, ARI, Retry-After).
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import {
  AcmeAuthorizationError,
  AcmeClient,
  AcmeError,
  AcmeNetworkError,
  AcmeNotFoundError,
  AcmeOrderError,
  AcmeProblemError,
  AcmeProfileError,
  AcmeProtocolError,
  AcmeRateLimitError,
  AcmeTimeoutError,
  AcmeUserActionRequiredError,
} from '../../src/acme/index.ts';
import { FakeAcme, type FakeAcmeOptions, fakeClock, problem } from './fake-acme.ts';
import { ecKey } from './helpers.ts';

const ORDER = { status: 'pending', identifiers: [], authorizations: [], finalize: 'x' };

async function setup(t: TestContext, opts: FakeAcmeOptions = {}) {
  const fake = await FakeAcme.start(t, opts);
  const { clock, sleeps } = fakeClock();
  const client = new AcmeClient({
    directoryUrl: fake.directoryUrl,
    accountKey: ecKey(),
    accountUrl: `${fake.base}/acct/1`,
    clock,
    retry: { attempts: 3, delayMs: 10 },
  });
  t.after(() => client.close());
  return { fake, client, clock, sleeps };
}

test('contract: nonces come from responses; HEAD newNonce only when the pool is empty', async (t) => {
  const { fake, client } = await setup(t);
  fake.route('POST /order/1', { body: ORDER });
  for (let i = 0; i < 5; i++) await client.getOrder(`${fake.base}/order/1`);
  assert.equal(fake.count('HEAD /nonce'), 1, 'only the first POST needs a HEAD');
  assert.equal(fake.count('GET /dir'), 1, 'the directory is fetched once');
  const used = fake.requests.filter((r) => r.protected).map((r) => r.protected!.nonce!);
  assert.equal(new Set(used).size, used.length, 'no nonce is used twice');
  for (const nonce of used) assert.ok(fake.issuedNonces.has(nonce), `nonce ${nonce} came from the server`);
  const get = fake.last('POST /order/1')!;
  assert.equal(get.payload, '', 'reads are POST-as-GET with an empty payload');
  assert.equal(get.protected!.kid, `${fake.base}/acct/1`);
  assert.equal(get.protected!.url, `${fake.base}/order/1`);
  assert.equal(get.headers['content-type'], 'application/jose+json');
});

test('contract: badNonce is retried with the nonce from the error response', async (t) => {
  const { fake, client, sleeps } = await setup(t);
  const badNonce = problem('badNonce', 'JWS has an invalid anti-replay nonce', 400);
  fake.route('POST /order/1', [badNonce, badNonce, { body: ORDER }]);
  const order = await client.getOrder(`${fake.base}/order/1`);
  assert.equal(order.status, 'pending');
  const posts = fake.requests.filter((r) => r.method === 'POST');
  assert.equal(posts.length, 3);
  assert.equal(fake.count('HEAD /nonce'), 1);
  assert.equal(posts[1].protected!.nonce, posts[0].replyNonce, "the retry uses the error response's nonce");
  assert.equal(posts[2].protected!.nonce, posts[1].replyNonce);
  assert.deepEqual(sleeps, [], 'badNonce retries do not wait');
});

test('contract: endless badNonce gives up with the problem', async (t) => {
  const { fake, client } = await setup(t);
  fake.route('POST /order/1', problem('badNonce', 'bad nonce', 400));
  await assert.rejects(client.getOrder(`${fake.base}/order/1`), (err: AcmeProblemError) => {
    assert.ok(err instanceof AcmeProblemError);
    assert.equal(err.acmeType, 'badNonce');
    return true;
  });
  assert.ok(fake.count('POST /order/1') > 5, 'several retries were made');
});

test('contract: rateLimited becomes AcmeRateLimitError with retryAfter', async (t) => {
  const { fake, client, clock } = await setup(t);
  fake.route('POST /order', problem('rateLimited', 'too many new orders', 429, { 'retry-after': '120' }));
  const err = await client.newOrder({ identifiers: [{ type: 'dns', value: 'a.test' }] }).catch((e) => e);
  assert.ok(err instanceof AcmeRateLimitError, String(err));
  assert.equal(err.retryAfter.getTime(), clock.now() + 120_000);
  assert.equal(err.retryAfterFromServer, true);
  assert.equal(err.status, 429);
  assert.equal(err.url, `${fake.base}/order`);
  assert.match(err.message, /new order failed: too many new orders/);
  assert.match(err.message, /wait until 2030-01-01T00:02:00\.000Z/);
  assert.equal(fake.count('POST /order'), 1, 'a rate limit is not retried');
});

test('contract: rateLimited with an HTTP-date Retry-After', async (t) => {
  const { fake, client } = await setup(t);
  const at = 'Tue, 01 Jan 2030 01:00:00 GMT';
  fake.route('POST /order', problem('rateLimited', 'slow down', 429, { 'retry-after': at }));
  const err = await client.newOrder({ identifiers: [{ type: 'dns', value: 'a.test' }] }).catch((e) => e);
  assert.ok(err instanceof AcmeRateLimitError);
  assert.equal(err.retryAfter.toISOString(), '2030-01-01T01:00:00.000Z');
});

test('contract: a 503 then success is retried after a backoff', async (t) => {
  const { fake, client, sleeps } = await setup(t);
  fake.route('POST /order/1', [{ status: 503, body: 'busy' }, { body: ORDER }]);
  const order = await client.getOrder(`${fake.base}/order/1`);
  assert.equal(order.status, 'pending');
  assert.equal(fake.count('POST /order/1'), 2);
  assert.equal(sleeps.length, 1, 'one backoff between the attempts');
  const [first, second] = fake.requests.filter((r) => r.method === 'POST');
  assert.notEqual(first.protected!.nonce, second.protected!.nonce, 'the retry is signed with a new nonce');
});

test('contract: a 5xx that persists ends in AcmeNetworkError saying to try later', async (t) => {
  const { fake, client } = await setup(t);
  fake.route('GET /dir', { status: 502, body: 'bad gateway' });
  const err = await client.directory().catch((e) => e);
  assert.ok(err instanceof AcmeNetworkError, String(err));
  assert.equal(err.code, 'HTTP 502');
  assert.match(err.message, /get directory failed: the CA kept answering HTTP 502/);
  assert.match(err.message, /try again later/);
  assert.equal(fake.count('GET /dir'), 3, 'three attempts as configured');
});

test('contract: a failing newNonce is retried once per policy, not again by the POST around it', async (t) => {
  const { fake, client } = await setup(t);
  fake.route('HEAD /nonce', { status: 503 });
  const err = await client.getOrder(`${fake.base}/order/1`).catch((e) => e);
  assert.ok(err instanceof AcmeNetworkError, String(err));
  assert.match(err.message, /get order \(get a nonce\) failed: the CA kept answering HTTP 503/);
  assert.equal(fake.count('HEAD /nonce'), 3);
  assert.equal(fake.count('POST /order/1'), 0);
});

test('contract: a 5xx with a long Retry-After is not retried here', async (t) => {
  const { fake, client, sleeps } = await setup(t);
  fake.route('GET /dir', { status: 503, headers: { 'retry-after': '3600' }, body: 'maintenance' });
  await assert.rejects(client.directory(), AcmeNetworkError);
  assert.equal(fake.count('GET /dir'), 1);
  assert.deepEqual(sleeps, []);
});

test('contract: a profile the directory offers is sent', async (t) => {
  const profiles = { classic: 'the usual', shortlived: '6 days' };
  const { fake, client } = await setup(t, { meta: { profiles } });
  fake.route('POST /order', { status: 201, headers: { location: `${fake.base}/order/7` }, body: ORDER });
  const { url } = await client.newOrder({
    identifiers: [{ type: 'dns', value: 'a.test' }],
    profile: 'shortlived',
  });
  assert.equal(url, `${fake.base}/order/7`);
  assert.deepEqual(fake.last('POST /order')!.payload, {
    identifiers: [{ type: 'dns', value: 'a.test' }],
    profile: 'shortlived',
  });
});

test('contract: an unknown profile is refused before any order, listing the offered ones', async (t) => {
  const { fake, client } = await setup(t, { meta: { profiles: { classic: 'x', tlsserver: 'y' } } });
  const err = await client
    .newOrder({ identifiers: [{ type: 'dns', value: 'a.test' }], profile: 'nope' })
    .catch((e) => e);
  assert.ok(err instanceof AcmeProfileError);
  assert.deepEqual(err.offered, ['classic', 'tlsserver']);
  assert.match(err.message, /does not offer the profile "nope"; it offers: classic, tlsserver/);
  assert.equal(fake.count('POST /order'), 0);
});

test('contract: a profile asked of a CA without profiles is refused', async (t) => {
  const { client } = await setup(t);
  const err = await client
    .newOrder({ identifiers: [{ type: 'ip', value: '10.0.0.1' }], profile: 'classic' })
    .catch((e) => e);
  assert.ok(err instanceof AcmeProfileError);
  assert.match(err.message, /offers no profiles\. Leave the profile out/);
});

test('contract: no profile asked, none sent; replaces sent only when the CA has renewalInfo', async (t) => {
  const withAri = await setup(t, { renewalInfo: true, meta: { profiles: { classic: 'x' } } });
  withAri.fake.route('POST /order', {
    status: 201,
    headers: { location: `${withAri.fake.base}/order/1` },
    body: ORDER,
  });
  await withAri.client.newOrder({
    identifiers: [{ type: 'dns', value: 'a.test' }],
    replaces: 'aYhba4dGQEH.ABCD',
  });
  assert.deepEqual(withAri.fake.last('POST /order')!.payload, {
    identifiers: [{ type: 'dns', value: 'a.test' }],
    replaces: 'aYhba4dGQEH.ABCD',
  });

  const noAri = await setup(t);
  noAri.fake.route('POST /order', {
    status: 201,
    headers: { location: `${noAri.fake.base}/order/1` },
    body: ORDER,
  });
  await noAri.client.newOrder({
    identifiers: [{ type: 'dns', value: 'a.test' }],
    replaces: 'aYhba4dGQEH.ABCD',
  });
  assert.deepEqual(noAri.fake.last('POST /order')!.payload, {
    identifiers: [{ type: 'dns', value: 'a.test' }],
  });
});

test('contract: renewalInfo is parsed (window, explanationURL, Retry-After)', async (t) => {
  const { fake, client, clock } = await setup(t, { renewalInfo: true });
  fake.route('GET /renewal-info/aYhba4dGQEH.ABCD', {
    headers: { 'retry-after': '21600' },
    body: {
      suggestedWindow: { start: '2030-02-01T00:00:00Z', end: '2030-02-03T00:00:00Z' },
      explanationURL: 'https://ca.example/why',
    },
  });
  const info = await client.renewalInfo('aYhba4dGQEH.ABCD');
  assert.ok(info);
  assert.equal(info.suggestedWindow.start.toISOString(), '2030-02-01T00:00:00.000Z');
  assert.equal(info.suggestedWindow.end.toISOString(), '2030-02-03T00:00:00.000Z');
  assert.equal(info.explanationURL, 'https://ca.example/why');
  assert.equal(info.retryAfter?.getTime(), clock.now() + 21_600_000);
  assert.equal(
    fake.last('GET /renewal-info/aYhba4dGQEH.ABCD')!.method,
    'GET',
    'renewalInfo is an unauthenticated GET',
  );
});

test('contract: renewalInfo is null without ARI, and a broken window is an error', async (t) => {
  const noAri = await setup(t);
  assert.equal(await noAri.client.renewalInfo('abc.def'), null);

  const { fake, client } = await setup(t, { renewalInfo: true });
  fake.route('GET /renewal-info/abc.def', {
    body: { suggestedWindow: { start: '2030-02-03T00:00:00Z', end: '2030-02-01T00:00:00Z' } },
  });
  await assert.rejects(client.renewalInfo('abc.def'), (err: Error) => {
    assert.ok(err instanceof AcmeProtocolError);
    assert.match(err.message, /get renewal info failed: the renewal info has no valid suggestedWindow/);
    return true;
  });
});

test('contract: polling honours Retry-After', async (t) => {
  const { fake, client, sleeps } = await setup(t);
  const pending = { status: 'pending', identifier: { type: 'dns', value: 'a.test' }, challenges: [] };
  fake.route('POST /authz/1', [
    { headers: { 'retry-after': '2' }, body: pending },
    { headers: { 'retry-after': '7' }, body: pending },
    { body: { ...pending, status: 'valid' } },
  ]);
  const authz = await client.waitForAuthorization(`${fake.base}/authz/1`);
  assert.equal(authz.status, 'valid');
  assert.deepEqual(sleeps, [2000, 7000]);
});

test('contract: polling without Retry-After starts at 50 ms and doubles', async (t) => {
  const { fake, client, sleeps } = await setup(t);
  fake.route('POST /order/1', [
    { body: ORDER },
    { body: ORDER },
    { body: { ...ORDER, status: 'processing' } },
    { body: { ...ORDER, status: 'valid', certificate: 'x' } },
  ]);
  const order = await client.waitForOrder(`${fake.base}/order/1`, ['valid']);
  assert.equal(order.status, 'valid');
  assert.deepEqual(sleeps, [50, 100, 200]);
});

test('contract: waiting for "ready" returns an order that is already past it', async (t) => {
  const { fake, client } = await setup(t);
  fake.route('POST /order/1', { body: { ...ORDER, status: 'valid' } });
  assert.equal((await client.waitForOrder(`${fake.base}/order/1`, ['ready'])).status, 'valid');
});

test('contract: polling gives up at the timeout with the last status', async (t) => {
  const { fake, client, sleeps } = await setup(t);
  fake.route('POST /order/1', { body: { ...ORDER, status: 'processing' } });
  const err = await client
    .waitForOrder(`${fake.base}/order/1`, ['valid'], { timeoutMs: 1000 })
    .catch((e) => e);
  assert.ok(err instanceof AcmeTimeoutError);
  assert.equal(err.lastStatus, 'processing');
  assert.match(err.message, /order was still "processing" after 1000 ms/);
  assert.equal(
    sleeps.reduce((a, b) => a + b, 0),
    1000,
    'waited exactly up to the timeout',
  );
});

test('contract: an invalid authorization throws with the challenge error', async (t) => {
  const { fake, client } = await setup(t);
  fake.route('POST /authz/1', {
    body: {
      status: 'invalid',
      identifier: { type: 'dns', value: 'a.test' },
      challenges: [
        {
          type: 'http-01',
          url: 'x',
          token: 't',
          status: 'invalid',
          error: { type: 'urn:ietf:params:acme:error:connection', detail: 'Connection refused', status: 400 },
        },
      ],
    },
  });
  const err = await client.waitForAuthorization(`${fake.base}/authz/1`).catch((e) => e);
  assert.ok(err instanceof AcmeAuthorizationError);
  assert.equal(err.challengeType, 'http-01');
  assert.equal(err.challengeError?.type, 'urn:ietf:params:acme:error:connection');
  assert.match(
    err.message,
    /authorization for dns:a\.test is invalid: the http-01 challenge failed: Connection refused/,
  );
  assert.match(err.message, /can reach the challenge responder/);
});

test('contract: an invalid order throws AcmeOrderError with its error', async (t) => {
  const { fake, client } = await setup(t);
  fake.route('POST /order/1', {
    body: {
      ...ORDER,
      status: 'invalid',
      error: { type: 'urn:ietf:params:acme:error:badCSR', detail: 'CSR names differ' },
    },
  });
  const err = await client.waitForOrder(`${fake.base}/order/1`, ['valid']).catch((e) => e);
  assert.ok(err instanceof AcmeOrderError);
  assert.equal(err.orderError?.detail, 'CSR names differ');
  assert.match(err.message, /is invalid: CSR names differ \(badCSR\)\. Check the CSR/);
});

test('contract: userActionRequired carries the instance and terms URLs', async (t) => {
  const { fake, client } = await setup(t);
  fake.route('POST /order', {
    status: 403,
    headers: { link: `<${fake.base}/terms-v2>;rel="terms-of-service", <${fake.base}/dir>;rel="index"` },
    body: {
      type: 'urn:ietf:params:acme:error:userActionRequired',
      detail: 'Terms of service have changed',
      instance: `${fake.base}/agree`,
    },
  });
  const err = await client.newOrder({ identifiers: [{ type: 'dns', value: 'a.test' }] }).catch((e) => e);
  assert.ok(err instanceof AcmeUserActionRequiredError);
  assert.equal(err.instanceUrl, `${fake.base}/agree`);
  assert.equal(err.termsOfServiceUrl, `${fake.base}/terms-v2`);
  assert.match(err.message, new RegExp(`open ${fake.base}/agree in a browser`));
});

test('contract: subproblems are kept and named in the message', async (t) => {
  const { fake, client } = await setup(t);
  fake.route('POST /order', {
    status: 400,
    body: {
      type: 'urn:ietf:params:acme:error:rejectedIdentifier',
      detail: 'some names are refused',
      subproblems: [
        {
          type: 'urn:ietf:params:acme:error:rejectedIdentifier',
          detail: 'forbidden',
          identifier: { type: 'dns', value: 'bad.test' },
        },
      ],
    },
  });
  const err = await client.newOrder({ identifiers: [{ type: 'dns', value: 'bad.test' }] }).catch((e) => e);
  assert.ok(err instanceof AcmeProblemError);
  assert.equal(err.subproblems.length, 1);
  assert.match(err.message, /; bad\.test: forbidden\. The CA will not issue for this name/);
});

test('contract: a directory that is not ACME, and HTTP errors without problems, are protocol errors', async (t) => {
  const { fake, client } = await setup(t);
  fake.route('GET /dir', { body: { hello: 'world' } });
  await assert.rejects(client.directory(), /get directory failed: the directory has no "newNonce" URL/);

  const other = await setup(t);
  other.fake.route('POST /order/1', {
    status: 400,
    headers: { 'content-type': 'text/html' },
    body: '<h1>Bad</h1>',
  });
  const err = await other.client.getOrder(`${other.fake.base}/order/1`).catch((e) => e);
  assert.ok(err instanceof AcmeProtocolError);
  assert.match(err.message, /get order failed: unexpected HTTP 400: <h1>Bad<\/h1>/);
});

test('contract: a 404, with or without a problem document, is AcmeNotFoundError (the CA does not know the URL)', async (t) => {
  const { fake, client } = await setup(t);
  fake.route('POST /order/1', { status: 404, body: '' });
  const bare = await client.getOrder(`${fake.base}/order/1`).catch((e) => e);
  assert.ok(bare instanceof AcmeNotFoundError, String(bare));
  assert.equal(bare.problem, undefined);
  assert.match(bare.message, /^get order failed: the CA does not know http:\S+\/order\/1 \(HTTP 404\)\. A CA that was reset or restarted/);

  fake.route('POST /finalize/1', problem('malformed', 'No order "1" found for account ID "7"', 404));
  const withProblem = await client.finalize(`${fake.base}/finalize/1`, new Uint8Array([48, 0])).catch((e) => e);
  assert.ok(withProblem instanceof AcmeNotFoundError);
  assert.equal(withProblem.problem?.type, 'urn:ietf:params:acme:error:malformed');
  assert.match(withProblem.message, /\(HTTP 404: No order "1" found for account ID "7"\)/);
  assert.equal(fake.count('POST /order/1') + fake.count('POST /finalize/1'), 2, 'a 404 is not retried');
});

test('contract: findAccount returns null for an unknown key; createAccount keeps the Location', async (t) => {
  const { fake, client } = await setup(t);
  fake.route('POST /acct', (req) =>
    (req.payload as { onlyReturnExisting?: boolean }).onlyReturnExisting
      ? problem('accountDoesNotExist', 'No account exists with the provided key', 400)
      : { status: 201, headers: { location: `${fake.base}/acct/9` }, body: { status: 'valid' } },
  );
  client.accountUrl = undefined;
  assert.equal(await client.findAccount(), null);
  const created = await client.createAccount({
    contact: ['mailto:a@example.com'],
    termsOfServiceAgreed: true,
  });
  assert.equal(created.url, `${fake.base}/acct/9`);
  assert.equal(client.accountUrl, `${fake.base}/acct/9`);
  const sent = fake.last('POST /acct')!;
  assert.ok(sent.protected!.jwk, 'newAccount is signed with the jwk');
  assert.equal(sent.protected!.kid, undefined);
  assert.deepEqual(sent.payload, { contact: ['mailto:a@example.com'], termsOfServiceAgreed: true });
});

test('contract: account operations without an account URL say what to do', async (t) => {
  const fake = await FakeAcme.start(t);
  const client = new AcmeClient({ directoryUrl: fake.directoryUrl, accountKey: ecKey() });
  t.after(() => client.close());
  const err = await client.getOrder(`${fake.base}/order/1`).catch((e) => e);
  assert.ok(err instanceof AcmeError);
  assert.match(
    err.message,
    /get order failed: the client has no account URL yet\. Call createAccount\(\) or findAccount\(\)/,
  );
  assert.equal(fake.requests.length, 0);
});

test('contract: download returns the chain and every alternate link', async (t) => {
  const { fake, client } = await setup(t);
  const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
  fake.route('POST /cert/1', {
    headers: {
      'content-type': 'application/pem-certificate-chain',
      link: [
        '</cert/1/alt/1>;rel="alternate"',
        `<${fake.base}/cert/1/alt/2>; rel="alternate", </issuer>;rel="up"`,
      ],
    },
    body: pem,
  });
  const chain = await client.downloadCertificate(`${fake.base}/cert/1`);
  assert.equal(chain.pem, pem);
  assert.deepEqual(chain.alternates, [`${fake.base}/cert/1/alt/1`, `${fake.base}/cert/1/alt/2`]);
  assert.equal(fake.last('POST /cert/1')!.headers.accept, 'application/pem-certificate-chain');
});

// --- an account the CA no longer knows (RFC 8555 §7.3) ---

const accountGone = problem('accountDoesNotExist', 'Account not found.', 400);

/** A fake CA that forgot account 1: requests signed with it are refused; newAccount answers with account 2. */
async function forgetfulCa(t: TestContext, onNewAccountUrl?: (url: string, previous: string) => Promise<void>) {
  const fake = await FakeAcme.start(t);
  const stored: string[] = [];
  const client = new AcmeClient({
    directoryUrl: fake.directoryUrl,
    accountKey: ecKey(),
    accountUrl: `${fake.base}/acct/1`,
    retry: { attempts: 3, delayMs: 10 },
    recovery: {
      registration: { contact: ['mailto:ops@example.com'], termsOfServiceAgreed: true },
      onNewAccountUrl: onNewAccountUrl ?? (async (url, previous) => void stored.push(`${previous} -> ${url}`)),
    },
  });
  t.after(() => client.close());
  fake.route('POST /acct', { status: 200, headers: { location: `${fake.base}/acct/2` }, body: { status: 'valid' } });
  fake.route('POST /order/1', (req) => (req.protected!.kid === `${fake.base}/acct/1` ? accountGone : { body: ORDER }));
  return { fake, client, stored };
}

test('contract: accountDoesNotExist: the same key is registered again, the URL handed over, the request sent once more', async (t) => {
  const { fake, client, stored } = await forgetfulCa(t);
  const order = await client.getOrder(`${fake.base}/order/1`);
  assert.equal(order.status, 'pending');
  assert.deepEqual(stored, [`${fake.base}/acct/1 -> ${fake.base}/acct/2`]);
  assert.equal(client.accountUrl, `${fake.base}/acct/2`);
  const registration = fake.last('POST /acct')!;
  assert.ok(registration.protected!.jwk, 'newAccount carries the (unchanged) public key');
  assert.equal(registration.protected!.kid, undefined);
  assert.deepEqual(registration.payload, { contact: ['mailto:ops@example.com'], termsOfServiceAgreed: true });
  assert.deepEqual(
    fake.requests.filter((r) => r.path === '/order/1').map((r) => r.protected!.kid),
    [`${fake.base}/acct/1`, `${fake.base}/acct/2`],
  );
  assert.equal(fake.count('GET /dir'), 2, 'the directory is read again: a CA that forgot us may have moved');
});

test('contract: requests that find the account gone at once share one newAccount', async (t) => {
  const { fake, client, stored } = await forgetfulCa(t);
  const orders = await Promise.all(Array.from({ length: 8 }, () => client.getOrder(`${fake.base}/order/1`)));
  assert.equal(orders.length, 8);
  assert.equal(fake.count('POST /acct'), 1);
  assert.equal(stored.length, 1);
});

test('contract: an account still unknown after registering again is an error, not a loop', async (t) => {
  const { fake, client } = await forgetfulCa(t);
  fake.route('POST /order/1', accountGone);
  const err = await client.getOrder(`${fake.base}/order/1`).catch((e) => e);
  assert.ok(err instanceof AcmeProblemError);
  assert.equal(err.acmeType, 'accountDoesNotExist');
  assert.equal(fake.count('POST /acct'), 1);
  assert.equal(fake.count('POST /order/1'), 2, 'the request is sent once more, not again');
});

test('contract: the new URL is used only once it is stored; without recovery the error is thrown', async (t) => {
  const { fake, client } = await forgetfulCa(t, async () => {
    throw new Error('store unavailable');
  });
  await assert.rejects(client.getOrder(`${fake.base}/order/1`), /store unavailable/);
  assert.equal(client.accountUrl, `${fake.base}/acct/1`);

  const plain = await setup(t);
  plain.fake.route('POST /order/1', accountGone);
  const err = await plain.client.getOrder(`${plain.fake.base}/order/1`).catch((e) => e);
  assert.equal(err.acmeType, 'accountDoesNotExist');
  assert.equal(plain.fake.count('POST /acct'), 0);
});
