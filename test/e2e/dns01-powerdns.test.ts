// DNS-01 through PowerDNS's HTTP API: Pebble resolves through PowerDNS itself,
// so the certificate is issued only if the TXT record really was served.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { queryDns } from '../../src/dns/query.ts';
import { type PowerDns, startPowerDns } from '../rig/powerdns.ts';
import { oneLine, type Rig, startRig, ZONE } from './harness.ts';

async function txtAt(server: string, name: string): Promise<string[]> {
  const response = await queryDns(server, name, 'TXT', { timeoutMs: 2000 });
  return response.answers.filter((a) => a.type === 'TXT').map((a) => String((a.data as Buffer[])[0] ?? a.data));
}

describe('DNS-01 with PowerDNS (HTTP API)', () => {
  let pdns: PowerDns;
  let rig: Rig;
  let dns: (args: string[], options?: { dataDir?: string }) => ReturnType<Rig['certkeep']>;
  after(async () => {
    await rig?.stop();
    await pdns?.stop();
  });
  before(async () => {
    pdns = await startPowerDns({ zones: [ZONE] });
    rig = await startRig({ pebble: { dnsServer: pdns.dnsAddress } });
    dns = (args, options) => rig.certkeep([...args, '--resolver', pdns.dnsAddress], options);
    const added = await dns([
      'zone', 'add', ZONE, '--provider', 'powerdns', '--api-url', pdns.apiUrl, '--api-key', pdns.apiKey,
      '--nameserver', pdns.dnsAddress, '--json',
    ]);
    assert.equal(added.code, 0, added.stderr);
    assert.equal(added.json().settings.apiKey, '(set)', 'the API key is never printed back');
  });

  test('apex and wildcard in one certificate; the TXT records are gone afterwards', async () => {
    const result = await dns(['issue', '-d', `pd.${ZONE}`, '-d', `*.pd.${ZONE}`, '--challenge', 'dns-01', '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.json().names.sort(), [`*.pd.${ZONE}`, `pd.${ZONE}`]);
    assert.deepEqual(await txtAt(pdns.dnsAddress, `_acme-challenge.pd.${ZONE}`), []);
  });

  test('zone list shows no API key; zone test writes, sees and removes a record', async () => {
    const list = await dns(['zone', 'list']);
    assert.equal(list.code, 0, list.stderr);
    assert.ok(list.stdout.includes('powerdns'));
    assert.ok(!list.stdout.includes(pdns.apiKey));
    const tested = await dns(['zone', 'test', ZONE, '--json']);
    assert.equal(tested.code, 0, tested.stderr);
    assert.deepEqual(await txtAt(pdns.dnsAddress, tested.json().record), []);
  });

  test('a wrong API key → exit 1 naming the API key problem, never the key; nothing left behind', async () => {
    const dataDir = join(rig.dataDir, 'wrong-key');
    const wrong = 'not-the-key-0123456789abcdef';
    const added = await dns(['zone', 'add', ZONE, '--provider', 'powerdns', '--api-url', pdns.apiUrl, '--api-key', wrong, '--nameserver', pdns.dnsAddress], { dataDir });
    assert.equal(added.code, 0, added.stderr);
    const result = await dns(['issue', '-d', `badkey.${ZONE}`, '--challenge', 'dns-01'], { dataDir });
    assert.equal(result.code, 1);
    const line = oneLine(result.stderr);
    assert.match(line, /API key/);
    assert.match(line, /--api-key/);
    assert.ok(line.includes(pdns.apiUrl), line);
    assert.ok(!line.includes(wrong), 'the wrong key is not printed');
    assert.ok(!line.includes(pdns.apiKey), 'the real key is not printed');
    assert.deepEqual(await txtAt(pdns.dnsAddress, `_acme-challenge.badkey.${ZONE}`), []);
  });
});
