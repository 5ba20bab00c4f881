// The RCL certificate portal's API (compat/rcl-ssl-api.md), all three
// generations, against certkeep serve with Pebble and BIND. The test is the
// portal's client: it sends the seed documents' example requests as written
// (only host, subscription and names changed), places the tokens itself — TXT
// records at BIND, files in the webroot of an nginx on the port Pebble checks —
// and downloads every file the certificate's links offer.
import assert from 'node:assert/strict';
import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DOWNLOAD_FORMATS, type DownloadFormat, signDownloadToken } from '../../src/api/download-links.ts';
import { SecretBox } from '../../src/store/secret-box.ts';
import { startNginx } from '../rig/nginx.ts';
import { tempDir } from '../rig/tmp.ts';
import { type Rig, startRig, ZONE } from './harness.ts';
import { openssl } from './openssl.ts';
import { clientDns, eventually, type Server, startServer } from './server.ts';

const MASTER_KEY = randomBytes(32);
const V3 = (sid: string) => `/prod/v3/ssl/certificate/subscription/${sid}`;
const V3_SEED_SPELLING = (sid: string) => `/prod/v3ssl/certificate/subscription/${sid}`;
const V2 = (sid: string, prefix = '') => `${prefix}/v1/subscription/${sid}/core`;
const V1_ORDER = (sid: string) => `/production/ssl/core/v1/order/subscription/${sid}`;
const V1_CERT = (sid: string) => `/production/ssl/core/v1/certificate/subscription/${sid}`;

interface Answer {
  status: number;
  type: string;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: the test reads the API's JSON loosely
  json: any;
}

interface Tenant {
  id: string;
  apiKey: string;
  readKey: string;
}

describe('RCL compatibility API', () => {
  let rig: Rig;
  let server: Server;
  let tenant: Tenant;
  let other: Tenant;
  let webroot: string;
  let stopNginx: () => Promise<void>;
  let scratch: { path: string; remove: () => Promise<void> };
  const dns = () => clientDns(rig);

  before(async () => {
    rig = await startRig();
    // The test's nginx answers HTTP-01 where Pebble looks, as the client's web server would.
    server = await startServer(rig, { httpChallengeListen: 'off', env: { CERTKEEP_MASTER_KEY: MASTER_KEY.toString('base64') } });
    webroot = join(rig.dataDir, 'www');
    await mkdir(join(webroot, '.well-known', 'acme-challenge'), { recursive: true });
    stopNginx = (await startNginx({ root: webroot, port: rig.httpPort })).stop;
    scratch = await tempDir('certkeep-rcl-');
    tenant = await server.subscription('rcl tenant');
    other = await server.subscription('other tenant');
  });
  after(async () => {
    const code = await server?.stop();
    await stopNginx?.();
    await scratch?.remove();
    await rig?.stop();
    assert.equal(code, 0, 'serve exits 0 on SIGTERM');
  });

  /** A request as a portal client sends it: a string body goes out exactly as written. */
  async function send(method: string, path: string, options: { key?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
    const response = await server.call(method, path, options);
    const text = await response.text();
    const type = response.headers.get('content-type') ?? '';
    return { status: response.status, type, text, json: type.includes('json') && text ? JSON.parse(text) : undefined };
  }

  function assertText(answer: Answer, status: number, pattern: RegExp): void {
    assert.equal(answer.status, status, answer.text);
    assert.match(answer.type, /^text\/plain/, `an error is text/plain: ${answer.text}`);
    assert.match(answer.text, pattern);
    assert.doesNotMatch(answer.text, /\n\s+at /, 'no stack trace');
  }

  /** What the client does with the tokens: TXT records relative to rootDomain, or files in its webroot. */
  async function place(tokens: { tokenName: string; tokenValue: string; challengeType: string }[], rootDomain: string): Promise<void> {
    for (const token of tokens) {
      if (token.challengeType === 'DNS') await dns().place(`${token.tokenName}.${rootDomain}`, token.tokenValue);
      else await writeFile(join(webroot, '.well-known', 'acme-challenge', token.tokenName), token.tokenValue);
    }
  }

  async function getV3(name: string, key = tenant.apiKey): Promise<Answer> {
    return send('GET', `${V3(tenant.id)}/get/certificatename/${name}`, { key });
  }

  /** Polls gen 3's get until the certificate has no open order left and has been issued. */
  /** Until the certificate is issued; with `replacing`, until a version other than that one is (its links name their version). */
  async function untilIssued(name: string, replacing?: Answer): Promise<Answer> {
    const replaced = (answer: Answer) =>
      !replacing || answer.json.certificateDownloadUrl?.certCrtUrl !== replacing.json.certificateDownloadUrl.certCrtUrl;
    return eventually(
      () => getV3(name),
      (answer) =>
        answer.status !== 200 ||
        (answer.json.issueDate !== undefined && answer.json.tokens.length === 0 && replaced(answer)),
      60_000,
      `${name} issued`,
    );
  }

  async function download(url: string): Promise<{ status: number; type: string; body: Buffer }> {
    const response = await fetch(url);
    return { status: response.status, type: response.headers.get('content-type') ?? '', body: Buffer.from(await response.arrayBuffer()) };
  }

  /**
   * Every link of the Certificate object returns its format, and the PFX opens with
   * the password; returns the leaf for further checks.
   */
  async function checkFiles(certificate: { certificateDownloadUrl: Record<string, string>; pfxString: string; password: string }): Promise<X509Certificate> {
    const urls = certificate.certificateDownloadUrl;
    const files: Record<string, { status: number; type: string; body: Buffer }> = {};
    for (const [field, url] of Object.entries(urls)) {
      assert.match(url, new RegExp(`^${server.base}/dl/`), `${field} is a link to certkeep itself`);
      files[field] = await download(url);
      assert.equal(files[field].status, 200, `${field}: ${files[field].body.toString()}`);
    }
    const text = (field: string) => files[field].body.toString('utf8');
    const blocks = (pem: string) => pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n/g) ?? [];
    const fullchain = text('pemUrl');
    const [leafPem = '', ...intermediates] = blocks(fullchain);
    const leaf = new X509Certificate(leafPem);
    assert.ok(intermediates.length >= 1, 'the chain has the intermediates');
    assert.ok(leaf.checkIssued(new X509Certificate(intermediates[0])), 'the first intermediate issued the leaf');
    assert.equal(new X509Certificate(files.cerUrl.body).fingerprint256, leaf.fingerprint256, '.cer is the leaf in DER');
    assert.match(files.cerUrl.type, /application\/pkix-cert/);
    for (const field of ['crtUrl', 'certCrtUrl']) assert.equal(text(field), leafPem, `${field} is the leaf`);
    assert.equal(text('cabundleCrtUrl'), intermediates.join(''), 'cabundle is the intermediates');
    assert.equal(text('fullchainCrtUrl'), leafPem + intermediates.join(''), 'fullchain is leaf + intermediates');
    assert.equal(text('txtUrl'), fullchain);
    assert.match(files.txtUrl.type, /^text\/plain/);
    assert.match(files.keyTxtUrl.type, /^text\/plain/);
    for (const field of ['keyUrl', 'keyTxtUrl']) assert.ok(leaf.checkPrivateKey(createPrivateKey(text(field))), `${field} is the leaf's key`);
    for (const [what, der] of [
      ['pfxString', Buffer.from(certificate.pfxString, 'base64')],
      ['pfxUrl', files.pfxUrl.body],
    ] as const) {
      const path = join(scratch.path, `${randomBytes(4).toString('hex')}.pfx`);
      await writeFile(path, der);
      const opened = await openssl(['pkcs12', '-in', path, '-passin', `pass:${certificate.password}`, '-nodes']);
      assert.ok(opened.ok, `${what} opens with the password: ${opened.stderr}`);
      assert.ok(opened.stdout.includes(leafPem.trim().split('\n')[1]), `${what} holds the leaf`);
      assert.match(opened.stdout, /PRIVATE KEY/, `${what} holds the key`);
      const wrong = await openssl(['pkcs12', '-in', path, '-passin', 'pass:not-the-password', '-nodes']);
      assert.equal(wrong.ok, false, `${what} does not open with another password`);
    }
    return leaf;
  }

  function names(leaf: X509Certificate): string[] {
    return (leaf.subjectAltName ?? '')
      .split(', ')
      .map((entry) => entry.replace(/^DNS:/, ''))
      .sort();
  }

  test('seed 002, gen 3: order/create and schedule/create as written; get until issued; every file downloads', async () => {
    const domain = `shopeneur.${ZONE}`;
    // The seed's request body, byte for byte but for the names.
    const orderBody = `{
    "certificateName" : "${domain}",
    "rootDomain" : "${domain}",
    "challengeType" : "dns",
    "email" : "rcl@mail.com",
    "password" : "password123",
    "target": "Stand ALone",
    "isSAN": false
}`;
    const created = await send('POST', `${V3(tenant.id)}/order/create`, { key: tenant.apiKey, body: orderBody, headers: { 'content-type': 'application/json' } });
    assert.equal(created.status, 200, created.text);
    assert.equal(created.json.certificateName, domain);
    assert.equal(created.json.rootDomain, domain);
    assert.equal(created.json.email, 'rcl@mail.com');
    assert.equal(created.json.challengeType, 'dns');
    assert.equal(created.json.password, 'password123');
    assert.ok(Number.isInteger(created.json.subscriptionId) && Number.isInteger(created.json.id), "the vendor's SDK reads both as int");
    assert.ok(!('issueDate' in created.json) && !('expiryDate' in created.json), 'no null dates before issuance: left out');
    assert.equal(created.json.isSAN, false);
    assert.match(created.json.orderUri, /^https:\/\//);
    assert.equal(created.json.tokens.length, 1);
    assert.deepEqual({ ...created.json.tokens[0], tokenValue: '' }, { tokenName: '_acme-challenge', tokenValue: '', challengeType: 'DNS', domain });
    assert.match(created.json.tokens[0].tokenValue, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(created.json.pfxString, null, 'nothing issued yet');
    await place(created.json.tokens, domain);

    // The seed names schedule/create's path /prod/v3ssl/… in its text; that spelling works.
    const scheduleBody = `{
    "certificateName" : "${domain}",
    "rootDomain" : "${domain}",
    "challengeType" : "dns",
    "email" : "rcl@mail.com",
    "password" : "password123",
    "target": "Stand ALone",
    "isSAN": false,
    "orderUri":"${created.json.orderUri}"
}`;
    const scheduled = await send('POST', `${V3_SEED_SPELLING(tenant.id)}/schedule/create`, { key: tenant.apiKey, body: scheduleBody, headers: { 'content-type': 'application/json' } });
    assert.equal(scheduled.status, 200, scheduled.text);
    assert.equal(scheduled.text, '', 'an empty body at once');

    const issued = await untilIssued(domain);
    assert.equal(issued.status, 200, issued.text);
    assert.equal(issued.json.orderUri, created.json.orderUri);
    assert.match(issued.json.issueDate, /^\d{4}-\d\d-\d\dT/);
    assert.ok(Date.parse(issued.json.expiryDate) > Date.parse(issued.json.issueDate));
    assert.equal(issued.json.target, 'Stand Alone');
    const leaf = await checkFiles(issued.json);
    assert.deepEqual(names(leaf), [domain]);

    // The seed's example request spells the path /prod/v3/ssl/…: a second order for the same name, scheduled there.
    const again = await send('POST', `${V3(tenant.id)}/order/create`, { key: tenant.apiKey, body: orderBody, headers: { 'content-type': 'application/json' } });
    assert.equal(again.status, 200, again.text);
    assert.notEqual(again.json.orderUri, created.json.orderUri, 'order/create on an existing name opens a new order');
    assert.equal(again.json.issueDate, issued.json.issueDate, 'the issued certificate stays until the new one is issued');
    await place(again.json.tokens, domain);
    const rescheduled = await send('POST', `${V3(tenant.id)}/schedule/create`, {
      key: tenant.apiKey,
      body: scheduleBody.replace(created.json.orderUri, again.json.orderUri),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(rescheduled.status, 200, rescheduled.text);
    const reissued = await untilIssued(domain, issued);
    assert.equal(reissued.json.orderUri, again.json.orderUri);
    const newLeaf = await checkFiles(reissued.json);
    assert.notEqual(newLeaf.serialNumber, leaf.serialNumber, 'a new certificate');
    // A link handed out before the renewal still gets the version it was made for.
    const old = await download(issued.json.certificateDownloadUrl.certCrtUrl);
    assert.equal(new X509Certificate(old.body).serialNumber, leaf.serialNumber);
  });

  test('download links: key links only for write keys; tampered links 404, expired 410; X-Forwarded-Proto is honoured', async () => {
    const domain = `shopeneur.${ZONE}`;
    const read = await getV3(domain, tenant.readKey);
    assert.equal(read.status, 200);
    assert.equal(read.json.pfxString, null, 'a read key sees no PFX');
    assert.equal(read.json.password, null);
    assert.equal(read.json.certificateDownloadUrl.keyUrl, null);
    assert.equal(read.json.certificateDownloadUrl.keyTxtUrl, null);
    assert.equal(read.json.certificateDownloadUrl.pfxUrl, null);
    assert.equal((await download(read.json.certificateDownloadUrl.pemUrl)).status, 200);

    const proxied = await send('GET', `${V3(tenant.id)}/get/certificatename/${domain}`, { key: tenant.readKey, headers: { 'x-forwarded-proto': 'https' } });
    assert.match(proxied.json.certificateDownloadUrl.pemUrl, /^https:\/\/127\.0\.0\.1:\d+\/dl\//);

    const link = new URL(read.json.certificateDownloadUrl.pemUrl);
    const [, , token, file] = link.pathname.split('/');
    const [payload, mac] = token.split('.');
    const grant = JSON.parse(Buffer.from(payload, 'base64url').toString());
    assert.equal(grant.f, 'pem');
    const at = (path: string) => download(`${server.base}${path}`);
    // Another format with the old MAC: asking for the key with a certificate link.
    const asKey = Buffer.from(JSON.stringify({ ...grant, f: 'key' })).toString('base64url');
    const flipped = mac.slice(0, 10) + (mac[10] === 'A' ? 'B' : 'A') + mac.slice(11);
    for (const tampered of [`/dl/${asKey}.${mac}/${file}`, `/dl/${payload}.${flipped}/${file}`, `/dl/${payload}/${file}`, '/dl/', `/dl/${payload}.${mac}x`]) {
      const answer = await at(tampered);
      assert.equal(answer.status, 404, tampered);
      assert.match(answer.type, /^text\/plain/);
    }
    // A link made with the server's key whose time is up.
    const secrets = new SecretBox(MASTER_KEY);
    const expired = signDownloadToken(secrets, { subscriptionId: grant.s, name: grant.n, versionId: grant.v, format: 'pem', expiresAt: Date.now() - 1000 });
    const gone = await at(`/dl/${expired}/${file}`);
    assert.equal(gone.status, 410);
    assert.match(gone.body.toString(), /expired/);
    // The same key signing a fresh one: the link format is what the test thinks it is.
    for (const format of Object.keys(DOWNLOAD_FORMATS) as DownloadFormat[]) {
      const fresh = signDownloadToken(secrets, { subscriptionId: grant.s, name: grant.n, versionId: grant.v, format, expiresAt: Date.now() + 60_000 });
      assert.equal((await at(`/dl/${fresh}`)).status, 200, format);
    }
    // Another subscription's name under this subscription's grant is not a link anyone made.
    const foreign = Buffer.from(JSON.stringify({ ...grant, s: other.id })).toString('base64url');
    assert.equal((await at(`/dl/${foreign}.${mac}`)).status, 404);
  });

  test('gen 3, DNS SAN: rootDomain and *.rootDomain, two tokens of the same tokenName', async () => {
    const domain = `san.${ZONE}`;
    const created = await send('POST', `${V3(tenant.id)}/order/create`, {
      key: tenant.apiKey,
      body: { certificateName: domain, rootDomain: domain, challengeType: 'DNS', email: 'rcl@mail.com', password: 'san-pass', target: 'stand alone', isSAN: true },
    });
    assert.equal(created.status, 200, created.text);
    assert.equal(created.json.isSAN, true);
    assert.equal(created.json.tokens.length, 2);
    assert.deepEqual(
      created.json.tokens.map((t: { tokenName: string }) => t.tokenName),
      ['_acme-challenge', '_acme-challenge'],
    );
    assert.deepEqual(created.json.tokens.map((t: { domain: string }) => t.domain).sort(), [`*.${domain}`, domain]);
    assert.notEqual(created.json.tokens[0].tokenValue, created.json.tokens[1].tokenValue);
    await place(created.json.tokens, domain);
    const scheduled = await send('POST', `${V3(tenant.id)}/schedule/create`, { key: tenant.apiKey, body: { ...created.json, orderUri: created.json.orderUri } });
    assert.equal(scheduled.status, 200, `the Certificate object as returned is accepted back: ${scheduled.text}`);
    const issued = await untilIssued(domain);
    const leaf = await checkFiles(issued.json);
    assert.deepEqual(names(leaf), [`*.${domain}`, domain]);
  });

  test('gen 3, HTTP SAN: rootDomain and www.rootDomain, two files in the webroot', async () => {
    const domain = `web.${ZONE}`;
    const created = await send('POST', `${V3(tenant.id)}/order/create`, {
      key: tenant.apiKey,
      body: { certificateName: domain, rootDomain: domain, challengeType: 'http', email: 'rcl@mail.com', password: 'web-pass', target: 'Stand Alone', isSAN: true },
    });
    assert.equal(created.status, 200, created.text);
    assert.equal(created.json.challengeType, 'http');
    assert.deepEqual(created.json.tokens.map((t: { domain: string }) => t.domain).sort(), [domain, `www.${domain}`]);
    for (const token of created.json.tokens) {
      assert.equal(token.challengeType, 'HTTP');
      assert.ok(token.tokenValue.startsWith(`${token.tokenName}.`), 'the file content is the key authorization');
    }
    await place(created.json.tokens, domain);
    const scheduled = await send('POST', `${V3(tenant.id)}/schedule/create`, { key: tenant.apiKey, body: { certificateName: domain, orderUri: created.json.orderUri } });
    assert.equal(scheduled.status, 200, scheduled.text);
    const leaf = await checkFiles((await untilIssued(domain)).json);
    assert.deepEqual(names(leaf), [domain, `www.${domain}`]);
  });

  test('gen 2 (seed 000): get the certificate, order its renewal, place the tokens, finalize: a new serial replaces it', async () => {
    const domain = `web.${ZONE}`;
    for (const prefix of ['/public', '']) {
      const current = await send('GET', `${V2(tenant.id, prefix)}/certificate/${domain}`, { key: tenant.apiKey });
      assert.equal(current.status, 200, current.text);
      assert.equal(current.json.challengeType, 'HTTP');
      const before = new X509Certificate((await download(current.json.certificateDownloadUrl.certCrtUrl)).body);

      const order = await send('GET', `${V2(tenant.id, prefix)}/certificate/${domain}/order`, { key: tenant.apiKey });
      assert.equal(order.status, 200, order.text);
      assert.equal(order.json.status, 'pending');
      assert.equal(order.json.certificateUri, null);
      // A token for each name the CA has not authorized yet: both, except when Pebble reuses an
      // authorization it holds valid, which it does one time in a hundred even with PEBBLE_AUTHZREUSE=0.
      const tokens = order.json.validationTokens.map((t: { domain: string }) => t.domain);
      assert.ok(tokens.length <= 2 && new Set(tokens).size === tokens.length, JSON.stringify(tokens));
      for (const name of tokens) assert.ok([domain, `www.${domain}`].includes(name), name);
      assert.deepEqual(
        order.json.challenges.map((c: { challengeType: string; status: string }) => [c.challengeType, c.status]),
        tokens.map(() => ['http-01', 'pending']),
      );
      await place(order.json.validationTokens, domain);
      const finalized = await send('GET', `${V2(tenant.id, prefix)}/certificate/${domain}/finalize?orderuri=${encodeURIComponent(order.json.orderUri)}`, {
        key: tenant.apiKey,
      });
      assert.equal(finalized.status, 200, finalized.text);
      const after = await checkFiles(finalized.json);
      assert.notEqual(after.serialNumber, before.serialNumber, 'the new certificate replaces the old one');
      assert.equal(finalized.json.orderUri, order.json.orderUri);
      const again = await send('GET', `${V2(tenant.id, prefix)}/certificate/${domain}/finalize?orderuri=${encodeURIComponent(order.json.orderUri)}`, {
        key: tenant.apiKey,
      });
      assert.equal(again.status, 200, 'finalizing a finalized order answers the certificate again');
    }
  });

  test('gen 1: create → get → validate (seed 001 as written) → get until ready → finalize → certificate get, get/all → delete', async () => {
    const root = `shop1.${ZONE}`;
    const host = `www.${root}`;
    const created = await send('POST', `${V1_ORDER(tenant.id)}/create`, {
      key: tenant.apiKey,
      body: `{
    "hostName" : "${host}",
    "rootDomain" : "${root}",
    "email":"support@rclapp.com",
    "challengeType":"DNS",
    "isSAN":false
}`,
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(created.status, 200, created.text);
    assert.equal(created.json.status, 'pending');
    assert.equal(created.json.certificateUri, null);
    assert.deepEqual(
      created.json.validationTokens.map((t: { tokenName: string; challengeType: string; domain: string }) => [t.tokenName, t.challengeType, t.domain]),
      [['_acme-challenge.www', 'DNS', host]],
    );
    assert.deepEqual(created.json.challenges.map((c: { challengeType: string; status: string }) => [c.challengeType, c.status]), [['dns-01', 'pending']]);
    const orderUri = created.json.orderUri;

    const got = await send('POST', `${V1_ORDER(tenant.id)}/get`, { key: tenant.apiKey, body: { orderUri, challengeType: 'DNS', rootDomain: root } });
    assert.equal(got.status, 200, got.text);
    assert.deepEqual(got.json, created.json);

    await place(created.json.validationTokens, root);
    const validated = await send('POST', `${V1_ORDER(tenant.id)}/validate`, {
      key: tenant.apiKey,
      body: `{
"orderUri":"${orderUri}",
"challengeType":"DNS"
}`,
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(validated.status, 200, validated.text);
    const ready = await eventually(
      () => send('POST', `${V1_ORDER(tenant.id)}/get`, { key: tenant.apiKey, body: { orderUri, challengeType: 'DNS', rootDomain: root } }),
      (answer) => answer.json?.status !== 'pending',
      30_000,
      'order ready',
    );
    assert.equal(ready.json.status, 'ready');
    assert.equal(ready.json.challenges[0].status, 'valid');
    const notAgain = await send('POST', `${V1_ORDER(tenant.id)}/validate`, { key: tenant.apiKey, body: { orderUri, challengeType: 'DNS' } });
    assertText(notAgain, 400, /ready.*finalize/);

    const finalizeBody = {
      hostName: host,
      rootDomain: root,
      orderUri,
      challengeType: 'DNS',
      email: 'support@mail.com',
      password: 'pwd1234',
      csrInfo: { countryName: 'Trinidad', locality: 'Homeland Gardens', state: 'Cunupia', organization: 'Ray Consulting Limited', organizationUnit: 'IT' },
    };
    const badCountry = await send('POST', `${V1_ORDER(tenant.id)}/finalize`, { key: tenant.apiKey, body: finalizeBody });
    assertText(badCountry, 400, /csrInfo\.countryName.*two-letter/);
    const badUnit = await send('POST', `${V1_ORDER(tenant.id)}/finalize`, {
      key: tenant.apiKey,
      body: { ...finalizeBody, csrInfo: { ...finalizeBody.csrInfo, countryName: 'TT', organizationUnit: 'I\u0000T' } },
    });
    assertText(badUnit, 400, /csrInfo\.organizationUnit.*control characters/);
    const finalized = await send('POST', `${V1_ORDER(tenant.id)}/finalize`, {
      key: tenant.apiKey,
      body: { ...finalizeBody, csrInfo: { ...finalizeBody.csrInfo, countryName: 'TT' } },
    });
    assert.equal(finalized.status, 200, finalized.text);
    assert.equal(finalized.json.certificateName, host);
    assert.equal(finalized.json.rootDomain, root);
    assert.equal(finalized.json.challengeType, 'DNS');
    assert.equal(finalized.json.password, 'pwd1234', 'the password given at finalize protects the PFX');
    const leaf = await checkFiles(finalized.json);
    assert.deepEqual(names(leaf), [host]);
    const valid = await send('POST', `${V1_ORDER(tenant.id)}/get`, { key: tenant.apiKey, body: { orderUri } });
    assert.equal(valid.json.status, 'valid');
    assert.match(valid.json.certificateUri, /^https:\/\//);

    const certificate = await send('GET', `${V1_CERT(tenant.id)}/get?name=${host}`, { key: tenant.readKey });
    assert.equal(certificate.status, 200, certificate.text);
    assert.equal(certificate.json.issueDate, finalized.json.issueDate);
    const all = await send('GET', `${V1_CERT(tenant.id)}/get/all`, { key: tenant.readKey });
    assert.equal(all.status, 200);
    const listed = all.json.find((c: { certificateName: string }) => c.certificateName === host);
    assert.deepEqual(listed, { certificateName: host, issueDate: finalized.json.issueDate, expiryDate: finalized.json.expiryDate });

    assertText(await send('DELETE', `${V1_CERT(tenant.id)}/delete?name=${host}`, { key: tenant.readKey }), 403, /write/);
    const deleted = await send('DELETE', `${V1_CERT(tenant.id)}/delete?name=${host}`, { key: tenant.apiKey });
    assert.equal(deleted.status, 200, deleted.text);
    assertText(await send('GET', `${V1_CERT(tenant.id)}/get?name=${host}`, { key: tenant.apiKey }), 404, /no certificate/);
    const link = await download(finalized.json.certificateDownloadUrl.pemUrl);
    assert.equal(link.status, 410, 'the links of a deleted certificate are gone');
  });

  test('gen 1, HTTP: a single host with a file in the webroot; a wildcard hostName with HTTP is refused', async () => {
    const root = `shop2.${ZONE}`;
    const created = await send('POST', `${V1_ORDER(tenant.id)}/create`, {
      key: tenant.apiKey,
      body: { hostName: `store.${root}`, rootDomain: root, email: 'support@rclapp.com', challengeType: 'http', isSAN: false },
    });
    assert.equal(created.status, 200, created.text);
    const [token] = created.json.validationTokens;
    assert.equal(token.challengeType, 'HTTP');
    await place(created.json.validationTokens, root);
    const validated = await send('POST', `${V1_ORDER(tenant.id)}/validate`, { key: tenant.apiKey, body: { orderUri: created.json.orderUri, challengeType: 'HTTP' } });
    assert.equal(validated.status, 200, validated.text);
    const finalized = await send('POST', `${V1_ORDER(tenant.id)}/finalize`, {
      key: tenant.apiKey,
      body: { hostName: `store.${root}`, rootDomain: root, orderUri: created.json.orderUri, challengeType: 'HTTP', email: 'support@rclapp.com', password: 'p', csrInfo: null },
    });
    assert.equal(finalized.status, 200, finalized.text);
    assert.deepEqual(names(await checkFiles(finalized.json)), [`store.${root}`]);

    const wildcard = await send('POST', `${V1_ORDER(tenant.id)}/create`, {
      key: tenant.apiKey,
      body: { hostName: `*.${root}`, rootDomain: root, challengeType: 'HTTP', isSAN: false },
    });
    assertText(wildcard, 400, /wildcard.*DNS/);
  });

  test('gen 1: a wildcard hostName with DNS is stored as wildcard.<root> and found by either name', async () => {
    const root = `wild.${ZONE}`;
    const created = await send('POST', `${V1_ORDER(tenant.id)}/create`, {
      key: tenant.apiKey,
      body: { hostName: `*.${root}`, rootDomain: root, challengeType: 'dns', isSAN: false },
    });
    assert.equal(created.status, 200, created.text);
    assert.deepEqual(created.json.validationTokens.map((t: { tokenName: string }) => t.tokenName), ['_acme-challenge']);
    await place(created.json.validationTokens, root);
    const finalized = await send('POST', `${V1_ORDER(tenant.id)}/finalize`, {
      key: tenant.apiKey,
      body: { hostName: `*.${root}`, orderUri: created.json.orderUri, password: 'w' },
    });
    assert.equal(finalized.status, 200, finalized.text);
    assert.equal(finalized.json.certificateName, `wildcard.${root}`);
    assert.deepEqual(names(await checkFiles(finalized.json)), [`*.${root}`]);
    assert.equal((await send('GET', `${V1_CERT(tenant.id)}/get?name=*.${root}`, { key: tenant.apiKey })).status, 200);
    assert.equal((await send('GET', `${V1_CERT(tenant.id)}/get?name=wildcard.${root}`, { key: tenant.apiKey })).status, 200);
  });

  test('an order whose validation failed is invalid and cannot be validated again', async () => {
    const root = `nope.${ZONE}`;
    const created = await send('POST', `${V1_ORDER(tenant.id)}/create`, { key: tenant.apiKey, body: { hostName: root, rootDomain: root, challengeType: 'DNS' } });
    assert.equal(created.status, 200, created.text);
    // No TXT record placed: the CA finds nothing.
    const failed = await send('POST', `${V1_ORDER(tenant.id)}/validate`, { key: tenant.apiKey, body: { orderUri: created.json.orderUri, challengeType: 'DNS' } });
    assertText(failed, 400, /validation failed.*create a new order/);
    const got = await send('POST', `${V1_ORDER(tenant.id)}/get`, { key: tenant.apiKey, body: { orderUri: created.json.orderUri } });
    assert.equal(got.json.status, 'invalid');
    assert.equal(got.json.challenges[0].status, 'invalid');
    const again = await send('POST', `${V1_ORDER(tenant.id)}/validate`, { key: tenant.apiKey, body: { orderUri: created.json.orderUri, challengeType: 'DNS' } });
    assertText(again, 400, /invalid.*create a new order/);
    const finalize = await send('POST', `${V1_ORDER(tenant.id)}/finalize`, { key: tenant.apiKey, body: { orderUri: created.json.orderUri, password: 'x' } });
    assertText(finalize, 400, /invalid|cannot be validated again/);
    const schedule = await send('POST', `${V3(tenant.id)}/schedule/create`, { key: tenant.apiKey, body: { orderUri: created.json.orderUri } });
    assertText(schedule, 400, /invalid/);
  });

  test('unhappy paths: 401, 403, 404, 400 as text; nothing of another subscription leaks; the server stays up and the store intact', async () => {
    const domain = `shopeneur.${ZONE}`;
    const before = await getV3(domain);
    assert.equal(before.status, 200);
    const path = `${V3(tenant.id)}/get/certificatename/${domain}`;

    assertText(await send('GET', path), 401, /Bearer/);
    assertText(await send('GET', path, { headers: { authorization: 'Basic dXNlcjpwYXNz' } }), 401, /Bearer/);
    assertText(await send('GET', path, { key: 'ck_aaaaaaaaaaaa.bogus' }), 401, /not valid/);
    assertText(await send('GET', path, { key: other.apiKey }), 401, /does not belong/);
    assertText(await send('GET', `${V3(other.id)}/get/certificatename/${domain}`, { key: tenant.apiKey }), 401, /does not belong/);
    assertText(await send('GET', `${V3(other.id)}/get/certificatename/${domain}`, { key: other.apiKey }), 404, /no certificate/);
    for (const unknown of [
      `${V3(tenant.id)}/get/certificatename/unknown.${ZONE}`,
      `${V2(tenant.id, '/public')}/certificate/unknown.${ZONE}`,
      `${V2(tenant.id)}/certificate/unknown.${ZONE}/order`,
      `${V1_CERT(tenant.id)}/get?name=unknown.${ZONE}`,
    ]) {
      assertText(await send('GET', unknown, { key: tenant.apiKey }), 404, /no certificate named/);
    }
    assertText(await send('DELETE', `${V3(tenant.id)}/delete/certificatename/unknown.${ZONE}`, { key: tenant.apiKey }), 404, /no certificate/);
    assertText(await send('GET', `${V2(tenant.id)}/certificate/${domain}/order`, { key: tenant.readKey }), 403, /write/);

    const order = (body: unknown, key = tenant.apiKey) => send('POST', `${V3(tenant.id)}/order/create`, { key, body });
    const good = { certificateName: `bad.${ZONE}`, rootDomain: `bad.${ZONE}`, challengeType: 'dns', target: 'Stand ALone', isSAN: false };
    assertText(await order({ ...good, target: 'Azure App Service' }), 400, /target.*Azure App Service.*Stand Alone/);
    assertText(await order({ ...good, target: 'AzureKeyVault' }), 400, /Stand Alone/);
    assertText(await order({ ...good, challengeType: 'tls-alpn' }), 400, /challengeType.*DNS or HTTP/);
    assertText(await order({ ...good, challengeType: 'http', certificateName: `*.bad.${ZONE}` }), 400, /wildcard/);
    assertText(await order({ ...good, rootDomain: 'not a domain' }), 400, /rootDomain/);
    assertText(await order({ ...good, certificateName: `www.elsewhere.test` }), 400, /certificateName.*not in rootDomain/);
    assertText(await order({ ...good, certificateName: 'a/b' }), 400, /certificateName/);
    assertText(await order({ ...good, email: 'not-an-address' }), 400, /email/);
    assertText(await order({ ...good, isSAN: 'false' }), 400, /isSAN.*boolean/);
    assertText(await order({ ...good, rootDomain: 42 }), 400, /rootDomain.*string/);
    assertText(await order({ certificateName: 'x' }), 400, /rootDomain.*required/);
    assertText(await order([good]), 400, /object/);
    assertText(await order(good, tenant.readKey), 403, /write/);
    const malformed = await send('POST', `${V3(tenant.id)}/order/create`, { key: tenant.apiKey, body: '{"certificateName": "x",', headers: { 'content-type': 'application/json' } });
    assertText(malformed, 400, /JSON/);
    const notJson = await send('POST', `${V3(tenant.id)}/order/create`, { key: tenant.apiKey, body: 'certificateName=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assertText(notJson, 400, /.+/);
    assertText(await send('POST', `${V1_ORDER(tenant.id)}/get`, { key: tenant.apiKey, body: {} }), 400, /orderUri.*required/);
    assertText(await send('POST', `${V1_ORDER(tenant.id)}/get`, { key: tenant.apiKey, body: { orderUri: 'https://elsewhere.test/order/1' } }), 400, /not an order of this subscription/);
    assertText(await send('GET', `${V1_CERT(tenant.id)}/get`, { key: tenant.apiKey }), 400, /name.*required/);
    assertText(await send('GET', `${V2(tenant.id)}/certificate/${domain}/finalize`, { key: tenant.apiKey }), 400, /orderuri.*required/);

    // Another subscription's order: refused like an unknown one, and nothing of it in the answer.
    const theirs = await send('POST', `${V3(other.id)}/order/create`, {
      key: other.apiKey,
      body: { certificateName: `secret.${ZONE}`, rootDomain: `secret.${ZONE}`, challengeType: 'dns', password: 'their-secret' },
    });
    assert.equal(theirs.status, 200, theirs.text);
    const theirUri = theirs.json.orderUri;
    const attempts = [
      await send('POST', `${V1_ORDER(tenant.id)}/get`, { key: tenant.apiKey, body: { orderUri: theirUri } }),
      await send('POST', `${V1_ORDER(tenant.id)}/validate`, { key: tenant.apiKey, body: { orderUri: theirUri } }),
      await send('POST', `${V1_ORDER(tenant.id)}/finalize`, { key: tenant.apiKey, body: { orderUri: theirUri, password: 'x' } }),
      await send('POST', `${V3(tenant.id)}/schedule/create`, { key: tenant.apiKey, body: { orderUri: theirUri } }),
      await send('GET', `${V2(tenant.id)}/certificate/${domain}/finalize?orderuri=${encodeURIComponent(theirUri)}`, { key: tenant.apiKey }),
    ];
    for (const attempt of attempts) {
      assertText(attempt, 400, /not an order of this subscription/);
      assert.doesNotMatch(attempt.text, /secret|their-secret/);
      assert.ok(!attempt.text.includes(other.id));
    }
    // An order of this subscription, but of another certificate than the one named.
    const web = await getV3(`web.${ZONE}`);
    const mismatch = await send('GET', `${V2(tenant.id)}/certificate/${domain}/finalize?orderuri=${encodeURIComponent(web.json.orderUri)}`, { key: tenant.apiKey });
    assertText(mismatch, 400, /is for certificate/);
    const theirsAfter = await send('GET', `${V3(other.id)}/get/certificatename/secret.${ZONE}`, { key: other.apiKey });
    assert.equal(theirsAfter.json.tokens.length, 1, "their order is untouched: still waiting for its tokens");

    assert.equal((await server.call('GET', '/healthz')).status, 200, 'still up');
    const after = await getV3(domain);
    assert.equal(after.status, 200);
    assert.equal(after.json.issueDate, before.json.issueDate, 'the stored certificate is as it was');
    assert.equal(after.json.orderUri, before.json.orderUri);
    await checkFiles(after.json);
    assert.doesNotMatch(server.output(), /"level":50/, 'no request failed with a 500');
  });

  test("the vendor's SDK: numeric ids back in paths, schedule/renew on both spellings, then schedule/create with the new order finishes it", async () => {
    const domain = `shopeneur.${ZONE}`;
    const issued = await getV3(domain);
    assert.equal(issued.status, 200, issued.text);
    const { subscriptionId, id } = issued.json;
    // The SDK builds its paths from what it read: the subscription's and the certificate's numbers.
    const byNumbers = await send('GET', `${V3(String(subscriptionId))}/get/certificatename/${id}`, { key: tenant.apiKey });
    assert.equal(byNumbers.status, 200, byNumbers.text);
    assert.equal(byNumbers.json.certificateName, domain);
    assert.equal((await send('GET', `${V2(String(subscriptionId))}/certificate/${id}`, { key: tenant.readKey })).json.certificateName, domain);
    assert.equal((await send('GET', `${V1_CERT(String(subscriptionId))}/get?name=${id}`, { key: tenant.readKey })).json.id, id);
    const otherNumber = (await send('POST', `${V3(other.id)}/order/create`, {
      key: other.apiKey,
      body: { certificateName: `mine.${ZONE}`, rootDomain: `mine.${ZONE}`, challengeType: 'dns' },
    })).json.subscriptionId;
    assertText(await send('GET', `${V3(String(otherNumber))}/get/certificatename/${id}`, { key: tenant.apiKey }), 401, /does not belong to subscription/);

    for (const base of [V3, V3_SEED_SPELLING]) {
      // The SDK sends the Certificate object it read back, numbers and all.
      const renewed = await send('POST', `${base(String(subscriptionId))}/schedule/renew`, { key: tenant.apiKey, body: issued.json });
      assert.equal(renewed.status, 200, renewed.text);
      assert.equal(renewed.text, '', 'an empty body at once');
    }
    // The client answers this certificate's challenges: the renewal's tokens and orderUri come with the certificate.
    // (Its token, unless Pebble reused the name's valid authorization, as it does one time in a hundred.)
    const open = await eventually(
      () => getV3(domain),
      (answer) => Boolean(answer.json.orderUri) && answer.json.orderUri !== issued.json.orderUri,
      30_000,
      'the renewal order placed',
    );
    assert.ok(open.json.tokens.length <= 1, JSON.stringify(open.json.tokens));
    assert.notEqual(open.json.orderUri, issued.json.orderUri, 'one new order for the two calls');
    assert.equal(open.json.issueDate, issued.json.issueDate, 'the issued certificate stays meanwhile');
    await place(open.json.tokens, domain);
    const scheduled = await send('POST', `${V3(tenant.id)}/schedule/create`, { key: tenant.apiKey, body: { ...open.json, orderUri: open.json.orderUri } });
    assert.equal(scheduled.status, 200, scheduled.text);
    const renewed = await untilIssued(domain, issued);
    assert.equal(renewed.json.id, id, 'the same certificate');
    assert.notEqual(renewed.json.certificateDownloadUrl.certCrtUrl, issued.json.certificateDownloadUrl.certCrtUrl, 'a new version');
    assert.ok(Date.parse(renewed.json.issueDate) >= Date.parse(issued.json.issueDate));

    assertText(await send('POST', `${V3(tenant.id)}/schedule/renew`, { key: tenant.apiKey, body: { target: 'Stand Alone' } }), 400, /certificateName/);
    assertText(await send('POST', `${V3(tenant.id)}/schedule/renew`, { key: tenant.apiKey, body: { id: 99999 } }), 404, /99999/);
    assertText(await send('POST', `${V3(tenant.id)}/schedule/renew`, { key: tenant.readKey, body: { id } }), 403, /write/);
    assertText(await send('GET', `${V3(tenant.id)}/no/such/route`, { key: tenant.apiKey }), 404, /no route GET/);
    assertText(await send('GET', '/production/ssl/core/v1/nothing', {}), 404, /no route GET/);
  });
});
