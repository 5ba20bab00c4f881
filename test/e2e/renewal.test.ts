// The renewal scheduler inside certkeep serve: a certificate that is due is
// renewed by the running server within one scheduler tick, and the API serves
// the new version.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { type Rig, startRig, ZONE } from './harness.ts';
import { eventually, type Server, startServer } from './server.ts';

describe('renewal by the running server', () => {
  let rig: Rig;
  let server: Server;
  let apiKey: string;
  let subscriptionId: string;
  before(async () => {
    rig = await startRig();
    server = await startServer(rig, { args: ['--renew-interval', '1'] });
    ({ apiKey, id: subscriptionId } = await server.subscription('renewal tenant'));
  });
  after(async () => {
    await server?.stop();
    await rig?.stop();
  });

  const summary = (name: string) => server.call('GET', `/api/v1/certificates/${name}`, { key: apiKey }).then((r) => r.json());

  test('auto-renew off: issued, never planned, never renewed by the scheduler', async () => {
    const name = `due.${ZONE}`;
    // Auto-renew off while it is first issued, so that only the scheduler's order is counted.
    const created = await server.call('POST', '/api/v1/certificates', { key: apiKey, body: { names: [name], renewBefore: '3650d', autoRenew: false } });
    assert.equal(created.status, 202, await created.text());
    const first = await eventually(() => summary(name), (c) => c.state === 'valid', 30_000, 'issued');
    assert.equal(first.nextRenewalAt, null, 'auto-renew off: never planned');
    const events = async () => (await (await server.call('GET', '/api/v1/events?limit=1000', { key: apiKey })).json()).events as { type: string; payload: { name: string } }[];
    assert.equal((await events()).filter((e) => e.type === 'certificate.renewed').length, 0);
  });

  test('a certificate due now is renewed by the scheduler and the API serves the new serial', async () => {
    const name = `renew.${ZONE}`;
    const created = await server.call('POST', '/api/v1/certificates', { key: apiKey, body: { names: [name], renewBefore: '3650d' } });
    assert.equal(created.status, 202, await created.text());
    const first = await eventually(() => summary(name), (c) => c.state === 'valid', 30_000, 'issued');
    assert.ok(Date.parse(first.nextRenewalAt) <= Date.now(), 'due at once: renewBefore exceeds the lifetime');
    const renewed = await eventually(() => summary(name), (c) => c.serial !== first.serial && c.serial !== null, 30_000, 'renewed');
    assert.notEqual(renewed.serial, first.serial);
    const pem = await server.call('GET', `/api/v1/certificates/${name}/files/cert`, { key: apiKey });
    assert.equal(pem.status, 200);
    assert.equal(new X509Certificate(await pem.text()).serialNumber.toLowerCase().replace(/^0+/, ''), renewed.serial.replace(/^0+/, ''));
    // The compatibility routes serve the new version too.
    const autodns = await (await server.call('GET', `/autodns/v1/certificate/${name}`, { key: apiKey })).json();
    assert.equal(autodns.data[0].serialNumber.toLowerCase(), renewed.serial);
    const rcl = await (await server.call('GET', `/production/ssl/core/v1/certificate/subscription/${subscriptionId}/get?name=${name}`, { key: apiKey })).json();
    const leaf = await (await fetch(rcl.certificateDownloadUrl.certCrtUrl)).text();
    assert.equal(new X509Certificate(leaf).serialNumber.toLowerCase().replace(/^0+/, ''), renewed.serial.replace(/^0+/, ''));
    const events = (await (await server.call('GET', '/api/v1/events?limit=1000', { key: apiKey })).json()).events as { type: string; payload: { name: string } }[];
    assert.ok(events.some((e) => e.type === 'certificate.renewed' && e.payload.name === name), 'a certificate.renewed event');
    await server.call('DELETE', `/api/v1/certificates/${name}`, { key: apiKey });
  });
});
