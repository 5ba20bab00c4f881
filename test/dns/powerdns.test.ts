import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { createPowerDnsProvider, powerdnsProvider } from '../../src/dns/providers/powerdns/powerdns.ts';
import { type PowerDns, startPowerDns } from '../rig/powerdns.ts';
import { freePort } from '../../src/rig/ports.ts';

const run = promisify(execFile);

describe('powerdns DNS provider against pdns_server', () => {
  let pdns: PowerDns;
  before(async () => {
    pdns = await startPowerDns({ zones: ['example.test', 'other.test'] });
  });
  after(() => pdns?.stop());

  async function digTxt(name: string): Promise<string[]> {
    const [host, port] = pdns.dnsAddress.split(':');
    const { stdout } = await run('dig', [
      `@${host}`,
      '-p',
      port,
      '+short',
      '+tries=1',
      '+time=2',
      'TXT',
      name,
    ]);
    return stdout.trim().split('\n').filter(Boolean).sort();
  }

  function provider(settings: Record<string, string> = {}, zone = 'example.test') {
    return powerdnsProvider.create({
      zone,
      settings: { apiUrl: pdns.apiUrl, apiKey: pdns.apiKey, ...settings },
    });
  }

  test('the rig serves its zones with the apex and wildcard at 127.0.0.1', async () => {
    const [host, port] = pdns.dnsAddress.split(':');
    const { stdout } = await run('dig', [`@${host}`, '-p', port, '+short', 'A', 'anything.other.test']);
    assert.equal(stdout.trim(), '127.0.0.1');
  });

  test('present keeps both values at one name; cleanup removes one, then the RRset', async () => {
    const dns = provider();
    const fqdn = '_acme-challenge.example.test';
    // Apex and wildcard present at the same time: neither value may be lost.
    await Promise.all([
      dns.present({ fqdn, value: 'apex-value' }),
      dns.present({ fqdn, value: 'wildcard-value' }),
    ]);
    await dns.present({ fqdn, value: 'apex-value' }); // again: no duplicate
    assert.deepEqual(await digTxt(fqdn), ['"apex-value"', '"wildcard-value"']);

    await dns.cleanup({ fqdn, value: 'apex-value' });
    assert.deepEqual(await digTxt(fqdn), ['"wildcard-value"']);
    await dns.cleanup({ fqdn, value: 'apex-value' }); // already gone: fine

    await dns.cleanup({ fqdn: `${fqdn}.`, value: 'wildcard-value' });
    assert.deepEqual(await digTxt(fqdn), []);
    const zone = await fetch(`${pdns.apiUrl}/api/v1/servers/localhost/zones/example.test.`, {
      headers: { 'X-API-Key': pdns.apiKey },
    }).then((r) => r.json() as Promise<{ rrsets: { name: string; type: string }[] }>);
    assert.ok(!zone.rrsets.some((r) => r.type === 'TXT'), 'the empty TXT RRset is deleted');
  });

  test('keeps TXT values it did not write, and accepts an apiUrl ending in /api/v1', async () => {
    const fqdn = '_acme-challenge.www.other.test';
    await fetch(`${pdns.apiUrl}/api/v1/servers/localhost/zones/other.test.`, {
      method: 'PATCH',
      headers: { 'X-API-Key': pdns.apiKey },
      body: JSON.stringify({
        rrsets: [
          {
            name: `${fqdn}.`,
            type: 'TXT',
            ttl: 300,
            changetype: 'REPLACE',
            records: [{ content: '"someone else"', disabled: false }],
          },
        ],
      }),
    });
    const dns = provider({ apiUrl: `${pdns.apiUrl}/api/v1/` }, 'other.test');
    await dns.present({ fqdn, value: 'ours' });
    assert.deepEqual(await digTxt(fqdn), ['"ours"', '"someone else"']);
    await dns.cleanup({ fqdn, value: 'ours' });
    assert.deepEqual(await digTxt(fqdn), ['"someone else"']);
  });

  test('a wrong API key is named, and the key is not echoed', async () => {
    await assert.rejects(
      provider({ apiKey: 'wrong-key-123' }).present({ fqdn: '_acme-challenge.example.test', value: 'v' }),
      (error: Error) => {
        assert.match(
          error.message,
          /PowerDNS API at http:\/\/127\.0\.0\.1:\d+ rejected the API key .*check --api-key/,
        );
        assert.ok(!error.message.includes('wrong-key-123'));
        return true;
      },
    );
  });

  test('a zone PowerDNS does not hold is named', async () => {
    await assert.rejects(
      provider({}, 'missing.test').present({ fqdn: '_acme-challenge.missing.test', value: 'v' }),
      /zone missing\.test does not exist on PowerDNS at http:\/\/127\.0\.0\.1:\d+ .*HTTP 404/,
    );
  });

  test('a name outside the zone is refused before any request', async () => {
    await assert.rejects(
      provider().present({ fqdn: '_acme-challenge.example.com', value: 'v' }),
      /_acme-challenge\.example\.com is not inside the zone example\.test/,
    );
  });
});

describe('powerdns DNS provider without a server', () => {
  test('an unreachable API is named with the reason', async () => {
    const apiUrl = `http://127.0.0.1:${await freePort()}`;
    const dns = createPowerDnsProvider({ apiUrl, apiKey: 'k', zone: 'example.test' });
    await assert.rejects(
      dns.present({ fqdn: '_acme-challenge.example.test', value: 'v' }),
      new RegExp(`cannot reach PowerDNS API at ${apiUrl.replaceAll('.', '\\.')} \\(ECONNREFUSED\\)`),
    );
  });

  test('the rig names a pdns_server it cannot run, and stop() ends the server', async () => {
    await assert.rejects(
      startPowerDns({ binary: '/nonexistent/pdns_server' }),
      /could not run \/nonexistent\/pdns_server/,
    );
    const rig = await startPowerDns({ zones: [] });
    await rig.stop();
    await assert.rejects(fetch(`${rig.apiUrl}/api/v1/servers/localhost`), /fetch failed/);
  });

  test('the definition requires apiUrl and apiKey and marks the key secret', () => {
    assert.deepEqual(Object.keys(powerdnsProvider.required).sort(), ['apiKey', 'apiUrl']);
    assert.deepEqual(powerdnsProvider.secrets, ['apiKey']);
    assert.throws(
      () => powerdnsProvider.create({ zone: 'example.test', settings: { apiUrl: 'http://127.0.0.1:1' } }),
      /needs the setting apiKey/,
    );
  });
});
