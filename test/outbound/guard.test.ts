// Where the server may connect for a tenant: public addresses, and the ranges
// the operator allowed — checked on the address a connection is opened to, and
// failures told the same way whatever they were.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { AcmeClient } from '../../src/acme/index.ts';
import { TenantLimits } from '../../src/outbound/tenant-limits.ts';
import { guardedAgent } from '../../src/outbound/connector.ts';
import { OutboundPolicy, parseCidr } from '../../src/outbound/policy.ts';

describe('outbound policy', () => {
  test('public addresses only, unless a range is allowed', () => {
    const policy = new OutboundPolicy();
    for (const address of ['93.184.216.34', '1.1.1.1', '2606:4700:4700::1111']) assert.ok(policy.allows(address), address);
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '255.255.255.255',
      '::1',
      '::',
      'fe80::1',
      'fd00::1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '64:ff9b::a9fe:a9fe',
      '[::1]',
    ]) {
      assert.ok(!policy.allows(address), address);
    }
    const allowing = new OutboundPolicy(['127.0.0.0/8', 'fd00::/8']);
    assert.ok(allowing.allows('127.0.0.2') && allowing.allows('::ffff:127.0.0.1') && allowing.allows('fd00::5'));
    assert.ok(!allowing.allows('10.0.0.1'));
  });

  test('ranges are CIDR or single addresses; anything else is refused with an example', () => {
    assert.deepEqual(parseCidr('10.0.0.0/8'), { network: '10.0.0.0', prefix: 8 });
    assert.deepEqual(parseCidr('::1'), { network: '::1', prefix: 128 });
    for (const bad of ['10.0.0.0/33', 'example.com/8', '10.0.0.0/x', '']) assert.throws(() => parseCidr(bad), /CIDR, e\.g\. 10\.0\.0\.0\/8/);
  });

  test('a name is resolved and judged by its addresses; one that does not resolve passes the early check', async () => {
    const policy = new OutboundPolicy();
    await assert.rejects(policy.resolve('localhost'), /localhost \((127\.0\.0\.1|::1)\) is not a public address.*--allow-outbound/);
    await assert.rejects(policy.check('localhost'), /not a public address/);
    await policy.check('hooks.invalid');
    assert.equal((await new OutboundPolicy(['127.0.0.0/8', '::1']).resolve('localhost')).family > 0, true);
  });
});

describe('guarded connections', () => {
  let server: Server;
  let port: number;
  let connections = 0;
  before(async () => {
    server = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('a refused address is never connected to, by address or by name', async () => {
    const agent = guardedAgent(new OutboundPolicy(), { connectTimeoutMs: 2_000 });
    try {
      for (const url of [`http://127.0.0.1:${port}/`, `http://localhost:${port}/`]) {
        await assert.rejects(request(url, { dispatcher: agent }), /is not a public address/);
      }
      assert.equal(connections, 0);
    } finally {
      await agent.close();
    }
  });

  test("a tenant's CA: refused, unknown, TLS and silent servers all read the same; only the URL differs", async () => {
    const limits = new TenantLimits({ allowOutbound: ['127.0.0.0/8'] });
    const silent = createServer(() => {}); // accepts, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const urls = {
      refused: `https://127.0.0.1:${closedPort}/directory`,
      unknown: 'https://ca.invalid/directory',
      tls: `https://127.0.0.1:${port}/directory`, // hangs up in the handshake
      silent: `http://127.0.0.1:${(silent.address() as { port: number }).port}/directory`,
    };
    try {
      const messages: string[] = [];
      for (const url of Object.values(urls)) {
        const client = new AcmeClient({
          directoryUrl: url,
          accountKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
          ...limits.acmeOptions(url),
          requestTimeoutMs: 500,
        });
        try {
          const error = await client.directory().then(
            () => undefined,
            (e: Error) => e,
          );
          assert.ok(error, url);
          messages.push(error.message.replace(url, 'URL'));
        } finally {
          await client.close();
        }
      }
      assert.equal(new Set(messages).size, 1, messages.join('\n'));
      assert.match(messages[0], /could not reach the ACME CA at URL: no connection, no answer in time, or a TLS failure/);
      assert.doesNotMatch(messages[0], /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|socket|TLS_|ETIMEDOUT/);
    } finally {
      silent.close();
    }
  });

  test("the operator's CA is not limited", () => {
    const limits = new TenantLimits({ operatorCaUrls: ['https://127.0.0.1:14000/dir'] });
    assert.deepEqual(limits.acmeOptions('https://127.0.0.1:14000/dir'), {});
    assert.ok(limits.acmeOptions('https://127.0.0.1:14001/dir').guard);
  });
});
