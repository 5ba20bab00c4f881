import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { nameData, queryDns, txtValues } from '../../src/dns/query.ts';
import { createRfc2136Provider } from '../../src/dns/providers/rfc2136/rfc2136.ts';
import { type Bind, startBind } from '../../src/rig/bind.ts';
import { dig } from '../dns/dig.ts';
import { freePort } from '../../src/rig/ports.ts';

describe('BIND rig', () => {
  let bind: Bind;
  before(async () => {
    bind = await startBind({ zones: ['example.test', 'other.test'] });
  });
  after(() => bind?.stop());

  test('answers A 127.0.0.1 for the apex and any name, in every zone', async () => {
    const random = `${randomBytes(6).toString('hex')}.example.test`;
    for (const name of ['example.test', random, 'ns1.example.test', 'www.other.test']) {
      const response = await queryDns(bind.address, name, 'A');
      assert.equal(response.rcode, 'NOERROR', name);
      assert.equal(response.authoritative, true, name);
      assert.deepEqual(nameData(response.answers, 'A'), ['127.0.0.1'], name);
    }
    assert.deepEqual(await dig(bind.address, random, 'A'), ['127.0.0.1']);
  });

  test('serves an SOA and NS ns1.<zone>, and no other zone', async () => {
    assert.deepEqual(await dig(bind.address, 'example.test', 'NS'), ['ns1.example.test.']);
    const outside = await queryDns(bind.address, 'example.com', 'A');
    assert.equal(outside.rcode, 'REFUSED');
  });

  test('reports a TSIG key and an address', () => {
    assert.equal(bind.address, `127.0.0.1:${bind.port}`);
    assert.equal(bind.tsig.name, 'certkeep-test');
    assert.equal(bind.tsig.algorithm, 'hmac-sha256');
    assert.equal(Buffer.from(bind.tsig.secret, 'base64').length, 32);
    assert.deepEqual(bind.zones, ['example.test', 'other.test']);
  });
});

test('stop() ends named and frees its port', async () => {
  const bind = await startBind();
  await bind.stop();
  assert.throws(() => process.kill(bind.pid, 0), { code: 'ESRCH' });
  await assert.rejects(queryDns(bind.address, 'example.test', 'SOA', { timeoutMs: 200, udpAttempts: 1 }), {
    name: 'DnsTransportError',
  });
  await bind.stop(); // a second stop is harmless
});

test('extraRecords are served from the first zone', async (t) => {
  const bind = await startBind({ extraRecords: ['_acme-challenge.foo IN CNAME target.example.test.'] });
  t.after(() => bind.stop());
  assert.deepEqual(await dig(bind.address, '_acme-challenge.foo.example.test', 'CNAME'), [
    'target.example.test.',
  ]);
});

test("a broken zone line fails the start with named's own message", async () => {
  await assert.rejects(startBind({ extraRecords: ['this is not a record'] }), (error: Error) => {
    assert.match(error.message, /could not load a zone/);
    assert.match(error.message, /example\.test/);
    return true;
  });
});

test('names that would break the configuration are rejected before starting', async () => {
  await assert.rejects(startBind({ zones: ['bad"zone'] }), /invalid zone name "bad"zone"/);
});

describe('BIND rig with a forward zone', () => {
  let target: Bind;
  let bind: Bind;
  before(async () => {
    target = await startBind({ zones: ['delegated.test'], extraRecords: ['x IN TXT "token"'] });
    bind = await startBind({
      forwardZones: [{ zone: 'delegated.test', server: target.address }],
      extraRecords: [
        '_acme-challenge.foo IN CNAME x.delegated.test.',
        '_acme-challenge.bar IN CNAME y.delegated.test.',
      ],
    });
  });
  after(() => Promise.all([bind?.stop(), target?.stop()]));

  test('a CNAME into the forward zone is followed (as the CA resolves it)', async () => {
    const response = await queryDns(bind.address, '_acme-challenge.foo.example.test', 'TXT', {
      recursionDesired: true,
    });
    assert.equal(response.rcode, 'NOERROR');
    assert.deepEqual(nameData(response.answers, 'CNAME'), ['x.delegated.test']);
    assert.deepEqual(txtValues(response.answers, 'x.delegated.test'), ['token']);
    assert.deepEqual(await dig(bind.address, 'x.delegated.test', 'TXT'), ['token']);
  });

  test('nothing is cached: a record written right after a lookup is seen at once, and its removal too', async () => {
    const ask = async () => {
      const response = await queryDns(bind.address, '_acme-challenge.bar.example.test', 'TXT', {
        recursionDesired: true,
      });
      return txtValues(response.answers, 'y.delegated.test');
    };
    assert.deepEqual(await ask(), []);
    const provider = createRfc2136Provider({
      zone: 'delegated.test',
      settings: { server: target.address, tsigKey: target.tsig.name, tsigSecret: target.tsig.secret },
    });
    await provider.present({ fqdn: 'y.delegated.test', value: 'fresh' });
    assert.deepEqual(await ask(), ['fresh']);
    await provider.cleanup({ fqdn: 'y.delegated.test', value: 'fresh' });
    assert.deepEqual(await ask(), []);
  });

  test('signed updates sent to the rig address reach BIND', async () => {
    const provider = createRfc2136Provider({
      zone: 'example.test',
      settings: { server: bind.address, tsigKey: bind.tsig.name, tsigSecret: bind.tsig.secret },
    });
    await provider.present({ fqdn: '_acme-challenge.routed.example.test', value: 'through-the-router' });
    assert.deepEqual(await dig(bind.address, '_acme-challenge.routed.example.test', 'TXT'), [
      'through-the-router',
    ]);
  });
});

test('a forward zone whose server is down answers SERVFAIL', async (t) => {
  const bind = await startBind({
    forwardZones: [{ zone: 'down.test', server: `127.0.0.1:${await freePort()}` }],
  });
  t.after(() => bind.stop());
  const response = await queryDns(bind.address, 'x.down.test', 'TXT', { recursionDesired: true });
  assert.equal(response.rcode, 'SERVFAIL');
});
