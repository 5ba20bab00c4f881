// Requests the API cannot take get a 4xx problem document that says what to change, never a 500.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type ApiFixture, apiFixture } from './fixture.ts';

describe('request limits', () => {
  let api: ApiFixture;
  before(async () => {
    api = await apiFixture();
  });
  after(() => api.close());

  const postZone = (payload: string, contentType?: string) =>
    api.request({
      method: 'POST',
      url: '/api/v1/zones',
      key: api.a.adminKey,
      headers: contentType ? { 'content-type': contentType } : {},
      payload,
    });

  function assertProblem(response: { statusCode: number; headers: Record<string, unknown>; json(): { status: number; detail: string } }, status: number, detail: RegExp) {
    assert.equal(response.statusCode, status);
    assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
    assert.equal(response.json().status, status);
    assert.match(response.json().detail, detail);
  }

  test('a body over the limit → 413 naming the limit', async () => {
    assertProblem(await postZone(JSON.stringify({ zone: 'x'.repeat(300 * 1024) }), 'application/json'), 413, /256 KiB/);
  });

  test('a body that is not JSON → 415, whatever the media type, text/plain included', async () => {
    for (const type of ['text/plain', 'application/xml', 'multipart/form-data; boundary=x']) {
      assertProblem(await postZone('zone=a.example', type), 415, new RegExp(`application/json.*${type.split(';')[0]}`));
    }
    assertProblem(await postZone('zone=a.example'), 415, /has none/);
  });

  test('malformed, empty or prototype-polluting JSON → 400', async () => {
    assertProblem(await postZone('{"zone":', 'application/json'), 400, /not valid JSON/);
    assertProblem(await postZone('', 'application/json'), 400, /empty/);
    assertProblem(await postZone('{"__proto__":{"admin":true}}', 'application/json'), 400, /__proto__/);
  });

  test('a bad percent-encoding → 400 problem document, an over-long path segment → 414', async () => {
    assertProblem(await api.request({ method: 'GET', url: '/api/v1/certificates/%E0%A4%A', key: api.a.readKey }), 400, /percent-encoding/);
    assertProblem(await api.request({ method: 'GET', url: `/api/v1/certificates/${'a'.repeat(400)}`, key: api.a.readKey }), 414, /too long/);
  });

  test('a domain name of 253 characters still reaches the route', async () => {
    const label = 'a'.repeat(63);
    const zone = `${label}.${label}.${label}.${'b'.repeat(53)}.example`;
    assert.equal(zone.length, 253);
    const response = await api.request({ method: 'DELETE', url: `/api/v1/zones/${zone}`, key: api.a.adminKey });
    assertProblem(response, 404, /not managed/);
  });
});
