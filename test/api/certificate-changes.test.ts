// PATCH /api/v1/certificates/{name}: a PFX password set after the certificate
// was created (the PFX download said to set one, and there was no way), removed
// again, and the CSR subject; what it refuses, and that it changes nothing else.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pfxPasswordAad } from '../../src/engine/files.ts';
import { versionKeyAad } from '../../src/engine/issuance.ts';
import { findCertificate, insertCertificate, insertVersion, makeVersionCurrent } from '../../src/store/repositories/certificates.ts';
import { makeTestPki, runOpenssl, type TestPki } from '../pki/openssl.ts';
import { tempDir } from '../rig/tmp.ts';
import { certificateRecord, rowsFor } from '../store/rows.ts';
import { type ApiFixture, apiFixture } from './fixture.ts';

const NAME = 'pfx-later.a.example';

describe('changing a certificate', () => {
  let api: ApiFixture;
  let pki: TestPki;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let certificateId: string;

  before(async () => {
    api = await apiFixture();
    dir = await tempDir();
    pki = await makeTestPki(dir.path);
    const rows = rowsFor(api.a.subscriptionId);
    certificateId = 'crt_pfx_later';
    const versionId = 'ver_pfx_later';
    await insertCertificate(api.store.db, certificateRecord({ ...rows.certificates, id: certificateId, name: NAME, state: 'valid', current_version_id: null, pfx_password_enc: null }));
    await insertVersion(api.store.db, {
      ...rows.certificate_versions,
      id: versionId,
      certificate_id: certificateId,
      order_id: null,
      chain_pem: pki.chainPem,
      key_enc: api.store.secrets.encrypt(pki.leafKeyPem, versionKeyAad(versionId)),
    });
    await makeVersionCurrent(api.store.db, certificateId, { id: versionId, not_after: rows.certificate_versions.not_after }, {});
  });
  after(async () => {
    await api.close();
    await dir.remove();
  });

  const patch = (body: unknown, key = api.a.writeKey, name = NAME) =>
    api.request({ method: 'PATCH', url: `/api/v1/certificates/${name}`, key, payload: body as object });
  const pfx = () => api.request({ method: 'GET', url: `/api/v1/certificates/${NAME}/files/pfx`, key: api.a.writeKey });

  test('no PFX password: the download says how to set one; set, the PFX opens with it; removed, no PFX again', async () => {
    const before = await pfx();
    assert.equal(before.statusCode, 409);
    assert.match(before.json().detail, /PATCH \/api\/v1\/certificates\/pfx-later\.a\.example \{"pfxPassword"/);

    const set = await patch({ pfxPassword: 'open sesame' });
    assert.equal(set.statusCode, 200, set.body);
    assert.equal(set.json().name, NAME);
    assert.doesNotMatch(set.body, /open sesame/, 'the password is not returned');
    const row = await findCertificate(api.store.db, api.a.subscriptionId, NAME);
    assert.ok(row?.pfx_password_enc && !row.pfx_password_enc.includes('open sesame'), 'stored sealed');
    assert.equal(api.store.secrets.decryptString(row.pfx_password_enc, pfxPasswordAad(certificateId)), 'open sesame');

    const download = await pfx();
    assert.equal(download.statusCode, 200, download.body);
    const file = join(dir.path, 'downloaded.pfx');
    await writeFile(file, download.rawPayload);
    const opened = await runOpenssl(['pkcs12', '-in', file, '-passin', 'pass:open sesame', '-nokeys']);
    assert.equal(opened.code, 0, opened.stderr);
    assert.match(opened.stdout, /BEGIN CERTIFICATE/);
    const wrong = await runOpenssl(['pkcs12', '-in', file, '-passin', 'pass:not it', '-nokeys']);
    assert.notEqual(wrong.code, 0, 'another password does not open it');

    const removed = await patch({ pfxPassword: '' });
    assert.equal(removed.statusCode, 200, removed.body);
    assert.equal((await pfx()).statusCode, 409);
  });

  test('the CSR subject is checked and stored; the current version stays', async () => {
    const changed = await patch({ csrInfo: { organization: 'Example Ltd', country: 'DE' } });
    assert.equal(changed.statusCode, 200, changed.body);
    const row = await findCertificate(api.store.db, api.a.subscriptionId, NAME);
    assert.deepEqual(row?.csr_info, { organization: 'Example Ltd', country: 'DE' });
    assert.equal(changed.json().serial, rowsFor(api.a.subscriptionId).certificate_versions.serial, 'the version is untouched');

    const bad = await patch({ csrInfo: { country: 'Germany' } });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().detail, /csrInfo\.country/);
  });

  test('refused: an empty or unknown change, a read key, another tenant, an unknown name; nothing changes', async () => {
    const before = await findCertificate(api.store.db, api.a.subscriptionId, NAME);
    const empty = await patch({});
    assert.equal(empty.statusCode, 400);
    assert.match(empty.json().detail, /give what to change: pfxPassword, csrInfo/);
    const unknown = await patch({ autoRenew: false });
    assert.equal(unknown.statusCode, 400);
    assert.match(unknown.json().detail, /autoRenew/);
    assert.equal((await patch({ pfxPassword: 'x' }, api.a.readKey)).statusCode, 403);
    assert.equal((await patch({ pfxPassword: 'x' }, api.b.writeKey)).statusCode, 404, "tenant B does not see A's certificate");
    const missing = await patch({ pfxPassword: 'x' }, api.a.writeKey, 'nothing.a.example');
    assert.equal(missing.statusCode, 404);
    assert.match(missing.json().detail, /nothing\.a\.example/);
    const after = await findCertificate(api.store.db, api.a.subscriptionId, NAME);
    assert.deepEqual(after, before);
  });
});
