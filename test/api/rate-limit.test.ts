// The rate limit: per verified API key, else per client address; 429 problem
// documents with Retry-After; health checks exempt; configurable, also by env.
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { after, before, describe, test } from 'node:test';
import { buildApp } from '../../src/api/app.ts';
import { parseRateLimit } from '../../src/api/rate-limit.ts';
import { UsageError } from '../../src/errors.ts';
import { type ApiFixture, apiFixture } from './fixture.ts';

const LIMIT = { max: 3, windowMs: 60_000 };

describe('rate limit', () => {
  let api: ApiFixture;
  before(async () => {
    api = await apiFixture();
  });
  after(() => api.close());

  const get = (app: FastifyInstance, url: string, key?: string, remoteAddress = '192.0.2.1') =>
    app.inject({ method: 'GET', url, remoteAddress, headers: key ? { authorization: `Bearer ${key}` } : {} });

  test('each key has its own allowance; past it, a 429 problem document with Retry-After says when to retry', async () => {
    const app = await api.appWith({ rateLimit: LIMIT });
    for (let i = 0; i < LIMIT.max; i++) {
      const ok = await get(app, '/api/v1/certificates', api.a.writeKey);
      assert.equal(ok.statusCode, 200);
      assert.equal(ok.headers['x-ratelimit-remaining'], String(LIMIT.max - 1 - i));
    }
    const limited = await get(app, '/api/v1/certificates', api.a.writeKey);
    assert.equal(limited.statusCode, 429);
    assert.match(String(limited.headers['content-type']), /^application\/problem\+json/);
    const retryAfter = Number(limited.headers['retry-after']);
    assert.ok(retryAfter > 0 && retryAfter <= 60, `Retry-After: ${limited.headers['retry-after']}`);
    const body = limited.json();
    assert.equal(body.status, 429);
    assert.equal(body.title, 'Too Many Requests');
    assert.match(body.detail, new RegExp(`this API key \\(${api.a.writeKey.slice(0, 15)}\\) reached the limit of 3 requests per minute; retry in ${retryAfter} s \\(after \\d{4}-\\d\\d-\\d\\dT`));

    // Another key of the same subscription and another subscription's key are counted apart.
    assert.equal((await get(app, '/api/v1/certificates', api.a.readKey)).statusCode, 200);
    assert.equal((await get(app, '/api/v1/certificates', api.b.readKey)).statusCode, 200);
    // Even from the same address: keys, not addresses, are counted once a key is verified.
    assert.equal((await get(app, '/api/v1/zones', api.b.writeKey, '192.0.2.1')).statusCode, 200);
  });

  test("a made-up secret behind someone's key prefix counts against the sender's address, not that key", async () => {
    const app = await api.appWith({ rateLimit: LIMIT });
    const forged = `${api.a.writeKey.slice(0, 15)}.${'x'.repeat(43)}`;
    const statuses = [];
    for (let i = 0; i < LIMIT.max + 2; i++) statuses.push((await get(app, '/api/v1/certificates', forged, '198.51.100.7')).statusCode);
    assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
    const limited = await get(app, '/api/v1/certificates', undefined, '198.51.100.7');
    assert.equal(limited.statusCode, 429, 'no key at all: the same address bucket');
    assert.match(limited.json().detail, /without a valid API key from 198\.51\.100\.7/);
    assert.equal((await get(app, '/api/v1/certificates', api.a.writeKey, '198.51.100.7')).statusCode, 200, 'the real key is untouched');
    assert.equal((await get(app, '/api/v1/certificates', undefined, '198.51.100.8')).statusCode, 401, 'other addresses are untouched');
  });

  test('health checks are never limited', async () => {
    const app = await api.appWith({ rateLimit: { max: 1, windowMs: 60_000 } });
    for (let i = 0; i < 5; i++) {
      assert.equal((await get(app, '/healthz')).statusCode, 200);
      assert.equal((await get(app, '/readyz')).statusCode, 200);
    }
    assert.equal((await get(app, '/api/openapi.json')).statusCode, 200);
    assert.equal((await get(app, '/api/openapi.json')).statusCode, 429, 'the docs are public but limited by address');
  });

  test('rateLimit: false turns it off; absent, CERTKEEP_RATE_LIMIT decides', async () => {
    const off = await api.appWith({ rateLimit: false });
    for (let i = 0; i < 20; i++) assert.equal((await get(off, '/api/v1/certificates', api.a.readKey)).statusCode, 200);
    assert.equal((await get(off, '/api/v1/certificates', api.a.readKey)).headers['x-ratelimit-limit'], undefined);

    const saved = process.env.CERTKEEP_RATE_LIMIT;
    process.env.CERTKEEP_RATE_LIMIT = '2/min';
    let fromEnv: FastifyInstance | undefined;
    try {
      fromEnv = await buildApp({ engine: api.ctx });
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await get(fromEnv, '/api/v1/certificates', api.a.readKey)).statusCode);
      assert.deepEqual(statuses, [200, 200, 429]);
      process.env.CERTKEEP_RATE_LIMIT = 'lots';
      await assert.rejects(buildApp({ engine: api.ctx }), /CERTKEEP_RATE_LIMIT: "lots" is not a rate limit; use off or/);
    } finally {
      await fromEnv?.close();
      if (saved === undefined) delete process.env.CERTKEEP_RATE_LIMIT;
      else process.env.CERTKEEP_RATE_LIMIT = saved;
    }
  });

  test('parseRateLimit reads off and requests per second, minute or hour', () => {
    assert.equal(parseRateLimit('off'), false);
    assert.deepEqual(parseRateLimit('600/min'), { max: 600, windowMs: 60_000 });
    assert.deepEqual(parseRateLimit(' 20 / s '), { max: 20, windowMs: 1000 });
    assert.deepEqual(parseRateLimit('10000/hour'), { max: 10_000, windowMs: 3_600_000 });
    for (const bad of ['0/min', '600', '600/day', '-1/s', 'ten/s']) {
      assert.throws(() => parseRateLimit(bad, '--rate-limit'), (error: unknown) => error instanceof UsageError && error.message.startsWith(`--rate-limit: "${bad}"`));
    }
  });
});
