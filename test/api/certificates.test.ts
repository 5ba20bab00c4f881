// GET /api/v1/certificates[/{name}]: the current version's serial and dates come with the certificate.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { certificateSummary } from '../../src/engine/views.ts';
import { newId } from '../../src/store/ids.ts';
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

  test("a certificate shows each target's standing on its current version, oldest target first", async () => {
    const rows = rowsFor(api.a.subscriptionId);
    const version = { ...rows.certificate_versions, order_id: null };
    await insertCertificate(api.store.db, certificateRecord({ ...rows.certificates, name: 'deployed.a.example', current_version_id: version.id }));
    await insertVersion(api.store.db, version);
    const local = { ...rows.deploy_targets, created_at: Date.UTC(2030, 0, 1) };
    const viaAgent = { ...local, id: newId('dpt'), agent_id: api.a.agentId, host: null, directory: '/srv/deployed/tls', created_at: Date.UTC(2030, 0, 2) };
    const notTried = { ...local, id: newId('dpt'), directory: '/srv/not-tried/tls', created_at: Date.UTC(2030, 0, 3) };
    await api.store.db.insertInto('deploy_targets').values([viaAgent, notTried, local]).execute();
    await api.store.db
      .insertInto('deployments')
      .values([rows.deployments, { ...rows.deployments, id: newId('dpl'), target_id: viaAgent.id, status: 'deployed', error: null, verified_at: Date.UTC(2030, 0, 4) }])
      .execute();
    const one = await api.request({ method: 'GET', url: '/api/v1/certificates/Deployed.A.Example.', key: api.a.readKey });
    assert.equal(one.statusCode, 200);
    assert.deepEqual(one.json().deployments, [
      { agent: null, host: local.host, target: local.id, directory: local.directory, serial: '03a1b2c3d4', status: 'failed', verifiedAt: '2100-01-01T00:00:00Z', error: rows.deployments.error },
      { agent: api.a.agentId, host: 'web.a.example', target: viaAgent.id, directory: '/srv/deployed/tls', serial: '03a1b2c3d4', status: 'deployed', verifiedAt: '2030-01-04T00:00:00Z', error: null },
      { agent: null, host: local.host, target: notTried.id, directory: '/srv/not-tried/tls', serial: '03a1b2c3d4', status: 'pending', verifiedAt: null, error: null },
    ]);
    const missing = await api.request({ method: 'GET', url: '/api/v1/certificates/missing.a.example', key: api.a.readKey });
    assert.equal(missing.statusCode, 404);
    assert.match(missing.json().detail, /no certificate named "missing\.a\.example" in this subscription/);
  });
});
