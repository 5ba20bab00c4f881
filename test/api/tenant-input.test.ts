// What a tenant's API key may not hand the server (issue 9): a command to run, a
// listen address, a URL or DNS server on an address the operator did not allow,
// numbers that are not finite, bodies nested without end. Each refusal is a 400
// that names the field and the fix, and nothing is stored.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { TenantLimits } from '../../src/outbound/tenant-limits.ts';
import { type ApiFixture, apiFixture } from './fixture.ts';

describe('tenant input the server refuses', () => {
  let api: ApiFixture;
  before(async () => {
    api = await apiFixture();
  });
  after(() => api.close());

  /** Runs `check` with the server's limits as a `certkeep serve` with these options would set them. */
  async function withLimits(limits: TenantLimits, check: () => Promise<void>): Promise<void> {
    const previous = api.ctx.limits;
    api.ctx.limits = limits;
    try {
      await check();
    } finally {
      api.ctx.limits = previous;
    }
  }

  const post = (url: string, payload: object, key = api.a.adminKey) => api.request({ method: 'POST', url, key, payload });

  function assertRefused(response: { statusCode: number; json(): { detail: string; errors?: { field: string }[] } }, field: string, detail: RegExp) {
    assert.equal(response.statusCode, 400, JSON.stringify(response.json()));
    assert.equal(response.json().errors?.[0]?.field, field);
    assert.match(response.json().detail, detail);
  }

  async function zoneNames(): Promise<string[]> {
    const listed = await api.request({ method: 'GET', url: '/api/v1/zones', key: api.a.readKey });
    return listed.json().zones.map((z: { zone: string }) => z.zone);
  }

  test('exec: only a command the operator allowed, and never a timeout of the tenant’s choosing', async () => {
    await withLimits(new TenantLimits({ allowExec: ['/usr/local/bin/dns-hook'] }), async () => {
      const exec = (settings: Record<string, string>, zone: string) => post('/api/v1/zones', { zone, provider: 'exec', settings });
      assertRefused(await exec({ command: '/bin/ls' }, 'ls.example'), 'settings.command', /--allow-exec PATH.*"\/bin\/ls" is not one of them.*rfc2136, powerdns or delegated/);
      assertRefused(await exec({ command: 'dns-hook' }, 'path.example'), 'settings.command', /not one of them/);
      assertRefused(await exec({ command: '/usr/local/bin/dns-hook', timeout: '5' }, 'timeout.example'), 'settings.timeout', /operator's choice; leave timeout out/);
      assert.equal((await exec({ command: '/usr/local/bin/dns-hook' }, 'hook.example')).statusCode, 201);
      assert.deepEqual(await zoneNames(), ['a.example', 'hook.example']);
    });
    await withLimits(new TenantLimits(), async () => {
      assertRefused(await post('/api/v1/zones', { zone: 'none.example', provider: 'exec', settings: { command: '/usr/local/bin/dns-hook' } }), 'settings.command', /--allow-exec/);
    });
  });

  test('delegated: the listen address is the operator’s', async () => {
    const body = { zone: 'delegated.example', provider: 'delegated', settings: { delegationZone: 'acme.example.net', listen: '127.0.0.1:18053' } };
    assertRefused(await post('/api/v1/zones', body), 'settings.listen', /certkeep serve --dns-listen/);
    assert.ok(!(await zoneNames()).includes('delegated.example'));
  });

  test('PowerDNS and RFC 2136: a URL, on an allowed address; credentials in the URL are never shown', async () => {
    await withLimits(new TenantLimits(), async () => {
      const pdns = (apiUrl: string, zone: string) => post('/api/v1/zones', { zone, provider: 'powerdns', settings: { apiUrl, apiKey: 'k' } });
      assertRefused(await pdns('not a url', 'pdns1.example'), 'settings.apiUrl', /not an http:\/\/ or https:\/\/ URL/);
      assertRefused(await pdns('http://127.0.0.1:8081', 'pdns2.example'), 'settings.apiUrl', /127\.0\.0\.1 is not a public address.*--allow-outbound CIDR/);
      assertRefused(await pdns('http://[::ffff:127.0.0.1]:8081', 'pdns3.example'), 'settings.apiUrl', /not a public address/);
      const created = await pdns('https://admin:hunter2@pdns.invalid:8081', 'pdns4.example');
      assert.equal(created.statusCode, 201);
      const listed = await api.request({ method: 'GET', url: '/api/v1/zones', key: api.a.readKey });
      assert.ok(!created.body.includes('hunter2') && !listed.body.includes('hunter2') && !listed.body.includes('admin:'));
      assert.match(listed.body, /https:\/\/\(credentials hidden\)@pdns\.invalid:8081/);
      const rfc2136 = { zone: 'bind.example', provider: 'rfc2136', settings: { server: 'localhost:53' } };
      assertRefused(await post('/api/v1/zones', rfc2136), 'settings.server', /not a public address/);
      assertRefused(await post('/api/v1/zones', { ...rfc2136, settings: { server: 'ns.invalid:53' }, nameservers: ['127.0.0.53:53'] }), 'nameservers', /not a public address/);
    });
  });

  test('webhooks and CAs: loopback, private and mapped addresses are refused unless allowed', async () => {
    await withLimits(new TenantLimits(), async () => {
      for (const url of ['http://127.0.0.1:18099/', 'http://localhost:18099/', 'http://[::ffff:7f00:1]/', 'http://169.254.169.254/latest']) {
        assertRefused(await post('/api/v1/webhooks', { url }), 'url', /is not a public address.*--allow-outbound/);
      }
      assertRefused(await post('/api/v1/certificates', { names: ['www.a.example'], name: 'ca1', ca: 'http://127.0.0.1:14000/dir' }), 'ca', /not a public address/);
      assertRefused(
        await post('/api/v1/certificates', { names: ['www.a.example'], name: 'ca2', issuers: [{ ca: 'https://ca.invalid/dir' }, { ca: 'https://localhost/dir' }] }),
        'issuers.1.ca',
        /not a public address/,
      );
      const names = (await api.request({ method: 'GET', url: '/api/v1/certificates', key: api.a.readKey })).json().certificates.map((c: { name: string }) => c.name);
      assert.ok(!names.includes('ca1') && !names.includes('ca2'));
    });
    await withLimits(new TenantLimits({ allowOutbound: ['127.0.0.0/8'] }), async () => {
      assert.equal((await post('/api/v1/webhooks', { url: 'http://127.0.0.1:18099/' })).statusCode, 201);
    });
  });

  test('whole numbers must be finite and within their bounds → 400, never a 500', async () => {
    const urls = ['/api/v1/certificates', '/api/v1/events', `/api/v1/webhooks/${api.a.webhookId}/deliveries`];
    for (const url of urls) {
      for (const limit of ['Infinity', '1e309', '-Infinity', 'NaN', '0', '1001']) {
        const response = await api.request({ method: 'GET', url: `${url}?limit=${limit}`, key: api.a.readKey });
        assertRefused(response, 'limit', /^limit must be/);
      }
    }
    const before = await api.request({ method: 'GET', url: `/api/v1/webhooks/${api.a.webhookId}/deliveries?before=Infinity`, key: api.a.readKey });
    assertRefused(before, 'before', /finite|<=/);
  });

  test('a body nested too deep → 400 before the schema (an AutoDNS _search of 1,900 levels)', async () => {
    let filter: object = { key: 'name', value: 'x' };
    for (let depth = 0; depth < 1_900; depth++) filter = { filters: [filter] };
    const search = await api.request({
      method: 'POST',
      url: '/autodns/v1/certificate/_search',
      key: api.a.readKey,
      payload: { filters: [filter] },
    });
    assert.equal(search.statusCode, 400, search.body);
    assert.match(search.body, /nested more than 32 levels deep; send a flatter document/);
    const native = await post('/api/v1/zones', JSON.parse(`${'{"zone":'.repeat(100)}1${'}'.repeat(100)}`));
    assert.equal(native.statusCode, 400);
    assert.match(native.json().detail, /nested more than 32 levels/);
  });

  test('the Bearer scheme in any case (RFC 7235 §2.1)', async () => {
    for (const scheme of ['bearer', 'BEARER', 'Bearer']) {
      const response = await api.request({ method: 'GET', url: '/api/v1/certificates', headers: { authorization: `${scheme} ${api.a.readKey}` } });
      assert.equal(response.statusCode, 200, scheme);
    }
  });

  test('with --debug, a download link is logged without its token', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const app = await api.appWith({ logger: { level: 'debug', stream } });
    const token = `${'a'.repeat(40)}.${'b'.repeat(43)}`;
    await app.inject({ method: 'GET', url: `/dl/${token}/www.a.example.pem` });
    const entry = lines.map((line) => JSON.parse(line)).find((e) => e.msg === 'request');
    assert.equal(entry?.url, '/dl/(token)/www.a.example.pem');
    assert.ok(!lines.join('').includes('a'.repeat(40)));
  });

  test('behind a trusted proxy, keyless requests count against the client X-Forwarded-For names', async () => {
    const limited = async (trustProxy: string[] | undefined) => {
      const app = await api.appWith({ rateLimit: { max: 1, windowMs: 60_000 }, trustProxy });
      const from = (client: string) => app.inject({ method: 'GET', url: '/api/openapi.json', headers: { 'x-forwarded-for': client } });
      return [(await from('203.0.113.1')).statusCode, (await from('203.0.113.2')).statusCode];
    };
    assert.deepEqual(await limited(['127.0.0.1/32']), [200, 200], 'two clients, one each');
    assert.deepEqual(await limited(undefined), [200, 429], 'off by default: both are the proxy');
  });
});
