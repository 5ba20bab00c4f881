// The agent reaching certkeep serve over HTTPS, as it is deployed: nginx in
// front of the server with a certificate from a private CA. With --server-ca
// naming that CA the agent deploys and follows the stream through the proxy;
// without it the agent says the certificate is not trusted and how to fix it;
// a --server-ca that is missing or not a certificate is one line at start.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { normalSerial, readDeployment } from '../../src/deploy/index.ts';
import { makeTestCa } from '../deploy/certificates.ts';
import { startNginx } from '../rig/nginx.ts';
import { tempDir } from '../rig/tmp.ts';
import { assign, deploymentOf, enrolAgent, startAgent } from './agents.ts';
import { runCli, startRig, ZONE } from './harness.ts';
import { eventually, settledOrder, startServer } from './server.ts';

test('the agent through an HTTPS reverse proxy with a private CA: --server-ca trusts it, its absence is explained', async (t) => {
  const rig = await startRig();
  t.after(() => rig.stop());
  const root = await tempDir('certkeep-agent-tls-');
  t.after(() => root.remove());
  const server = await startServer(rig);
  t.after(() => server.stop());

  const ca = await makeTestCa(root.path);
  const leaf = await ca.issue(['127.0.0.1']);
  const certificateFile = join(root.path, 'proxy.pem');
  const keyFile = join(root.path, 'proxy.key');
  await writeFile(certificateFile, leaf.fullchainPem);
  await writeFile(keyFile, leaf.keyPem, { mode: 0o600 });
  const proxy = await startNginx({ root: root.path, tls: { certificateFile, keyFile }, proxyTo: server.base });
  t.after(() => proxy.stop());
  const base = `https://127.0.0.1:${proxy.tlsPort}`;
  const caFile = join(root.path, 'root.pem');

  const tenant = await server.subscription('behind-a-proxy');
  const key = tenant.apiKey;
  const name = `tls-agent.${ZONE}`;
  const created = await server.call('POST', '/api/v1/certificates', { key, body: { names: [name], challengeType: 'http-01' } });
  assert.equal((await settledOrder(server, (await created.json()).order.id, key)).status, 'valid');
  const web = await enrolAgent(server, tenant.id, 'web.example.test');
  const allowed = join(root.path, 'tls');
  const directory = join(allowed, name);
  const target = await assign(server, key, web.id, { certificate: name, to: directory });
  const once = (args: string[]) =>
    runCli(['agent', '--server', base, '--token', web.token, '--allow-dir', allowed, '--once', '--state-dir', join(root.path, 'once'), ...args], {});

  await t.test('without --server-ca: not trusted, said so with the fix, nothing deployed', async () => {
    const refused = await once([]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /the server's certificate is not trusted \([A-Z_]+/);
    assert.match(refused.stderr, /--server-ca FILE/);
    assert.doesNotMatch(refused.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(await readDeployment(directory), undefined);
  });

  await t.test('a --server-ca that is missing, or holds no certificate, is one line naming the flag and exit 2', async () => {
    const missing = await once(['--server-ca', join(root.path, 'nope.pem')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^certkeep agent: --server-ca: cannot read .*nope\.pem: ENOENT\n$/);
    const notPem = await once(['--server-ca', keyFile]);
    assert.equal(notPem.code, 2);
    assert.match(notPem.stderr, /--server-ca: .*proxy\.key holds no PEM certificate/);
    assert.doesNotMatch(notPem.stderr, /PRIVATE KEY/, 'the file is not echoed');
  });

  await t.test('with --server-ca: --once deploys, and a running agent follows the stream through nginx', async () => {
    const done = await once(['--server-ca', caFile]);
    assert.equal(done.code, 0, done.stdout + done.stderr);
    const first = normalSerial((await readDeployment(directory))?.serial ?? '');
    assert.ok(first, '--once deployed the current version');

    const agent = startAgent({ server: base, token: web.token, args: ['--server-ca', caFile, '--allow-dir', allowed, '--state-dir', join(root.path, 'state')] });
    t.after(() => agent.kill());
    await deploymentOf(server, key, name, target, (d) => d.status === 'deployed', `reported\n${agent.output()}`);
    const renewing = await server.call('POST', `/api/v1/certificates/${name}/renew`, { key });
    assert.equal(renewing.status, 202);
    const renewed = await eventually(
      async () => normalSerial((await (await server.call('GET', `/api/v1/certificates/${name}`, { key })).json()).serial ?? ''),
      (serial) => serial !== first && serial !== '',
      60_000,
      'the renewal',
    );
    await eventually(async () => normalSerial((await readDeployment(directory))?.serial ?? ''), (serial) => serial === renewed, 30_000, `the renewal deployed\n${agent.output()}`);
    assert.doesNotMatch(agent.output(), /long polling/, 'the stream passed through the proxy');
    assert.equal(await agent.stop(), 0);
  });
});
