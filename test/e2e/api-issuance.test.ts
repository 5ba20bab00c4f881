// The native API end to end: certkeep serve with Pebble and BIND. Certificates
// created over the API are issued in the background — HTTP-01 answered from the
// store, DNS-01 written in a managed zone, or answered by the client from the
// order's tokens — and their files are downloaded over the API.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import { type Rig, startRig, ZONE } from './harness.ts';
import { bindZoneBody, clientDns, eventually, type Server, startServer } from './server.ts';

describe('native API: issuance in the background', () => {
  let rig: Rig;
  let server: Server;
  let tenant: { id: string; apiKey: string; readKey: string };
  let other: { id: string; apiKey: string; readKey: string };

  before(async () => {
    rig = await startRig();
    server = await startServer(rig);
    tenant = await server.subscription('api tenant');
    other = await server.subscription('other tenant');
  });
  after(async () => {
    const code = await server?.stop();
    await rig?.stop();
    assert.equal(code, 0, 'serve exits 0 on SIGTERM');
  });

  const json = async (response: Response) => ({ status: response.status, body: await response.json() });
  const order = (id: string, key = tenant.apiKey) => server.call('GET', `/api/v1/orders/${id}`, { key }).then(json);
  const untilStatus = (id: string, status: string) =>
    eventually(() => order(id), (o) => o.body.status === status || o.body.status === 'invalid', 60_000, `order ${id} ${status}`);

  test('HTTP-01: create answers 202 at once; the workers issue; the files download', async () => {
    const created = await json(await server.call('POST', '/api/v1/certificates', { key: tenant.apiKey, body: { names: [`api.${ZONE}`], pfxPassword: 's3cret' } }));
    assert.equal(created.status, 202, JSON.stringify(created.body));
    assert.equal(created.body.certificate.name, `api.${ZONE}`);
    assert.equal(created.body.order.answeredBy, 'certkeep');
    const done = await untilStatus(created.body.order.id, 'valid');
    assert.equal(done.body.status, 'valid', JSON.stringify(done.body));
    const pem = await server.call('GET', `/api/v1/certificates/api.${ZONE}/files/cert`, { key: tenant.readKey });
    assert.equal(pem.status, 200);
    const certificate = new X509Certificate(await pem.text());
    assert.match(certificate.subjectAltName ?? '', new RegExp(`DNS:api\\.${ZONE}`));
    const pfx = await server.call('GET', `/api/v1/certificates/api.${ZONE}/files/pfx`, { key: tenant.apiKey });
    assert.equal(pfx.status, 200, 'the PFX password given at creation is stored');
    const summary = await json(await server.call('GET', `/api/v1/certificates/api.${ZONE}`, { key: tenant.readKey }));
    assert.equal(summary.body.state, 'valid');
    assert.equal(summary.body.serial.replace(/^0+/, ''), certificate.serialNumber.toLowerCase().replace(/^0+/, ''));
  });

  test('DNS-01 outside managed zones: the client places the TXT records from the tokens, validates, finalizes', async () => {
    const names = [`c.${ZONE}`, `*.c.${ZONE}`];
    const created = await json(await server.call('POST', '/api/v1/certificates', { key: tenant.apiKey, body: { names, challengeType: 'dns-01' } }));
    assert.equal(created.status, 202, JSON.stringify(created.body));
    assert.equal(created.body.order.answeredBy, 'client');
    const id = created.body.order.id;
    const placed = await eventually(() => order(id), (o) => o.body.tokens.length === 2, 30_000, 'tokens');
    assert.equal(placed.body.status, 'pending');
    assert.equal(placed.body.step, 'placed', 'the order waits for the client');
    const dns = clientDns(rig);
    for (const token of placed.body.tokens) {
      assert.equal(token.recordName, `_acme-challenge.c.${ZONE}`, 'apex and wildcard share the record name');
      await dns.place(token.recordName, token.dnsValue);
    }
    const finalizedEarly = await json(await server.call('POST', `/api/v1/orders/${id}/validate`, { key: tenant.apiKey }));
    assert.equal(finalizedEarly.status, 202);
    await untilStatus(id, 'ready');
    const finalize = await json(await server.call('POST', `/api/v1/orders/${id}/finalize`, { key: tenant.apiKey }));
    assert.equal(finalize.status, 202);
    const done = await untilStatus(id, 'valid');
    assert.equal(done.body.status, 'valid', JSON.stringify(done.body));
    for (const token of placed.body.tokens) await dns.remove(token.recordName, token.dnsValue);
    const chain = await server.call('GET', `/api/v1/certificates/c.${ZONE}/files/fullchain`, { key: tenant.readKey });
    assert.equal(chain.status, 200);
  });

  test('DNS-01 in a managed zone: certkeep writes the records itself', async () => {
    const zone = await server.call('POST', '/api/v1/zones', { key: tenant.apiKey, body: bindZoneBody(rig) });
    assert.equal(zone.status, 201, await zone.text());
    const created = await json(await server.call('POST', '/api/v1/certificates', { key: tenant.apiKey, body: { names: [`*.m.${ZONE}`], challengeType: 'dns-01' } }));
    assert.equal(created.status, 202, JSON.stringify(created.body));
    assert.equal(created.body.order.answeredBy, 'certkeep');
    const done = await untilStatus(created.body.order.id, 'valid');
    assert.equal(done.body.status, 'valid', JSON.stringify(done.body));
  });

  test('renew makes a new version; delete removes the certificate', async () => {
    const before = await json(await server.call('GET', `/api/v1/certificates/api.${ZONE}`, { key: tenant.readKey }));
    const renewed = await json(await server.call('POST', `/api/v1/certificates/api.${ZONE}/renew`, { key: tenant.apiKey }));
    assert.equal(renewed.status, 202);
    await untilStatus(renewed.body.order.id, 'valid');
    const afterRenewal = await json(await server.call('GET', `/api/v1/certificates/api.${ZONE}`, { key: tenant.readKey }));
    assert.notEqual(afterRenewal.body.serial, before.body.serial);
    const deleted = await server.call('DELETE', `/api/v1/certificates/api.${ZONE}`, { key: tenant.apiKey });
    assert.equal(deleted.status, 204);
    assert.equal((await server.call('GET', `/api/v1/certificates/api.${ZONE}`, { key: tenant.readKey })).status, 404);
    assert.equal((await server.call('GET', `/api/v1/orders/${renewed.body.order.id}`, { key: tenant.readKey })).status, 404);
  });

  test('mistakes get 4xx problem documents that say what to fix', async () => {
    const cases: [unknown, number, RegExp][] = [
      [{ names: ['bad_name..test'] }, 400, /names/],
      [{ names: [`*.w.${ZONE}`] }, 400, /wildcard/],
      [{ names: [`x.${ZONE}`], keyType: 'dsa-512' }, 400, /keyType/],
      [{ names: [`x.${ZONE}`], csrInfo: { country: 'Germany' } }, 400, /csrInfo\.country/],
      [{ names: [`x.${ZONE}`], unknown: 1 }, 400, /unknown|additional/i],
      [{ names: 'x' }, 400, /names/],
    ];
    for (const [body, status, detail] of cases) {
      const response = await json(await server.call('POST', '/api/v1/certificates', { key: tenant.apiKey, body }));
      assert.equal(response.status, status, JSON.stringify(body));
      assert.match(JSON.stringify(response.body), detail);
    }
    const created = await json(await server.call('POST', '/api/v1/certificates', { key: tenant.apiKey, body: { names: [`dup.${ZONE}`], challengeType: 'dns-01' } }));
    assert.equal(created.status, 202);
    const again = await json(await server.call('POST', '/api/v1/certificates', { key: tenant.apiKey, body: { names: [`dup.${ZONE}`] } }));
    assert.equal(again.status, 409);
    assert.match(again.body.detail, /renew it|delete it/);
    assert.equal((await order(created.body.order.id, other.apiKey)).status, 404, "another subscription's order is not found");
    assert.equal((await server.call('POST', `/api/v1/orders/${created.body.order.id}/validate`, { key: other.apiKey })).status, 404);
    assert.equal((await server.call('POST', `/api/v1/orders/${created.body.order.id}/validate`, { key: tenant.readKey })).status, 403);
    assert.equal((await server.call('GET', '/healthz')).status, 200, 'still up');
  });

  test('an order whose validation failed cannot be validated again', async () => {
    const created = await json(await server.call('POST', '/api/v1/certificates', { key: tenant.apiKey, body: { names: [`nope.${ZONE}`], challengeType: 'dns-01', answeredBy: 'client' } }));
    const id = created.body.order.id;
    await eventually(() => order(id), (o) => o.body.tokens.length === 1, 30_000, 'tokens');
    // No TXT record placed: the CA finds nothing.
    await server.call('POST', `/api/v1/orders/${id}/validate`, { key: tenant.apiKey });
    const failed = await untilStatus(id, 'never');
    assert.equal(failed.body.status, 'invalid');
    assert.ok(failed.body.error, 'the CA error is shown');
    const again = await json(await server.call('POST', `/api/v1/orders/${id}/validate`, { key: tenant.apiKey }));
    assert.equal(again.status, 409);
    assert.match(again.body.detail, /create a new order/);
  });

  test('revoke: 200 with the serial, then 409 — also when only the CA knew it was revoked; 404 and 400 name what is wrong', async () => {
    const name = `revoke.${ZONE}`;
    const created = await json(await server.call('POST', '/api/v1/certificates', { key: tenant.apiKey, body: { names: [name] } }));
    assert.equal((await untilStatus(created.body.order.id, 'valid')).body.status, 'valid');
    const revoke = (body?: unknown, key = tenant.apiKey, certificate = name) =>
      server.call('POST', `/api/v1/certificates/${certificate}/revoke`, { key, ...(body === undefined ? {} : { body }) }).then(json);
    assert.equal((await revoke({ reason: 'superseded' }, tenant.readKey)).status, 403, 'a read key may not revoke');
    const badReason = await revoke({ reason: 'tired' });
    assert.equal(badReason.status, 400);
    assert.equal(badReason.body.errors[0].field, 'reason');
    assert.equal((await revoke(undefined, tenant.apiKey, `missing.${ZONE}`)).status, 404);
    assert.equal((await revoke(undefined, other.apiKey)).status, 404, "another subscription's certificate is not found");

    const revoked = await revoke({ reason: 'superseded' });
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    assert.equal(revoked.body.state, 'revoked');
    const again = await revoke();
    assert.equal(again.status, 409, 'revoked already: a conflict, not a CA failure');
    assert.match(again.body.detail, /revoked already/);

    // The store forgets; the CA remembers: its alreadyRevoked is a conflict too, and the store learns.
    const db = new DatabaseSync(join(rig.dataDir, 'certkeep.db'));
    try {
      db.prepare("UPDATE certificates SET state = 'valid' WHERE name = ?").run(name);
    } finally {
      db.close();
    }
    const atCa = await revoke();
    assert.equal(atCa.status, 409, JSON.stringify(atCa.body));
    assert.match(atCa.body.detail, /revoked already at its CA/);
    assert.equal((await json(await server.call('GET', `/api/v1/certificates/${name}`, { key: tenant.readKey }))).body.state, 'revoked');
  });
});
