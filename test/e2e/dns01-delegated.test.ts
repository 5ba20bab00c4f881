// DNS-01 delegated to certkeep's own challenge DNS server (the acme-dns model):
// the user's zone holds only a CNAME into a delegation zone that certkeep
// answers, so certkeep issues without any credentials for the user's zone.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { delegationTarget } from '../../src/dns/providers/delegated/delegated.ts';
import { nameData, queryDns } from '../../src/dns/query.ts';
import { freePort } from '../../src/rig/ports.ts';
import { delegationCname, oneLine, type Rig, startRig, ZONE } from './harness.ts';

const DELEGATION_ZONE = 'acme.delegated.test';

async function txtAt(server: string, name: string): Promise<string[]> {
  const response = await queryDns(server, name, 'TXT', { timeoutMs: 2000 });
  return response.answers.filter((a) => a.type === 'TXT').map((a) => String((a.data as Buffer[])[0] ?? a.data));
}


describe('DNS-01 delegated to certkeep’s challenge DNS server', () => {
  let rig: Rig;
  let listen: string;
  let dns: (args: string[], options?: { dataDir?: string }) => ReturnType<Rig['certkeep']>;
  after(() => rig?.stop());
  before(async () => {
    listen = `127.0.0.1:${await freePort()}`;
    rig = await startRig({
      bind: {
        forwardZones: [{ zone: DELEGATION_ZONE, server: listen }],
        extraRecords: [delegationCname(`dl.${ZONE}`, DELEGATION_ZONE), delegationCname(`dw.${ZONE}`, DELEGATION_ZONE)],
      },
    });
    dns = (args, options) => rig.certkeep([...args, '--resolver', rig.bind.address], options);
    const added = await dns(['zone', 'add', ZONE, '--provider', 'delegated', '--delegation-zone', DELEGATION_ZONE, '--dns-listen', listen, '--json']);
    assert.equal(added.code, 0, added.stderr);
    assert.deepEqual(added.json().delegation, delegationTarget(ZONE, DELEGATION_ZONE), 'the CNAME for the zone itself');
  });

  test('the CNAME leads into the delegation zone', async () => {
    const { record, target } = delegationTarget(`dl.${ZONE}`, DELEGATION_ZONE);
    const response = await queryDns(rig.bind.address, record, 'CNAME', { timeoutMs: 2000 });
    assert.deepEqual(nameData(response.answers, 'CNAME', record), [target]);
  });

  test('issues with no credentials for the user’s zone; nothing is served afterwards', async () => {
    const result = await dns(['issue', '-d', `dl.${ZONE}`, '--challenge', 'dns-01', '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.json().names, [`dl.${ZONE}`]);
    // certkeep's server ran only while it issued: its port is free again, and BIND holds no TXT.
    await assert.rejects(txtAt(listen, delegationTarget(`dl.${ZONE}`, DELEGATION_ZONE).target));
    assert.deepEqual(await txtAt(rig.bind.address, `_acme-challenge.dl.${ZONE}`), []);
  });

  test('apex and wildcard in one certificate: both TXT values at one name', async () => {
    const result = await dns(['issue', '-d', `dw.${ZONE}`, '-d', `*.dw.${ZONE}`, '--challenge', 'dns-01', '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.json().names.sort(), [`*.dw.${ZONE}`, `dw.${ZONE}`]);
  });

  test('a name without the CNAME → exit 1 naming the name', async () => {
    const dataDir = join(rig.dataDir, 'no-cname');
    const added = await dns(['zone', 'add', ZONE, '--provider', 'delegated', '--delegation-zone', DELEGATION_ZONE, '--dns-listen', listen], { dataDir });
    assert.equal(added.code, 0, added.stderr);
    const result = await dns(['issue', '-d', `nocname.${ZONE}`, '--challenge', 'dns-01'], { dataDir });
    assert.equal(result.code, 1);
    const line = oneLine(result.stderr);
    assert.ok(line.includes(`nocname.${ZONE}`), line);
    assert.match(line, /CNAME/);
  });

  test('delegated zones need --delegation-zone', async () => {
    const dataDir = join(rig.dataDir, 'no-zone');
    const added = await dns(['zone', 'add', ZONE, '--provider', 'delegated', '--dns-listen', listen], { dataDir });
    assert.equal(added.code, 2);
    assert.match(oneLine(added.stderr), /--delegation-zone/);
  });
});
