import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { DnsProvider } from '../../src/dns/provider.ts';
import { queryDns, txtValues } from '../../src/dns/query.ts';
import { createRfc2136Provider, DnsUpdateError, rfc2136 } from '../../src/dns/providers/rfc2136/rfc2136.ts';
import { type Bind, startBind } from '../../src/rig/bind.ts';
import { freePort } from '../../src/rig/ports.ts';
import { dig } from './dig.ts';
import { startSilentServer } from './silent-server.ts';

const ZONE = 'example.test';

function uniqueName(): string {
  return `_acme-challenge.${randomBytes(5).toString('hex')}.${ZONE}`;
}

async function served(bind: Bind, name: string): Promise<string[]> {
  const response = await queryDns(bind.address, name, 'TXT');
  return txtValues(response.answers, name).sort();
}

async function txtTtl(bind: Bind, name: string): Promise<number | undefined> {
  const response = await queryDns(bind.address, name, 'TXT');
  const txt = response.answers.find((answer) => answer.type === 'TXT');
  return txt?.type === 'TXT' ? txt.ttl : undefined;
}

describe('rfc2136 provider against BIND', () => {
  let bind: Bind;
  let provider: DnsProvider;
  before(async () => {
    bind = await startBind();
    provider = createRfc2136Provider({
      zone: ZONE,
      settings: { server: bind.address, tsigKey: bind.tsig.name, tsigSecret: bind.tsig.secret },
    });
  });
  after(() => bind?.stop());

  test('presents two values at one name, then cleans up exactly one', async () => {
    const name = uniqueName();
    await provider.present({ fqdn: name, value: 'apex-value' });
    await provider.present({ fqdn: name, value: 'wildcard-value' });
    assert.deepEqual(await served(bind, name), ['apex-value', 'wildcard-value']);
    assert.deepEqual((await dig(bind.address, name, 'TXT')).sort(), ['apex-value', 'wildcard-value']);

    await provider.cleanup({ fqdn: name, value: 'apex-value' });
    assert.deepEqual(await served(bind, name), ['wildcard-value']);
    assert.deepEqual(await dig(bind.address, name, 'TXT'), ['wildcard-value']);
  });

  test('cleanup of a value that is not there is not an error', async () => {
    const name = uniqueName();
    await provider.present({ fqdn: name, value: 'kept' });
    await provider.cleanup({ fqdn: name, value: 'never-written' });
    await provider.cleanup({ fqdn: uniqueName(), value: 'nothing-at-this-name' });
    assert.deepEqual(await served(bind, name), ['kept']);
  });

  test('writes the record with the configured TTL (default 60 s)', async () => {
    const name = uniqueName();
    await provider.present({ fqdn: name, value: 'ttl-check' });
    assert.equal(await txtTtl(bind, name), 60);
    const short = createRfc2136Provider({
      zone: ZONE,
      settings: { server: bind.address, tsigKey: bind.tsig.name, tsigSecret: bind.tsig.secret, ttl: '5' },
    });
    const other = uniqueName();
    await short.present({ fqdn: other, value: 'short' });
    assert.equal(await txtTtl(bind, other), 5);
  });

  test('a long value (over 255 bytes) round-trips as one TXT value', async () => {
    const name = uniqueName();
    const value = 'v'.repeat(300);
    await provider.present({ fqdn: name, value });
    assert.deepEqual(await served(bind, name), [value]);
    await provider.cleanup({ fqdn: name, value });
    assert.deepEqual(await served(bind, name), []);
  });

  test('a wrong TSIG secret is refused with BADSIG, names the server, writes nothing', async () => {
    const name = uniqueName();
    const wrongSecret = randomBytes(32).toString('base64');
    const wrong = createRfc2136Provider({
      zone: ZONE,
      settings: { server: bind.address, tsigKey: bind.tsig.name, tsigSecret: wrongSecret },
    });
    await assert.rejects(wrong.present({ fqdn: name, value: 'forged' }), (error: Error) => {
      assert.ok(error instanceof DnsUpdateError);
      assert.match(error.message, /NOTAUTH \(TSIG BADSIG\)/);
      assert.ok(error.message.includes(bind.address), error.message);
      assert.ok(error.message.includes(name), error.message);
      assert.ok(!error.message.includes(wrongSecret), 'the secret must not appear in the message');
      return true;
    });
    assert.deepEqual(await served(bind, name), []);
  });

  test('an unknown key name is refused with BADKEY', async () => {
    const unknown = createRfc2136Provider({
      zone: ZONE,
      settings: { server: bind.address, tsigKey: 'no-such-key', tsigSecret: bind.tsig.secret },
    });
    await assert.rejects(unknown.present({ fqdn: uniqueName(), value: 'x' }), (error: Error) => {
      assert.ok(error instanceof DnsUpdateError);
      assert.equal(error.tsigError, 'BADKEY');
      assert.match(error.message, /TSIG BADKEY/);
      assert.match(error.message, /no-such-key/);
      return true;
    });
  });

  test('an unsigned update is refused by a zone that wants a key', async () => {
    const unsigned = createRfc2136Provider({ zone: ZONE, settings: { server: bind.address } });
    const name = uniqueName();
    await assert.rejects(unsigned.present({ fqdn: name, value: 'x' }), /was refused: REFUSED/);
    assert.deepEqual(await served(bind, name), []);
  });

  test('a zone the server does not serve is refused with NOTAUTH', async () => {
    const elsewhere = createRfc2136Provider({
      zone: 'example.org',
      settings: { server: bind.address, tsigKey: bind.tsig.name, tsigSecret: bind.tsig.secret },
    });
    await assert.rejects(
      elsewhere.present({ fqdn: '_acme-challenge.example.org', value: 'x' }),
      (error: Error) => {
        assert.ok(error instanceof DnsUpdateError);
        assert.equal(error.code, 'NOTAUTH');
        assert.match(error.message, /not authoritative for zone example\.org/);
        return true;
      },
    );
  });

  test('a name outside the zone is rejected before sending', async () => {
    await assert.rejects(
      provider.present({ fqdn: '_acme-challenge.example.org', value: 'x' }),
      /outside the zone example\.test|through zone example\.test/,
    );
  });
});

test('rfc2136 with an hmac-sha512 key', async (t) => {
  const tsig = {
    name: 'sha512-key',
    algorithm: 'hmac-sha512' as const,
    secret: randomBytes(64).toString('base64'),
  };
  const bind = await startBind({ tsig });
  t.after(() => bind.stop());
  const settings = {
    server: bind.address,
    tsigKey: tsig.name,
    tsigSecret: tsig.secret,
    tsigAlgorithm: 'hmac-sha512',
  };
  const provider = createRfc2136Provider({ zone: ZONE, settings });
  const name = uniqueName();
  await provider.present({ fqdn: name, value: 'signed-with-sha512' });
  assert.deepEqual(await served(bind, name), ['signed-with-sha512']);

  // The same key announced as hmac-sha256 is not the key BIND knows.
  const mismatched = createRfc2136Provider({
    zone: ZONE,
    settings: { ...settings, tsigAlgorithm: 'hmac-sha256' },
  });
  await assert.rejects(mismatched.present({ fqdn: name, value: 'x' }), /TSIG BAD(KEY|SIG)/);
});

test('a closed port fails fast, naming the server', async () => {
  const port = await freePort();
  const provider = createRfc2136Provider({
    zone: ZONE,
    settings: { server: `127.0.0.1:${port}`, tsigKey: 'k', tsigSecret: 'c2VjcmV0' },
  });
  await assert.rejects(provider.present({ fqdn: `_acme-challenge.${ZONE}`, value: 'x' }), (error: Error) => {
    assert.ok(error instanceof DnsUpdateError);
    assert.equal(error.code, 'UNREACHABLE');
    assert.ok(error.message.includes(`127.0.0.1:${port}`), error.message);
    assert.match(error.message, /connection refused/);
    return true;
  });
});

test('a server that never answers times out, naming the server, after retrying', async (t) => {
  const silent = await startSilentServer();
  t.after(() => silent.stop());
  const provider = createRfc2136Provider(
    { zone: ZONE, settings: { server: silent.address, tsigKey: 'k', tsigSecret: 'c2VjcmV0' } },
    { timeoutMs: 100 },
  );
  await assert.rejects(provider.cleanup({ fqdn: `_acme-challenge.${ZONE}`, value: 'x' }), (error: Error) => {
    assert.ok(error instanceof DnsUpdateError);
    assert.equal(error.code, 'TIMEOUT');
    assert.ok(error.message.includes(silent.address), error.message);
    assert.match(error.message, /2 UDP attempt\(s\) of 100 ms timed out/);
    return true;
  });
  assert.equal(silent.received(), 2);
});

describe('rfc2136 settings', () => {
  const create = (settings: Record<string, string>) => rfc2136.create({ zone: ZONE, settings });

  test('server is required', () => {
    assert.throws(() => create({}), /missing setting "server"/);
  });

  test('key name and secret come together', () => {
    assert.throws(() => create({ server: '127.0.0.1:53', tsigKey: 'k' }), /both "tsigKey" and "tsigSecret"/);
    assert.throws(() => create({ server: '127.0.0.1:53', tsigSecret: 'c2VjcmV0' }), /both/);
  });

  test('a secret that is not base64 is rejected without echoing it', () => {
    assert.throws(
      () => create({ server: '127.0.0.1:53', tsigKey: 'k', tsigSecret: 'not base64!' }),
      (error: Error) => /not base64/.test(error.message) && !error.message.includes('not base64!'),
    );
  });

  test('only hmac-sha256 and hmac-sha512 are accepted', () => {
    assert.throws(
      () =>
        create({ server: '127.0.0.1:53', tsigKey: 'k', tsigSecret: 'c2VjcmV0', tsigAlgorithm: 'hmac-md5' }),
      /must be hmac-sha256 or hmac-sha512/,
    );
  });

  test('bad server and ttl values are named', () => {
    assert.throws(() => create({ server: '127.0.0.1:99999' }), /port must be 1-65535/);
    assert.throws(() => create({ server: '127.0.0.1', ttl: '-1' }), /"ttl" must be whole seconds/);
  });

  test('the definition lists the secret setting', () => {
    assert.equal(rfc2136.name, 'rfc2136');
    assert.deepEqual(rfc2136.secrets, ['tsigSecret']);
    assert.ok('server' in rfc2136.required);
  });
});
