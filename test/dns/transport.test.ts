import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { queryDns, txtValues } from '../../src/dns/query.ts';
import { formatServer, parseServer } from '../../src/dns/transport.ts';
import { type Bind, startBind } from '../../src/rig/bind.ts';
import { startSilentServer } from './silent-server.ts';

describe('queries', () => {
  let bind: Bind;
  const big = Array.from({ length: 12 }, (_, i) => `${i}-${'x'.repeat(200)}`);
  before(async () => {
    bind = await startBind({ extraRecords: big.map((value) => `big IN TXT "${value}"`) });
  });
  after(() => bind?.stop());

  test('an answer too big for UDP is fetched again over TCP', async () => {
    const response = await queryDns(bind.address, 'big.example.test', 'TXT');
    assert.equal(response.rcode, 'NOERROR');
    assert.deepEqual(txtValues(response.answers, 'big.example.test').sort(), [...big].sort());
  });

  test('a name without TXT answers NODATA with the zone SOA in authority (RFC 2308)', async () => {
    const response = await queryDns(bind.address, 'absent.example.test', 'TXT');
    assert.equal(response.rcode, 'NOERROR'); // the wildcard owns every name below the apex
    assert.deepEqual(response.answers, []);
    assert.equal(response.authorities[0]?.type, 'SOA');
    assert.equal(response.authorities[0]?.name, 'example.test');
  });
});

test('a silent server times out with a message naming it', async (t) => {
  const silent = await startSilentServer();
  t.after(() => silent.stop());
  await assert.rejects(
    queryDns(silent.address, 'example.test', 'A', { timeoutMs: 50, udpAttempts: 2 }),
    (error: Error) => {
      assert.equal(error.name, 'DnsTransportError');
      assert.ok(error.message.includes(silent.address), error.message);
      assert.match(error.message, /timed out/);
      return true;
    },
  );
  assert.equal(silent.received(), 2);
});

test('a server name that does not resolve is named in the error', async () => {
  await assert.rejects(queryDns('no-such-host.invalid:53', 'example.test', 'A', { timeoutMs: 300 }), {
    name: 'DnsTransportError',
    message: /cannot reach DNS server no-such-host\.invalid:53/,
  });
});

test('an aborted query stops at once with the abort reason', async (t) => {
  const silent = await startSilentServer();
  t.after(() => silent.stop());
  const controller = new AbortController();
  const query = queryDns(silent.address, 'example.test', 'A', {
    timeoutMs: 10_000,
    signal: controller.signal,
  });
  controller.abort(new Error('stopped by the test'));
  await assert.rejects(query, /stopped by the test/);
});

test('server addresses parse with a default port of 53', () => {
  assert.deepEqual(parseServer('ns1.example.test'), { host: 'ns1.example.test', port: 53 });
  assert.deepEqual(parseServer('127.0.0.1:5353'), { host: '127.0.0.1', port: 5353 });
  assert.deepEqual(parseServer('[::1]:5353'), { host: '::1', port: 5353 });
  assert.deepEqual(parseServer('2001:db8::1'), { host: '2001:db8::1', port: 53 });
  assert.equal(formatServer({ host: '::1', port: 53 }), '[::1]:53');
  assert.throws(() => parseServer('host:port'), /port must be 1-65535/);
  assert.throws(() => parseServer(''), /expected host:port/);
});
