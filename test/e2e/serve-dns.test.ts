// certkeep serve with its challenge DNS server (--dns-listen): a subscription's
// delegated zone issues over the API with no credentials for the user's zone.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../../src/rig/ports.ts';
import { delegationCname, type Rig, startRig, ZONE } from './harness.ts';
import { eventually, type Server, startServer } from './server.ts';

const DELEGATION_ZONE = 'acme.serve.test';


describe('certkeep serve --dns-listen', () => {
  let rig: Rig;
  let server: Server;
  let listen: string;
  before(async () => {
    listen = `127.0.0.1:${await freePort()}`;
    rig = await startRig({ bind: { forwardZones: [{ zone: DELEGATION_ZONE, server: listen }], extraRecords: [delegationCname(`sd.${ZONE}`, DELEGATION_ZONE)] } });
    server = await startServer(rig, { httpChallengeListen: 'off', args: ['--dns-listen', listen, '--dns-zone', DELEGATION_ZONE] });
  });
  after(async () => {
    await server?.stop();
    await rig?.stop();
  });

  test('a delegated zone added over the API issues through the server’s DNS', async () => {
    const { apiKey } = await server.subscription('dns tenant');
    const zone = await server.call('POST', '/api/v1/zones', { key: apiKey, body: { zone: ZONE, provider: 'delegated', settings: { delegationZone: DELEGATION_ZONE } } });
    assert.equal(zone.status, 201, await zone.text());
    const created = await server.call('POST', '/api/v1/certificates', { key: apiKey, body: { names: [`sd.${ZONE}`], challengeType: 'dns-01' } });
    const body = await created.json();
    assert.equal(created.status, 202, JSON.stringify(body));
    const { order } = body;
    assert.equal(order.answeredBy, 'certkeep');
    const done = await eventually(
      () => server.call('GET', `/api/v1/orders/${order.id}`, { key: apiKey }).then((r) => r.json()),
      (o) => o.status === 'valid' || o.status === 'invalid',
      30_000,
    );
    assert.equal(done.status, 'valid', JSON.stringify(done));
  });

  test('--dns-listen without --dns-zone is refused, naming both', async () => {
    await assert.rejects(startServer(rig, { httpChallengeListen: 'off', args: ['--dns-listen', '127.0.0.1:0'] }), /--dns-listen and --dns-zone go together/);
  });
});
