// Contract test for the RCL portal vendor's own .NET SDK and its CertificateBot,
// which cannot run here: what they need of certkeep, pinned. Their Certificate
// class declares subscriptionId and id as int and the dates as non-nullable
// DateTime; they build paths from the numbers they read; they call
// schedule/renew under both spellings of the base path; and they read every
// error of the API as text. (A real renewal through schedule/renew runs in
// test/e2e/compat-rcl.test.ts against Pebble.)
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { certificateNumber, subscriptionNumber } from '../../src/engine/numbers.ts';
import { newId } from '../../src/store/ids.ts';
import { findCertificate, insertCertificate } from '../../src/store/repositories/certificates.ts';
import { certificateRecord, LATE, rowsFor } from '../store/rows.ts';
import { type ApiFixture, apiFixture } from './fixture.ts';

/** The .NET types the SDK's Certificate class declares, as far as certkeep answers them. */
const DOTNET_CERTIFICATE: Record<string, 'int' | 'DateTime' | 'string?' | 'bool' | 'List' | 'object?'> = {
  certificateName: 'string?',
  rootDomain: 'string?',
  challengeType: 'string?',
  email: 'string?',
  password: 'string?',
  target: 'string?',
  isSAN: 'bool',
  orderUri: 'string?',
  subscriptionId: 'int',
  tokens: 'List',
  pfxString: 'string?',
  issueDate: 'DateTime',
  expiryDate: 'DateTime',
  id: 'int',
  certificateDownloadUrl: 'object?',
};
const INT32_MAX = 2 ** 31 - 1;

/** Whether System.Text.Json (and Newtonsoft) would read `value` into the declared type; an absent DateTime is its default. */
function readableAs(type: (typeof DOTNET_CERTIFICATE)[string], value: unknown, present: boolean): boolean {
  switch (type) {
    case 'int':
      return Number.isInteger(value) && (value as number) > 0 && (value as number) <= INT32_MAX;
    case 'DateTime':
      return !present || (typeof value === 'string' && !Number.isNaN(Date.parse(value)));
    case 'bool':
      return typeof value === 'boolean';
    case 'List':
      return Array.isArray(value);
    case 'string?':
      return value === null || typeof value === 'string';
    case 'object?':
      return value === null || (typeof value === 'object' && !Array.isArray(value));
  }
}

function assertDotnetReadable(certificate: Record<string, unknown>): void {
  for (const [field, type] of Object.entries(DOTNET_CERTIFICATE)) {
    assert.ok(readableAs(type, certificate[field], field in certificate), `${field} as ${type}: ${JSON.stringify(certificate[field])}`);
  }
}

describe("RCL API: what the vendor's .NET SDK needs", () => {
  let api: ApiFixture;
  const V3 = (sid: string | number) => `/prod/v3/ssl/certificate/subscription/${sid}`;
  const pending = 'pending.a.example';
  const issued = 'issued.a.example';

  before(async () => {
    api = await apiFixture();
    const rows = rowsFor(api.a.subscriptionId);
    const plain = { ...rows.certificates, pfx_password_enc: null, challenge_config: '{"rootDomain":"a.example"}', created_at: Date.now(), updated_at: Date.now() };
    for (const name of [pending, issued]) {
      const id = name === pending ? newId('crt') : rows.certificates.id;
      const record = certificateRecord({ ...plain, id, name, identifiers: JSON.stringify([{ type: 'dns', value: name }]), current_version_id: null });
      await api.store.db.transaction().execute((trx) => insertCertificate(trx, record));
    }
    await api.store.db.insertInto('certificate_versions').values({ ...rows.certificate_versions, order_id: null }).execute();
    await api.store.db.updateTable('certificates').set({ current_version_id: rows.certificate_versions.id }).where('id', '=', rows.certificates.id).execute();
  });
  after(() => api?.close());

  const get = (path: string, key = api.a.writeKey) => api.request({ method: 'GET', url: path, key });

  test('the Certificate object reads into its .NET class before and after issuance: int ids, no null dates', async () => {
    const before = (await get(`${V3(api.a.subscriptionId)}/get/certificatename/${pending}`)).json();
    assertDotnetReadable(before);
    assert.ok(!('issueDate' in before) && !('expiryDate' in before), 'before issuance the dates are left out (the client keeps its default)');
    const after = (await get(`${V3(api.a.subscriptionId)}/get/certificatename/${issued}`)).json();
    assertDotnetReadable(after);
    assert.ok(Math.abs(Date.parse(after.expiryDate) - (LATE + 14)) < 1000, "the version's notAfter");
    assert.equal(after.subscriptionId, before.subscriptionId, "one subscription, one number");
    assert.notEqual(after.id, before.id);
    const all = (await get(`/production/ssl/core/v1/certificate/subscription/${api.a.subscriptionId}/get/all`)).json();
    for (const entry of all) assert.ok(entry.issueDate !== null && entry.expiryDate !== null, JSON.stringify(entry));
  });

  test('the numbers it read are accepted back where the subscription and the certificate go; another subscription gets nothing', async () => {
    const { subscriptionId, id } = (await get(`${V3(api.a.subscriptionId)}/get/certificatename/${issued}`)).json();
    for (const path of [
      `${V3(subscriptionId)}/get/certificatename/${id}`,
      `/v1/subscription/${subscriptionId}/core/certificate/${id}`,
      `/public/v1/subscription/${subscriptionId}/core/certificate/${id}`,
      `/production/ssl/core/v1/certificate/subscription/${subscriptionId}/get?name=${id}`,
    ]) {
      const answer = await get(path);
      assert.equal(answer.statusCode, 200, `${path}: ${answer.body}`);
      assert.equal(answer.json().certificateName, issued, path);
    }
    const theirs = await findCertificate(api.store.db, api.b.subscriptionId, api.b.certificateName);
    const mine = await get(`${V3(await subscriptionNumber(api.ctx, api.b.subscriptionId))}/get/certificatename/${id}`);
    assert.equal(mine.statusCode, 401, "A's key with B's number");
    const theirCertificate = await get(`${V3(subscriptionId)}/get/certificatename/${await certificateNumber(api.ctx, theirs!.id)}`);
    assert.equal(theirCertificate.statusCode, 404, "B's certificate number in A's path");
    assert.doesNotMatch(theirCertificate.body, new RegExp(api.b.certificateName));
  });

  test('schedule/renew is served under both spellings; what it cannot act on is a text error naming the field', async () => {
    const { id } = (await get(`${V3(api.a.subscriptionId)}/get/certificatename/${issued}`)).json();
    for (const base of ['/prod/v3/ssl', '/prod/v3ssl']) {
      const url = `${base}/certificate/subscription/${api.a.subscriptionId}/schedule/renew`;
      const refusals: [Record<string, unknown>, number, RegExp][] = [
        [{ target: 'Stand Alone' }, 400, /^certificateName: name the certificate/],
        [{ certificateName: pending, id }, 400, /^id: \d+ is certificate "issued\.a\.example", not "pending\.a\.example"/],
        [{ certificateName: issued, target: 'Azure' }, 400, /^target: "Azure" is not supported/],
        [{ id: 'seven' }, 400, /id/],
        [{ certificateName: 'missing.a.example' }, 404, /missing\.a\.example/],
      ];
      for (const [body, status, text] of refusals) {
        const answer = await api.request({ method: 'POST', url, key: api.a.writeKey, payload: body });
        assert.equal(answer.statusCode, status, `${url} ${JSON.stringify(body)}: ${answer.body}`);
        assert.match(answer.headers['content-type'] ?? '', /^text\/plain/);
        assert.match(answer.body, text);
      }
      const read = await api.request({ method: 'POST', url, key: api.a.readKey, payload: { id } });
      assert.equal(read.statusCode, 403);
    }
  });

  test('an unknown route under any of the three generations is a text 404, as the rest of the API answers', async () => {
    for (const path of [
      `${V3(api.a.subscriptionId)}/get/nothing`,
      `/prod/v3ssl/certificate/subscription/${api.a.subscriptionId}/schedule/nothing`,
      `/v1/subscription/${api.a.subscriptionId}/core/nothing/here/at/all`,
      `/public/v1/subscription/${api.a.subscriptionId}/nothing`,
      '/production/ssl/core/v1/nothing',
    ]) {
      const answer = await get(path);
      assert.equal(answer.statusCode, 404, path);
      assert.match(answer.headers['content-type'] ?? '', /^text\/plain/, path);
      assert.match(answer.body, /^no route GET \//);
    }
    const native = await get('/api/v1/nothing');
    assert.match(native.headers['content-type'] ?? '', /^application\/problem\+json/, 'the native API keeps its problem documents');
  });
});
