// Delegated DNS in every instance: two `certkeep serve` on one PostgreSQL. The
// first runs the order (workers, no DNS server); the second runs no order and
// is the only challenge DNS server the delegation zone reaches (BIND sends the
// zone to it, Pebble resolves through BIND). The second answers from the store
// what the first wrote, and the values are gone once the order is valid.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { freePort } from '../../src/rig/ports.ts';
import { generateMasterKey } from '../../src/store/master-key.ts';
import { type PostgresServer, startPostgres } from '../rig/postgres.ts';
import { tempDir } from '../rig/tmp.ts';
import { delegationCname, type Rig, startRig, ZONE } from './harness.ts';
import { eventually, type Server, startServer } from './server.ts';

const DELEGATION_ZONE = 'acme.instances.test';
const NAME = `two.${ZONE}`;

describe('delegated DNS: the order on one instance, the CA asking another', () => {
  let rig: Rig;
  let postgres: PostgresServer;
  let client: pg.Client;
  let runner: Server;
  let answerer: Server;
  const dirs: { remove(): Promise<void> }[] = [];

  before(async () => {
    postgres = await startPostgres();
    const databaseUrl = await postgres.createDatabase();
    const env = { CERTKEEP_DATABASE_URL: databaseUrl, CERTKEEP_MASTER_KEY: generateMasterKey() };
    const listen = `127.0.0.1:${await freePort()}`;
    rig = await startRig({ bind: { forwardZones: [{ zone: DELEGATION_ZONE, server: listen }], extraRecords: [delegationCname(NAME, DELEGATION_ZONE)] } });
    const dataDir = async () => {
      const dir = await tempDir();
      dirs.push(dir);
      return dir.path;
    };
    // The answerer first: it creates the schema; it runs no order.
    answerer = await startServer(rig, {
      httpChallengeListen: 'off',
      dataDir: await dataDir(),
      env,
      args: ['--workers', '0', '--renew-interval', '0', '--dns-listen', listen, '--dns-zone', DELEGATION_ZONE],
    });
    runner = await startServer(rig, { httpChallengeListen: 'off', dataDir: await dataDir(), env, args: ['--renew-interval', '0'] });
    client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
  });
  after(async () => {
    await runner?.stop();
    await answerer?.stop();
    await client?.end();
    await rig?.stop();
    await postgres?.stop();
    for (const dir of dirs) await dir.remove();
  });

  test('the runner writes the values, the other instance answers the CA, the order is valid', async () => {
    assert.doesNotMatch(runner.output(), /challenge DNS for/, 'the runner has no DNS server of its own');
    const { apiKey } = await runner.subscription('delegating tenant');
    const zone = await runner.call('POST', '/api/v1/zones', { key: apiKey, body: { zone: ZONE, provider: 'delegated', settings: { delegationZone: DELEGATION_ZONE } } });
    assert.equal(zone.status, 201, await zone.text());
    const created = await runner.call('POST', '/api/v1/certificates', { key: apiKey, body: { names: [NAME], challengeType: 'dns-01' } });
    const body = await created.json();
    assert.equal(created.status, 202, JSON.stringify(body));
    const done = await eventually(
      () => runner.call('GET', `/api/v1/orders/${body.order.id}`, { key: apiKey }).then((r) => r.json()),
      (order) => order.status === 'valid' || order.status === 'invalid',
      60_000,
      'order settled',
    );
    assert.equal(done.status, 'valid', `${JSON.stringify(done)}\nrunner:\n${runner.output()}\nanswerer:\n${answerer.output()}`);
    const about = `"order":"${body.order.id}"`;
    assert.ok(runner.output().includes(about), 'the runner ran the order (its log has the order’s lines)');
    assert.ok(!answerer.output().includes(about), 'the answerer did not');
    assert.equal(Number((await client.query('SELECT count(*) AS n FROM delegated_challenge_values')).rows[0].n), 0, 'the values are removed after validation');
  });
});
