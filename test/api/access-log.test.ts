// One log line per request: answered requests at debug, refused keys and server errors at info; never the key's secret.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { type ApiFixture, apiFixture } from './fixture.ts';

describe('access log', () => {
  let api: ApiFixture;
  before(async () => {
    api = await apiFixture();
  });
  after(() => api.close());

  async function logOf(level: 'info' | 'debug', requests: { url: string; key?: string }[]): Promise<Record<string, unknown>[]> {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    const app = await api.appWith({ logger: { level, stream } });
    for (const { url, key } of requests) await app.inject({ method: 'GET', url, headers: key ? { authorization: `Bearer ${key}` } : {} });
    const entries = lines.map((line) => JSON.parse(line));
    assert.deepEqual(entries.filter((entry) => entry.msg !== 'request'), [], "Fastify's own lines per request are off");
    return entries;
  }

  test('at info: only refused keys, one line each, without the secret', async () => {
    const forged = `${api.a.readKey.slice(0, 15)}.${'x'.repeat(43)}`;
    const entries = await logOf('info', [{ url: '/api/v1/certificates', key: api.a.readKey }, { url: '/api/v1/zones', key: forged }, { url: '/healthz' }]);
    assert.equal(entries.length, 1);
    assert.deepEqual({ ...entries[0], time: 0, pid: 0, hostname: '', reqId: '', responseTimeMs: 0 }, {
      level: 30,
      time: 0,
      pid: 0,
      hostname: '',
      reqId: '',
      method: 'GET',
      url: '/api/v1/zones',
      statusCode: 401,
      responseTimeMs: 0,
      ip: '127.0.0.1',
      msg: 'request',
    });
    assert.ok(!JSON.stringify(entries).includes('x'.repeat(43)));
  });

  test('at debug: every request, with the prefix of the key that made it', async () => {
    const entries = await logOf('debug', [{ url: '/api/v1/certificates', key: api.a.readKey }, { url: '/healthz' }]);
    assert.deepEqual(
      entries.map((e) => [e.url, e.statusCode, e.key]),
      [
        ['/api/v1/certificates', 200, api.a.readKey.slice(0, 15)],
        ['/healthz', 200, undefined],
      ],
    );
    assert.ok(!JSON.stringify(entries).includes(api.a.readKey.split('.')[1]));
  });
});
