import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { encode } from 'dns-packet';
import {
  type ChallengeValues,
  challengeRecordSource,
  createDelegatedProvider,
  delegatedProviderFor,
  delegationTarget,
} from '../../src/dns/providers/delegated/delegated.ts';
import { type DelegatedDnsServer, startDelegatedDnsServer } from '../../src/dns/providers/delegated/server.ts';

const run = promisify(execFile);
const ZONE = 'acme.certkeep.test';

/** dig's answer lines and status for one query. */
async function dig(server: DelegatedDnsServer, args: string[]) {
  const [host, port] = splitAddress(server.address);
  const { stdout } = await run('dig', [`@${host}`, '-p', port, '+tries=1', '+time=2', ...args]);
  const status = /status: (\w+)/.exec(stdout)?.[1];
  const flags = /flags: ([\w ]+);/.exec(stdout)?.[1].split(' ') ?? [];
  const section = (name: string) =>
    (new RegExp(`;; ${name} SECTION:\\n([\\s\\S]*?)(?:\\n\\n|$)`).exec(stdout)?.[1] ?? '')
      .split('\n')
      .filter((line) => line && !line.startsWith(';'));
  return { status, flags, answer: section('ANSWER'), authority: section('AUTHORITY'), raw: stdout };
}

function splitAddress(address: string): [string, string] {
  const at = address.lastIndexOf(':');
  return [address.slice(0, at), address.slice(at + 1)];
}

describe('delegated challenge DNS server', () => {
  const values: ChallengeValues = new Map();
  let server: DelegatedDnsServer;
  const target = delegationTarget('www.example.test', ZONE).target;

  before(async () => {
    server = await startDelegatedDnsServer({
      listen: '127.0.0.1:0',
      zone: ZONE,
      nameserver: 'ns1.certkeep.test',
      records: challengeRecordSource(values),
    });
    const provider = createDelegatedProvider(values, ZONE);
    await provider.present({ fqdn: '_acme-challenge.www.example.test', value: 'first-value' });
    await provider.present({ fqdn: '_acme-challenge.www.example.test', value: 'second-value' });
  });
  after(() => server.stop());

  for (const transport of ['+notcp', '+tcp']) {
    test(`answers TXT with both values, authoritatively, over ${transport.slice(1)}`, async () => {
      const result = await dig(server, [transport, 'TXT', target.toUpperCase()]);
      assert.equal(result.status, 'NOERROR');
      assert.ok(result.flags.includes('aa'), result.raw);
      assert.equal(result.answer.length, 2, result.raw);
      assert.match(result.answer.join('\n'), /"first-value"/);
      assert.match(result.answer.join('\n'), /"second-value"/);
    });
  }

  test('answers SOA and NS at the apex', async () => {
    const soa = await dig(server, ['SOA', ZONE]);
    assert.equal(soa.status, 'NOERROR');
    assert.match(soa.answer.join('\n'), /SOA\s+ns1\.certkeep\.test\. hostmaster\.acme\.certkeep\.test\./);
    const ns = await dig(server, ['+tcp', 'NS', `${ZONE}.`]);
    assert.match(ns.answer.join('\n'), /NS\s+ns1\.certkeep\.test\./);
  });

  test('NXDOMAIN for an unknown name under the zone, with the SOA in authority', async () => {
    const result = await dig(server, ['TXT', `nothing-here.${ZONE}`]);
    assert.equal(result.status, 'NXDOMAIN');
    assert.ok(result.flags.includes('aa'));
    assert.equal(result.answer.length, 0);
    assert.match(result.authority.join('\n'), /^acme\.certkeep\.test\.\s+1\s+IN\s+SOA/);
  });

  test('NODATA for another type at a name that has TXT', async () => {
    const result = await dig(server, ['A', target]);
    assert.equal(result.status, 'NOERROR');
    assert.equal(result.answer.length, 0);
    assert.match(result.authority.join('\n'), /SOA/);
  });

  test('REFUSED outside the zone, without the AA bit', async () => {
    const result = await dig(server, ['TXT', '_acme-challenge.example.com']);
    assert.equal(result.status, 'REFUSED');
    assert.ok(!result.flags.includes('aa'));
  });

  test('sets TC over UDP when the answer exceeds 512 bytes without EDNS, and TCP gives it all', async () => {
    const big = delegationTarget('big.example.test', ZONE).target;
    values.set(big, new Set(Array.from({ length: 12 }, (_, i) => `${i}`.padEnd(43, 'x'))));
    const udp = await dig(server, ['+noedns', '+notcp', '+ignore', 'TXT', big]);
    assert.ok(udp.flags.includes('tc'), udp.raw);
    assert.equal(udp.answer.length, 0);
    const tcp = await dig(server, ['+noedns', 'TXT', big]); // dig retries over TCP on TC
    assert.equal(tcp.answer.length, 12, tcp.raw);
  });

  test('ignores malformed packets over UDP and TCP and keeps answering', async () => {
    const [host, port] = splitAddress(server.address);
    await sendUdp(host, Number(port), Buffer.from('not a dns message at all'));
    await sendUdp(host, Number(port), Buffer.from([0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 63]));
    await sendUdp(
      host,
      Number(port),
      encode({ type: 'response', id: 7, questions: [{ type: 'TXT', name: ZONE }] }),
    );
    await sendTcp(host, Number(port), Buffer.from([0, 5, 1, 2, 3, 4, 5]));
    const result = await dig(server, ['+tcp', 'TXT', target]);
    assert.equal(result.answer.length, 2);
  });

  test('stop() releases the port', async () => {
    const other = await startDelegatedDnsServer({
      listen: '127.0.0.1:0',
      zone: ZONE,
      records: { txtValues: () => [] },
    });
    const [host, port] = splitAddress(other.address);
    await other.stop();
    const again = await startDelegatedDnsServer({
      listen: `${host}:${port}`,
      zone: ZONE,
      records: { txtValues: () => [] },
    });
    assert.equal(again.address, other.address);
    await again.stop();
  });

  test('a failing record source gives SERVFAIL, not a crash', async () => {
    const failing = await startDelegatedDnsServer({
      listen: '127.0.0.1:0',
      zone: ZONE,
      records: {
        txtValues: () => {
          throw new Error('store down');
        },
      },
    });
    try {
      assert.equal((await dig(failing, ['TXT', target])).status, 'SERVFAIL');
    } finally {
      await failing.stop();
    }
  });

  test('refuses a listen address that is not host:port, and a port in use', async () => {
    await assert.rejects(
      startDelegatedDnsServer({ listen: 'localhost', zone: ZONE, records: { txtValues: () => [] } }),
      /listen address "localhost" is not host:port/,
    );
    await assert.rejects(
      startDelegatedDnsServer({ listen: server.address, zone: ZONE, records: { txtValues: () => [] } }),
      /cannot listen on 127\.0\.0\.1:\d+ \(UDP, EADDRINUSE\)/,
    );
  });
});

describe('delegated provider', () => {
  test('delegationTarget is deterministic, DNS-safe and maps a wildcard to its base name', () => {
    const a = delegationTarget('WWW.Example.Test.', 'Acme.Certkeep.Test');
    assert.deepEqual(a, delegationTarget('www.example.test', 'acme.certkeep.test'));
    assert.match(a.target, /^[a-z2-7]{16}\.acme\.certkeep\.test$/);
    assert.equal(a.record, '_acme-challenge.www.example.test');
    assert.deepEqual(
      delegationTarget('*.www.example.test', ZONE),
      delegationTarget('www.example.test', ZONE),
    );
    assert.notEqual(
      delegationTarget('a.example.test', ZONE).target,
      delegationTarget('b.example.test', ZONE).target,
    );
  });

  test('present keeps other values; cleanup removes exactly one and forgets empty names', async () => {
    const values: ChallengeValues = new Map();
    const provider = delegatedProviderFor(values).create({
      zone: 'example.test',
      settings: { delegationZone: ZONE },
    });
    const fqdn = '_acme-challenge.example.test';
    const owner = delegationTarget('example.test', ZONE).target;
    await provider.present({ fqdn, value: 'apex' });
    await provider.present({ fqdn, value: 'wildcard' });
    assert.deepEqual([...(values.get(owner) ?? [])], ['apex', 'wildcard']);
    await provider.cleanup({ fqdn, value: 'apex' });
    await provider.cleanup({ fqdn, value: 'already-gone' });
    assert.deepEqual([...(values.get(owner) ?? [])], ['wildcard']);
    await provider.cleanup({ fqdn, value: 'wildcard' });
    assert.equal(values.has(owner), false);
  });

  test('explains a missing setting and a name it cannot map', async () => {
    const definition = delegatedProviderFor(new Map());
    assert.throws(
      () => definition.create({ zone: 'example.test', settings: {} }),
      /needs the setting delegationZone/,
    );
    const provider = definition.create({ zone: 'example.test', settings: { delegationZone: ZONE } });
    await assert.rejects(
      provider.present({ fqdn: 'www.example.test', value: 'v' }),
      /not an _acme-challenge name/,
    );
  });
});

function sendUdp(host: string, port: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.send(bytes, port, host, (error) => socket.close(() => (error ? reject(error) : resolve())));
  });
}

function sendTcp(host: string, port: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host, () => socket.end(bytes, () => resolve()));
    socket.on('error', reject);
  });
}
