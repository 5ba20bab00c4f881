// The AutoDNS-style SSL API end to end, as the seed's renewal flow runs it:
// prepare the order with an openssl-made CSR, place the TXT record the answer
// names (or let certkeep place it in a managed zone), renew or create, poll
// until the job's message arrives and confirm it, then read the certificate.
// certkeep serve with Pebble and BIND; no mocks.
import assert from 'node:assert/strict';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { tempDir } from '../rig/tmp.ts';
import { clientCsr, type KeyKind, txtRecords } from './client-csr.ts';
import { type Rig, startRig, ZONE } from './harness.ts';
import { bindZoneBody, clientDns, eventually, type Server, startServer } from './server.ts';

type Tenant = { id: string; apiKey: string; readKey: string };
// biome-ignore lint/suspicious/noExplicitAny: the tests read the vendor's envelopes loosely
type Answer = { status: number; body: any };

describe('AutoDNS compatibility API', () => {
  let rig: Rig;
  let server: Server;
  let tenant: Tenant;
  let other: Tenant;
  let dir: { path: string; remove: () => Promise<void> };

  before(async () => {
    rig = await startRig();
    server = await startServer(rig);
    tenant = await server.subscription('autodns tenant');
    other = await server.subscription('autodns other');
    dir = await tempDir('certkeep-autodns-');
  });
  after(async () => {
    const code = await server?.stop();
    await rig?.stop();
    await dir?.remove();
    assert.equal(code, 0, 'serve exits 0 on SIGTERM');
    assert.doesNotMatch(server.output(), /"statusCode":500/, 'no request ended in a 500');
  });

  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const auth = (who: Tenant, key = who.apiKey) => basic(who.id, key);

  async function call(method: string, path: string, authorization: string | undefined, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const response = await server.call(method, `/autodns/v1${path}`, { body, headers: { ...(authorization ? { authorization } : {}), ...headers } });
    const answer = { status: response.status, body: await response.json() };
    // Every answer, error or not, is the vendor's envelope.
    assert.match(answer.body.stid, /^\d{8}-certkeep-\d+$/, JSON.stringify(answer.body));
    assert.equal(response.headers.get('x-domainrobot-stid'), answer.body.stid);
    assert.ok(Array.isArray(answer.body.data) && Array.isArray(answer.body.messages), JSON.stringify(answer.body));
    if (answer.status >= 400) {
      assert.match(answer.body.status.code, /^E\d{4,6}$/);
      assert.equal(answer.body.status.type, 'ERROR');
      assert.equal(answer.body.messages[0].type, 'ERROR');
      assert.ok(answer.body.messages[0].text.length > 10, 'the error says what to fix');
    }
    return answer;
  }

  const makeCsr = (kind: KeyKind, names: string[]) => clientCsr(dir.path, kind, names);

  /** Polls until the job's result arrives; messages in front of it (a retried attempt) are confirmed. */
  async function awaitJob(who: Tenant, jobId: string): Promise<Answer> {
    const deadline = Date.now() + 90_000;
    for (;;) {
      const polled = await call('GET', '/poll', auth(who, who.readKey));
      assert.equal(polled.status, 200);
      assert.equal(polled.body.status.code, 'S0905');
      const [message] = polled.body.data;
      if (message?.job?.id === jobId && message.job.status === 'SUCCESS') return polled;
      assert.notEqual(message?.job?.status, 'FAILED', `the job failed: ${JSON.stringify(message)}`);
      if (message) assert.equal((await call('PUT', `/poll/${message.id}`, auth(who))).status, 200);
      if (Date.now() > deadline) assert.fail(`no result for job ${jobId}: ${JSON.stringify(polled.body)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** GET /certificate/{id}: the PEM's key is the CSR's and its SANs are the CSR's names. */
  async function assertIssued(who: Tenant, id: string, names: string[], keyPem: string): Promise<Answer> {
    const info = await call('GET', `/certificate/${id}`, auth(who, who.readKey));
    assert.equal(info.status, 200, JSON.stringify(info.body));
    assert.equal(info.body.status.code, 'S400104');
    const [data] = info.body.data;
    assert.equal(data.name, id);
    assert.ok(Number.isInteger(data.id) && data.id > 0, `the id is the certificate's number: ${data.id}`);
    const byNumber = await call('GET', `/certificate/${data.id}`, auth(who, who.readKey));
    assert.equal(byNumber.body.data[0]?.name, id, 'the number finds the certificate too');
    const certificate = new X509Certificate(data.server);
    const spki = (key: ReturnType<typeof createPublicKey>) => key.export({ type: 'spki', format: 'der' }).toString('hex');
    assert.equal(spki(certificate.publicKey), spki(createPublicKey(keyPem)), "the certificate carries the CSR's public key");
    const sans = (certificate.subjectAltName ?? '').split(', ').map((s) => s.replace(/^DNS:/, ''));
    assert.deepEqual(sans.sort(), [...names].sort());
    assert.deepEqual(data.subjectAlternativeNames.map((s: { name: string }) => s.name).sort(), [...names].sort());
    assert.equal(data.serialNumber.replace(/^0+/, ''), certificate.serialNumber.replace(/^0+/, ''));
    assert.equal(Date.parse(data.expire), Date.parse(certificate.validTo));
    assert.ok(data.certificationAuthority.length >= 1, 'the chain is given');
    assert.match(data.csr, /BEGIN CERTIFICATE REQUEST/);
    return info;
  }

  test('RSA 2048: prepare, place the TXT records, renew, poll and confirm, read the certificate, revoke', async () => {
    const id = `rsa.${ZONE}`;
    const names = [id, `www.rsa.${ZONE}`];
    const { csr, key } = await makeCsr('rsa2048', names);
    // The vendor's SDKs send nulls for the fields prepareOrder does not use.
    const prepared = await call('POST', '/certificate/_prepareOrder', auth(tenant), { plain: csr, product: 'SSL123', name: null, csr: null, lifetime: null, authentication: null });
    assert.equal(prepared.status, 200, JSON.stringify(prepared.body));
    assert.equal(prepared.body.status.code, 'S400110');
    assert.equal(prepared.body.status.type, 'SUCCESS');
    const [data] = prepared.body.data;
    assert.equal(data.name, id, 'the certificate is named after the CN');
    assert.equal(data.keySize, 2048);
    assert.deepEqual([data.algorithm, data.signatureHashAlgorithm], ['RSA', 'SHA256'], "the key's algorithm, and the signature's hash apart");
    assert.deepEqual([...data.san].sort(), [...names].sort());
    assert.equal(data.authentication.length, 2);
    for (const entry of data.authentication) {
      assert.equal(entry.method, 'DNS');
      assert.equal(entry.provisioning, false, 'outside managed zones the client places the records');
      assert.match(entry.dns, new RegExp(`^_acme-challenge\\.${entry.name.replaceAll('.', '\\.')}\\. 300 IN TXT "`));
    }
    const dns = clientDns(rig);
    const records = txtRecords(data.authentication);
    for (const record of records) await dns.place(record.fqdn, record.value);

    const renewed = await call('PUT', `/certificate/${id}/_renew`, auth(tenant), { authentication: data.authentication[0], lifetime: { unit: 'MONTH', period: 12 } });
    assert.equal(renewed.status, 200, JSON.stringify(renewed.body));
    assert.deepEqual([renewed.body.status.code, renewed.body.status.type], ['N400106', 'NOTIFY'], 'accepted: the result comes by poll');
    const [{ job, object }] = renewed.body.data;
    assert.ok(['RUNNING', 'WAIT'].includes(job.status), 'asynchronous: answered at once with a job');
    assert.deepEqual(object, { type: 'Certificate', value: id });

    const polled = await awaitJob(tenant, job.id);
    const [message] = polled.body.data;
    assert.equal(polled.body.object.type, 'Message');
    assert.equal(polled.body.object.value, String(message.id));
    assert.equal(polled.body.object.summary, 1);
    assert.equal(message.object.value, id);
    assert.equal(message.object.data.name, id, 'the message names the certificate');
    assert.ok(Number.isInteger(message.object.data.id), 'and gives its id');
    for (const record of records) await dns.remove(record.fqdn, record.value);

    const info = await assertIssued(tenant, id, names, key);
    assert.equal(message.object.data.serialNumber, info.body.data[0].serialNumber);

    const revoked = await call('POST', `/certificate/${id}/_revoke`, auth(tenant), { reason: 'superseded' });
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    // Two messages now: the job result, then the revocation; confirming counts down.
    const again = await call('GET', '/poll', auth(tenant));
    assert.equal(again.body.data[0].id, message.id, 'an unconfirmed message stays at the head');
    assert.equal(again.body.object.summary, 2);
    // As the vendor's Node SDK confirms: a PUT without a body, typed as a form by its HTTP library.
    const confirmed = await call('PUT', `/poll/${message.id}`, auth(tenant), undefined, { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
    assert.equal(confirmed.body.status.code, 'S0906');
    assert.equal(confirmed.body.object.summary, 1);
    const next = await call('GET', '/poll', auth(tenant));
    assert.notEqual(next.body.data[0].id, message.id, 'a confirmed message does not come again');
    assert.equal(next.body.object.summary, 1);
    assert.deepEqual(next.body.data[0].notify, { type: 'CERTIFICATE_REVOKED' });
    assert.equal(next.body.data[0].object.value, id);
    assert.equal((await call('PUT', `/poll/${next.body.data[0].id}`, auth(tenant))).body.object.summary, 0);
    const empty = await call('GET', '/poll', auth(tenant));
    assert.deepEqual([empty.body.object.summary, empty.body.data.length], [0, 0]);
  });

  test('EC P-256 with a bearer key: create from the prepared order, then renew with a new CSR', async () => {
    const bearer = `Bearer ${tenant.apiKey}`;
    const id = `ec.${ZONE}`;
    const dns = clientDns(rig);
    let serial = '';
    for (const [round, task, code] of [
      [1, 'create', 'N400101'],
      [2, 'renew', 'N400106'],
    ] as const) {
      const { csr, key } = await makeCsr('ec256', [id]);
      const prepared = await call('POST', '/certificate/_prepareOrder', bearer, { plain: csr, authentication: [{ method: 'DNS' }] });
      assert.equal(prepared.status, 200, JSON.stringify(prepared.body));
      assert.equal(prepared.body.data[0].keySize, 256);
      assert.deepEqual([prepared.body.data[0].algorithm, prepared.body.data[0].signatureHashAlgorithm], ['ECC', 'SHA256']);
      const records = txtRecords(prepared.body.data[0].authentication);
      for (const record of records) await dns.place(record.fqdn, record.value);
      const started =
        task === 'create'
          ? await call('POST', '/certificate', bearer, { csr, authentication: { method: 'DNS' }, product: 'SSL123' })
          : await call('PUT', `/certificate/${id}/_renew`, bearer, { csr, lifetime: { unit: 'MONTH', period: 12 } });
      assert.equal(started.status, 200, JSON.stringify(started.body));
      assert.equal(started.body.status.code, code);
      const polled = await awaitJob(tenant, started.body.data[0].job.id);
      assert.equal(polled.body.data[0].job.action, task);
      assert.equal((await call('PUT', `/poll/${polled.body.data[0].id}`, bearer)).status, 200);
      for (const record of records) await dns.remove(record.fqdn, record.value);
      const info = await assertIssued(tenant, id, [id], key);
      if (round === 2) {
        assert.notEqual(info.body.data[0].serialNumber, serial, 'a new version');
        assert.deepEqual(info.body.data[0].histories, [{ serialNumber: serial }]);
      }
      serial = info.body.data[0].serialNumber;
    }
  });

  test('FILE: the file name and content per name; delete removes the prepared certificate', async () => {
    const id = `file.${ZONE}`;
    const { csr } = await makeCsr('rsa2048', [id]);
    const prepared = await call('POST', '/certificate/_prepareOrder', auth(tenant), { plain: csr, authentication: [{ method: 'FILE' }] });
    assert.equal(prepared.status, 200, JSON.stringify(prepared.body));
    const [entry] = prepared.body.data[0].authentication;
    assert.equal(entry.method, 'FILE');
    assert.equal(entry.provisioning, false);
    const token = /^\/\.well-known\/acme-challenge\/([A-Za-z0-9_-]+)$/.exec(entry.fileName)?.[1];
    assert.ok(token, entry.fileName);
    assert.match(entry.fileContent, new RegExp(`^${token}\\.[A-Za-z0-9_-]{43}$`), 'the key authorization');
    const deleted = await call('DELETE', `/certificate/${id}`, auth(tenant), undefined, { 'content-type': 'application/json' });
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    assert.equal(deleted.body.status.code, 'S400103');
    assert.equal((await call('GET', `/certificate/${id}`, auth(tenant))).status, 404);
    const polled = await call('GET', '/poll', auth(tenant));
    assert.deepEqual(polled.body.data[0].notify, { type: 'CERTIFICATE_DELETED' });
    await call('PUT', `/poll/${polled.body.data[0].id}`, auth(tenant));
  });

  test('refusals: key size, signature, garbage, authentication, scopes, unknown ids, malformed JSON', async () => {
    const weak = await makeCsr('rsa1024', [`weak.${ZONE}`]);
    const refused = await call('POST', '/certificate/_prepareOrder', auth(tenant), { plain: weak.csr });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.status.code, 'E400110');
    assert.match(refused.body.messages[0].text, /1024 bits/);
    assert.match(refused.body.messages[0].text, /minimum is 2048/);
    assert.deepEqual(refused.body.messages[0].objects, [{ type: 'field', value: 'plain' }]);

    const good = await makeCsr('rsa2048', [`forged.${ZONE}`]);
    const der = Buffer.from(good.csr.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    der[der.length - 1] ^= 0xff; // a byte of the signature
    const forged = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    const badSignature = await call('POST', '/certificate/_prepareOrder', auth(tenant), { plain: forged });
    assert.equal(badSignature.status, 400);
    assert.match(badSignature.body.messages[0].text, /signature/);
    for (const plain of ['garbage', '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----']) {
      const garbage = await call('POST', '/certificate/_prepareOrder', auth(tenant), { plain });
      assert.equal(garbage.status, 400, JSON.stringify(garbage.body));
      assert.match(garbage.body.messages[0].text, /^plain: /);
    }
    const email = await call('POST', '/certificate/_prepareOrder', auth(tenant), { plain: good.csr, authentication: [{ method: 'EMAIL' }] });
    assert.equal(email.status, 400);
    assert.match(email.body.messages[0].text, /DNS .* or FILE/);
    assert.equal((await call('POST', '/certificate/_prepareOrder', auth(tenant), {})).body.messages[0].text, 'plain is missing');

    const malformed = await call('POST', '/certificate/_prepareOrder', auth(tenant), '{"plain": ', { 'content-type': 'application/json' });
    assert.equal(malformed.status, 400);
    assert.match(malformed.body.messages[0].text, /not valid JSON/);
    // An empty body is no body, whatever its type; a body that is not JSON is refused.
    const formPut = await call('PUT', '/poll/999998', auth(tenant), '', { 'content-type': 'text/plain' });
    assert.equal(formPut.status, 404, 'read as no body: the message is what is missing');
    const notJson = await call('POST', '/certificate/_prepareOrder', auth(tenant), 'plain=x', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(notJson.status, 415);
    assert.match(notJson.body.messages[0].text, /send the body as JSON/);

    assert.equal((await call('GET', '/poll', undefined)).status, 401);
    assert.equal((await call('GET', '/poll', basic(other.id, tenant.apiKey))).status, 401, "another subscription's id with this key");
    assert.equal((await call('GET', '/poll', basic(tenant.id, 'ck_aaaaaaaaaaaa.wrong'))).status, 401, 'a wrong key');
    assert.equal((await call('GET', '/poll', 'Bearer nope')).status, 401);
    const readOnly = await call('POST', '/certificate/_prepareOrder', auth(tenant, tenant.readKey), { plain: good.csr });
    assert.equal(readOnly.status, 403);
    assert.match(readOnly.body.messages[0].text, /write key/);

    const unknown = await call('GET', '/certificate/unknown.example.test', auth(tenant));
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.status.code, 'E400104');
    assert.deepEqual(unknown.body.object, { type: 'Certificate', value: 'unknown.example.test' });
    assert.equal((await call('PUT', '/certificate/unknown.example.test/_renew', auth(tenant), {})).status, 404);
    assert.equal((await call('PUT', '/poll/999999', auth(tenant))).status, 404);
    assert.equal((await call('GET', '/nothing/here', auth(tenant))).status, 404);

    // Outside managed zones an order the client has not prepared cannot succeed: refused up front.
    const unprepared = await call('POST', '/certificate', auth(other), { csr: good.csr });
    assert.equal(unprepared.status, 400);
    assert.match(unprepared.body.messages[0].text, /prepare/);
    assert.equal((await server.call('GET', '/healthz')).status, 200, 'the server is still up');
  });

  test("tenants: neither one's certificates nor poll messages reach the other", async () => {
    const { csr } = await makeCsr('ec256', [`other.${ZONE}`]);
    const prepared = await call('POST', '/certificate/_prepareOrder', auth(other), { plain: csr });
    assert.equal(prepared.status, 200, JSON.stringify(prepared.body));
    assert.equal((await call('DELETE', `/certificate/other.${ZONE}`, auth(other))).status, 200);
    const othersMessage = (await call('GET', '/poll', auth(other))).body.data[0];
    assert.deepEqual(othersMessage.notify, { type: 'CERTIFICATE_DELETED' });

    assert.equal((await call('GET', '/poll', auth(tenant))).body.object.summary, 0, "the other's message is not in this queue");
    assert.equal((await call('PUT', `/poll/${othersMessage.id}`, auth(tenant))).status, 404, "another's message cannot be confirmed");
    assert.equal((await call('GET', '/poll', auth(other))).body.data[0].id, othersMessage.id, 'and stays unconfirmed');
    assert.equal((await call('GET', `/certificate/rsa.${ZONE}`, auth(other))).status, 404);
    assert.equal((await call('PUT', `/certificate/ec.${ZONE}/_renew`, auth(other), {})).status, 404);
    assert.equal((await call('DELETE', `/certificate/ec.${ZONE}`, auth(other))).status, 404);
    const search = await call('POST', '/certificate/_search', auth(other), {});
    assert.deepEqual([search.body.object.summary, search.body.data.length], [0, 0]);
  });

  test('search: filters, order and view of the Query object', async () => {
    const all = await call('POST', '/certificate/_search', auth(tenant, tenant.readKey), {});
    assert.equal(all.status, 200, JSON.stringify(all.body));
    assert.equal(all.body.status.code, 'S400105');
    assert.deepEqual(all.body.data.map((c: { name: string }) => c.name), [`ec.${ZONE}`, `rsa.${ZONE}`]);
    const rsaId = all.body.data[1].id;
    const byId = await call('POST', '/certificate/_search', auth(tenant), { filters: [{ key: 'id', value: String(rsaId), operator: 'EQUAL' }] });
    assert.deepEqual(byId.body.data.map((c: { name: string }) => c.name), [`rsa.${ZONE}`], 'id filters on the number');
    const query = {
      filters: [
        { key: 'name', value: '*.example.test', operator: 'LIKE' },
        { key: 'expire', operator: 'IS_NOT_NULL', link: 'AND' },
      ],
      view: { limit: 1, offset: 0 },
      orders: [{ key: 'name', type: 'DESC' }],
    };
    const page = await call('POST', '/certificate/_search/?keys=expire', auth(tenant), query);
    assert.equal(page.status, 200, JSON.stringify(page.body));
    assert.equal(page.body.object.summary, 2, 'summary counts every match');
    assert.deepEqual(page.body.data.map((c: { name: string }) => c.name), [`rsa.${ZONE}`]);
    assert.match(page.body.data[0].expire, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
    const none = await call('POST', '/certificate/_search', auth(tenant), { filters: [{ key: 'id', value: `nope.${ZONE}`, operator: 'EQUAL' }] });
    assert.equal(none.body.object.summary, 0);
    const bad = await call('POST', '/certificate/_search', auth(tenant), { filters: [{ key: 'owner', value: 'x' }] });
    assert.equal(bad.status, 400);
    assert.match(bad.body.messages[0].text, /name, id, expire/);
  });

  test("a job that fails: the poll message is FAILED with the CA's error", async () => {
    const id = `unplaced.${ZONE}`;
    const { csr } = await makeCsr('ec256', [id]);
    const prepared = await call('POST', '/certificate/_prepareOrder', auth(tenant), { plain: csr });
    assert.equal(prepared.status, 200, JSON.stringify(prepared.body));
    // No TXT record placed: the CA finds nothing.
    const renewed = await call('PUT', `/certificate/${id}/_renew`, auth(tenant), { csr });
    assert.equal(renewed.status, 200, JSON.stringify(renewed.body));
    const jobId = renewed.body.data[0].job.id;
    const polled = await eventually(
      () => call('GET', '/poll', auth(tenant)),
      (answer) => answer.body.data[0]?.job?.status === 'FAILED',
      60_000,
      'the failed job',
    );
    const [message] = polled.body.data;
    assert.equal(message.job.id, jobId);
    assert.equal(message.object.value, id);
    assert.equal(message.messages[0].type, 'ERROR');
    assert.match(message.messages[0].text, new RegExp(`certificate "${id}" failed: .*${id.replaceAll('.', '\\.')}`));
    await call('PUT', `/poll/${message.id}`, auth(tenant));
    // The failed order cannot be renewed without a new prepared order: the client has no tokens.
    const again = await call('PUT', `/certificate/${id}/_renew`, auth(tenant), {});
    assert.equal(again.status, 400);
    assert.match(again.body.messages[0].text, /no prepared order/);
    assert.equal((await call('DELETE', `/certificate/${id}`, auth(tenant))).status, 200);
    await call('PUT', `/poll/${(await call('GET', '/poll', auth(tenant))).body.data[0].id}`, auth(tenant));
  });

  test('provisioning: in a managed zone certkeep places the records; prepare+renew and a direct create complete alone', async () => {
    const zone = await server.call('POST', '/api/v1/zones', { key: tenant.apiKey, body: bindZoneBody(rig) });
    assert.equal(zone.status, 201, await zone.text());

    const id = `p.${ZONE}`;
    const names = [id, `*.p.${ZONE}`];
    const { csr, key } = await makeCsr('ec256', names);
    const prepared = await call('POST', '/certificate/_prepareOrder', auth(tenant), { plain: csr });
    assert.equal(prepared.status, 200, JSON.stringify(prepared.body));
    assert.equal(prepared.body.data[0].authentication.length, 2);
    for (const entry of prepared.body.data[0].authentication) assert.equal(entry.provisioning, true, JSON.stringify(entry));
    const renewed = await call('PUT', `/certificate/${id}/_renew`, auth(tenant), { authentication: prepared.body.data[0].authentication[0] });
    assert.equal(renewed.status, 200, JSON.stringify(renewed.body));
    const polled = await awaitJob(tenant, renewed.body.data[0].job.id);
    await call('PUT', `/poll/${polled.body.data[0].id}`, auth(tenant));
    await assertIssued(tenant, id, names, key);

    const direct = await makeCsr('rsa2048', [`q.${ZONE}`]);
    const created = await call('POST', '/certificate', auth(tenant), { csr: direct.csr });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.equal(created.body.data[0].object.value, `q.${ZONE}`);
    const done = await awaitJob(tenant, created.body.data[0].job.id);
    await call('PUT', `/poll/${done.body.data[0].id}`, auth(tenant));
    await assertIssued(tenant, `q.${ZONE}`, [`q.${ZONE}`], direct.key);
  });
});
