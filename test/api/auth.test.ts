// Authentication through the API: a key revoked in this process is refused on its very next request.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createApiKey, revokeApiKey } from '../../src/engine/tenancy.ts';
import { type ApiFixture, apiFixture } from './fixture.ts';

describe('API authentication', () => {
  let api: ApiFixture;
  before(async () => {
    api = await apiFixture();
  });
  after(() => api.close());

  test('a key in use is refused at once after revocation', async () => {
    const key = await createApiKey(api.ctx, api.a.subscriptionId, 'read');
    for (let i = 0; i < 3; i++) assert.equal((await api.request({ method: 'GET', url: '/api/v1/certificates', key: key.apiKey })).statusCode, 200);
    await revokeApiKey(api.ctx, key.id);
    const refused = await api.request({ method: 'GET', url: '/api/v1/certificates', key: key.apiKey });
    assert.equal(refused.statusCode, 401);
    assert.match(refused.json().detail, /not valid/);
  });

  test('the key may come as Authorization: Bearer or as X-API-Key', async () => {
    const bearer = await api.request({ method: 'GET', url: '/api/v1/zones', key: api.a.readKey });
    const header = await api.request({ method: 'GET', url: '/api/v1/zones', headers: { 'x-api-key': api.a.readKey } });
    assert.equal(bearer.statusCode, 200);
    assert.equal(header.body, bearer.body);
  });
});
