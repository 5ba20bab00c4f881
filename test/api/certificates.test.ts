// GET /api/v1/certificates[/{name}]: the current version's serial and dates come with the certificate.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { certificateSummary } from '../../src/engine/views.ts';
import { findCertificate, insertCertificate, insertVersion } from '../../src/store/repositories/certificates.ts';
import { certificateRecord, rowsFor } from '../store/rows.ts';
import { type ApiFixture, apiFixture } from './fixture.ts';

describe('certificate summaries', () => {
  let api: ApiFixture;
  before(async () => {
    api = await apiFixture();
    const rows = rowsFor(api.a.subscriptionId);
    const version = { ...rows.certificate_versions, order_id: null, not_before: Date.UTC(2030, 0, 1), not_after: Date.UTC(2030, 3, 1) };
    await insertCertificate(api.store.db, certificateRecord({ ...rows.certificates, name: 'issued.a.example', current_version_id: version.id }));
    await insertVersion(api.store.db, version);
  });
  after(() => api.close());

  test('an issued certificate shows its serial and validity, the same as the CLI shows', async () => {
    const one = await api.request({ method: 'GET', url: '/api/v1/certificates/issued.a.example', key: api.a.readKey });
    assert.equal(one.statusCode, 200);
    assert.deepEqual(one.json(), {
      name: 'issued.a.example',
      state: 'valid',
      names: ['www.example.test'],
      serial: '03a1b2c3d4',
      notBefore: '2030-01-01T00:00:00Z',
      notAfter: '2030-04-01T00:00:00Z',
      nextRenewalAt: '2100-01-01T00:00:00Z',
      // Where it is deployed (issue 13): no target yet.
      deployments: [],
    });
    const row = await findCertificate(api.store.db, api.a.subscriptionId, 'issued.a.example');
    assert.ok(row);
    assert.deepEqual(one.json(), { ...(await certificateSummary(api.ctx, row)), deployments: [] });

    const list = await api.request({ method: 'GET', url: '/api/v1/certificates', key: api.a.readKey });
    assert.deepEqual(
      list.json().certificates.map((c: { name: string; serial: string | null }) => [c.name, c.serial]),
      [
        ['issued.a.example', '03a1b2c3d4'],
        [api.a.certificateName, null],
      ],
    );
  });
});
