import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  challengeRecordName,
  findAuthoritativeServers,
  findZoneApex,
  PropagationTimeoutError,
  resolveChallengeName,
  waitForTxt,
} from '../../src/dns/propagation.ts';
import type { DnsProvider } from '../../src/dns/provider.ts';
import { createRfc2136Provider } from '../../src/dns/providers/rfc2136/rfc2136.ts';
import { type Bind, startBind } from '../../src/rig/bind.ts';
import { startSilentServer } from './silent-server.ts';

function uniqueName(): string {
  return `_acme-challenge.${randomBytes(5).toString('hex')}.example.test`;
}

function providerFor(bind: Bind): DnsProvider {
  return createRfc2136Provider({
    zone: 'example.test',
    settings: { server: bind.address, tsigKey: bind.tsig.name, tsigSecret: bind.tsig.secret },
  });
}

describe('waitForTxt', () => {
  let bind: Bind;
  let secondary: Bind; // a second server of the same zone that never gets the record
  let provider: DnsProvider;
  before(async () => {
    [bind, secondary] = await Promise.all([startBind(), startBind()]);
    provider = providerFor(bind);
  });
  after(() => Promise.all([bind?.stop(), secondary?.stop()]));

  test('resolves once the server serves the value', async () => {
    const name = uniqueName();
    await provider.present({ fqdn: name, value: 'present-first' });
    const { elapsedMs } = await waitForTxt(name, 'present-first', {
      nameservers: [bind.address],
      timeoutMs: 5000,
    });
    assert.ok(elapsedMs >= 0);
  });

  test('keeps polling until a value written later appears', async () => {
    const name = uniqueName();
    const waiting = waitForTxt(name, 'written-later', { nameservers: [bind.address], timeoutMs: 10_000 });
    await provider.present({ fqdn: name, value: 'other-value' });
    await provider.present({ fqdn: name, value: 'written-later' });
    await waiting;
  });

  test('times out naming only the servers that never saw the value, with their last answer', async () => {
    const name = uniqueName();
    await provider.present({ fqdn: name, value: 'only-on-primary' });
    const waiting = waitForTxt(name, 'only-on-primary', {
      nameservers: [bind.address, secondary.address],
      timeoutMs: 300,
    });
    await assert.rejects(waiting, (error: Error) => {
      assert.ok(error instanceof PropagationTimeoutError);
      assert.deepEqual(
        error.pending.map((entry) => entry.server),
        [secondary.address],
      );
      assert.ok(error.message.includes(secondary.address), error.message);
      assert.ok(!error.message.includes(`${bind.address} (`), error.message);
      assert.match(error.message, /1 of 2 nameservers/);
      assert.match(error.message, /answered with no TXT record/);
      assert.ok(error.message.includes(name), error.message);
      return true;
    });
  });

  test('a server that never answers is named with its timeout', async (t) => {
    const silent = await startSilentServer();
    t.after(() => silent.stop());
    await assert.rejects(
      waitForTxt(uniqueName(), 'x', { nameservers: [silent.address], timeoutMs: 200 }),
      (error: Error) => {
        assert.ok(error instanceof PropagationTimeoutError);
        assert.ok(error.message.includes(silent.address), error.message);
        assert.match(error.message, /timed out/);
        return true;
      },
    );
  });

  test('stops when its signal aborts', async () => {
    const controller = new AbortController();
    const waiting = waitForTxt(uniqueName(), 'never', {
      nameservers: [bind.address],
      timeoutMs: 60_000,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(new Error('certificate order cancelled')), 50);
    await assert.rejects(waiting, /certificate order cancelled/);
  });

  test("without nameservers, asks the zone's authoritative servers found through the resolvers", async () => {
    // NS ns1.example.test → 127.0.0.1 port 53, where no test server listens: the error proves which server was asked.
    await assert.rejects(
      waitForTxt(uniqueName(), 'x', { resolvers: [bind.address], timeoutMs: 200 }),
      /127\.0\.0\.1:53 \(/,
    );
  });
});

describe('finding the zone and its servers', () => {
  let bind: Bind;
  before(async () => {
    bind = await startBind({ zones: ['example.test', 'sub.example.test'] });
  });
  after(() => bind?.stop());

  test('the zone apex of a name is found by SOA', async () => {
    const opts = { resolvers: [bind.address] };
    assert.equal(await findZoneApex('_acme-challenge.foo.example.test', opts), 'example.test');
    assert.equal(await findZoneApex('example.test', opts), 'example.test');
    assert.equal(await findZoneApex('_acme-challenge.www.sub.example.test', opts), 'sub.example.test');
  });

  test("authoritative servers come from NS and the nameservers' addresses", async () => {
    assert.deepEqual(await findAuthoritativeServers('foo.example.test', { resolvers: [bind.address] }), [
      '127.0.0.1:53',
    ]);
  });

  test("a name no resolver can place fails with the resolver's answer", async () => {
    await assert.rejects(findZoneApex('www.example.org', { resolvers: [bind.address] }), /REFUSED/);
  });
});

describe('resolveChallengeName', () => {
  let target: Bind;
  let bind: Bind;
  before(async () => {
    target = await startBind({ zones: ['delegated.test'] });
    bind = await startBind({
      forwardZones: [{ zone: 'delegated.test', server: target.address }],
      extraRecords: [
        '_acme-challenge.foo IN CNAME target.example.test.',
        '_acme-challenge.two IN CNAME hop.example.test.',
        'hop IN CNAME final.example.test.',
        '_acme-challenge.loop IN CNAME loop2.example.test.',
        'loop2 IN CNAME _acme-challenge.loop.example.test.',
        '_acme-challenge.away IN CNAME x.delegated.test.',
      ],
    });
  });
  after(() => Promise.all([bind?.stop(), target?.stop()]));

  test('without a CNAME the record goes at _acme-challenge.<name>', async () => {
    const opts = { nameservers: [bind.address] };
    assert.equal(await resolveChallengeName('bar.example.test', opts), '_acme-challenge.bar.example.test');
    assert.equal(await resolveChallengeName('*.example.test', opts), '_acme-challenge.example.test');
    assert.equal(challengeRecordName('_acme-challenge.x.test'), '_acme-challenge.x.test');
  });

  test('follows a CNAME and a chain of them', async () => {
    const opts = { nameservers: [bind.address] };
    assert.equal(await resolveChallengeName('foo.example.test', opts), 'target.example.test');
    assert.equal(await resolveChallengeName('*.foo.example.test', opts), 'target.example.test');
    assert.equal(await resolveChallengeName('two.example.test', opts), 'final.example.test');
  });

  test('a CNAME loop is an error that shows the loop', async () => {
    await assert.rejects(
      resolveChallengeName('loop.example.test', { nameservers: [bind.address] }),
      /CNAME loop at _acme-challenge\.loop\.example\.test/,
    );
  });

  test('a hop the nameservers do not serve is asked of the resolvers', async () => {
    // target serves only delegated.test (REFUSED for example.test); bind answers the first hop.
    const name = await resolveChallengeName('away.example.test', {
      nameservers: [target.address],
      resolvers: [bind.address],
    });
    assert.equal(name, 'x.delegated.test');
    await assert.rejects(
      resolveChallengeName('away.example.test', { nameservers: [target.address], resolvers: [] }),
      (error: Error) => error.message.includes(`${target.address} answered REFUSED`),
    );
  });

  test('a CNAME into another zone is followed, and the value written there is seen', async () => {
    const name = await resolveChallengeName('away.example.test', { resolvers: [bind.address] });
    assert.equal(name, 'x.delegated.test');
    const provider = createRfc2136Provider({
      zone: 'delegated.test',
      settings: { server: target.address, tsigKey: target.tsig.name, tsigSecret: target.tsig.secret },
    });
    await provider.present({ fqdn: name, value: 'delegated-value' });
    await waitForTxt(name, 'delegated-value', { nameservers: [target.address], timeoutMs: 5000 });
  });
});
