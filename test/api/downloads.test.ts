// Signed download links (GET /dl/<token>) over a real SQLite store, through
// Fastify's inject: every format, and every way a link is refused.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { after, before, describe, test } from 'node:test';
import { buildApp } from '../../src/api/app.ts';
import { DOWNLOAD_FORMATS, type DownloadFormat, downloadLinks, LINK_LIFETIME_MS, signDownloadToken } from '../../src/api/download-links.ts';
import { type Engine, engineOn } from '../../src/engine/engine.ts';
import { pfxPasswordAad } from '../../src/engine/files.ts';
import { versionKeyAad } from '../../src/engine/issuance.ts';
import { createSubscription } from '../../src/engine/tenancy.ts';
import { openStore, type Store } from '../../src/store/database.ts';
import { deleteCertificateRow, insertCertificate, insertVersion, makeVersionCurrent, updateCertificate } from '../../src/store/repositories/certificates.ts';
import { makeTestPki, type TestPki } from '../pki/openssl.ts';
import { tempDir } from '../rig/tmp.ts';
import { certificateRecord, rowsFor } from '../store/rows.ts';

describe('download links', () => {
  let store: Store;
  let ctx: Engine;
  let app: FastifyInstance;
  let pki: TestPki;
  let remove: () => Promise<void>;
  let subscriptionId: string;
  const grant = (name: string, versionId: string) => ({ subscriptionId, name, versionId });

  before(async () => {
    const dir = await tempDir();
    remove = dir.remove;
    pki = await makeTestPki(dir.path);
    store = await openStore({ dataDir: dir.path });
    ctx = engineOn(store, { answers: 'server' });
    app = await buildApp({ engine: ctx });
    subscriptionId = (await createSubscription(ctx, 'links')).id;
  });
  after(async () => {
    await app.close();
    await ctx.close();
    await store.close();
    await remove();
  });

  /** A certificate with one version holding the test PKI's leaf, key and CA. */
  async function issued(name: string): Promise<{ certificateId: string; versionId: string }> {
    const rows = rowsFor(subscriptionId);
    const certificateId = `crt_${name}`;
    const versionId = `ver_${name}`;
    await insertCertificate(store.db, certificateRecord({
      ...rows.certificates,
      id: certificateId,
      name,
      state: 'valid',
      current_version_id: null,
      pfx_password_enc: store.secrets.encrypt('pfx-pass', pfxPasswordAad(certificateId)),
    }));
    await insertVersion(store.db, {
      ...rows.certificate_versions,
      id: versionId,
      certificate_id: certificateId,
      order_id: null,
      chain_pem: pki.chainPem,
      key_enc: store.secrets.encrypt(pki.leafKeyPem, versionKeyAad(versionId)),
    });
    await makeVersionCurrent(store.db, certificateId, { id: versionId, not_after: rows.certificate_versions.not_after }, {});
    return { certificateId, versionId };
  }

  const fetchLink = (url: string) => app.inject({ method: 'GET', url: url.replace(/^http:\/\/[^/]+/, '') });

  test('every format: its content and content type, with a file name; no API key needed', async () => {
    const { versionId } = await issued('all.example');
    const formats = Object.keys(DOWNLOAD_FORMATS) as DownloadFormat[];
    const links = downloadLinks(store.secrets, 'http://certkeep.test', grant('all.example', versionId), formats, Date.now());
    const leaf = new X509Certificate(pki.leafPem);
    for (const format of formats) {
      assert.match(links[format], /^http:\/\/certkeep\.test\/dl\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\/all\.example\./);
      const response = await fetchLink(links[format]);
      assert.equal(response.statusCode, 200, `${format}: ${response.body}`);
      assert.equal(String(response.headers['content-type']).split(';')[0], DOWNLOAD_FORMATS[format].contentType.split(';')[0]);
      assert.match(String(response.headers['content-disposition']), new RegExp(`filename="all\\.example${DOWNLOAD_FORMATS[format].suffix.replaceAll('.', '\\.')}"`));
      assert.equal(response.headers['cache-control'], 'no-store');
    }
    assert.equal((await fetchLink(links.pem)).body, pki.chainPem);
    assert.equal((await fetchLink(links['cert-crt'])).body, pki.leafPem);
    assert.equal((await fetchLink(links['cabundle-crt'])).body, pki.caPem);
    assert.equal(new X509Certificate((await fetchLink(links.cer)).rawPayload).fingerprint256, leaf.fingerprint256);
    assert.match((await fetchLink(links.key)).body, /BEGIN PRIVATE KEY/);
    assert.ok((await fetchLink(links.pfx)).rawPayload.length > 500);
  });

  test('altered, made-up or cross-subscription tokens → 404; expired → 410; all text', async () => {
    const { versionId } = await issued('refuse.example');
    const token = signDownloadToken(store.secrets, { ...grant('refuse.example', versionId), format: 'key', expiresAt: Date.now() + 60_000 });
    const [payload, mac] = token.split('.');
    assert.equal((await fetchLink(`/dl/${token}`)).statusCode, 200);
    const altered = (fields: object) => Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), ...fields })).toString('base64url');
    for (const bad of [
      `/dl/${altered({ f: 'pem' })}.${mac}`,
      `/dl/${altered({ e: 9_999_999_999 })}.${mac}`,
      `/dl/${altered({ s: 'sub_other' })}.${mac}`,
      `/dl/${payload}.${mac.slice(1)}`,
      `/dl/${payload}`,
      `/dl/${Buffer.from('{}').toString('base64url')}.${mac}`,
      '/dl/not-a-token',
    ]) {
      const response = await fetchLink(bad);
      assert.equal(response.statusCode, 404, bad);
      assert.match(String(response.headers['content-type']), /^text\/plain/);
    }
    const expired = signDownloadToken(store.secrets, { ...grant('refuse.example', versionId), format: 'pem', expiresAt: Date.now() - 1 });
    const gone = await fetchLink(`/dl/${expired}`);
    assert.equal(gone.statusCode, 410);
    assert.match(gone.body, /expired/);
    const links = downloadLinks(store.secrets, 'http://x', grant('refuse.example', versionId), ['pem'], Date.now() - LINK_LIFETIME_MS - 1);
    assert.equal((await fetchLink(links.pem)).statusCode, 410, 'links live 7 days');
  });

  test('a revoked or deleted certificate, or a version of another certificate → 410', async () => {
    const revoked = await issued('revoked.example');
    const deleted = await issued('deleted.example');
    const link = (name: string, versionId: string) => `/dl/${signDownloadToken(store.secrets, { ...grant(name, versionId), format: 'pem', expiresAt: Date.now() + 60_000 })}`;
    await updateCertificate(store.db, revoked.certificateId, { state: 'revoked' });
    const revokedAnswer = await fetchLink(link('revoked.example', revoked.versionId));
    assert.equal(revokedAnswer.statusCode, 410);
    assert.match(revokedAnswer.body, /revoked/);
    await deleteCertificateRow(store.db, deleted.certificateId);
    assert.equal((await fetchLink(link('deleted.example', deleted.versionId))).statusCode, 410);
    // A version id of one certificate under another's name.
    assert.equal((await fetchLink(link('revoked.example', deleted.versionId))).statusCode, 410);
  });
});
