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
import { agentScene, deployedThere, deploymentOf, renewAndWait, startAgent } from './agents.ts';
import { runCli } from './harness.ts';

test('the agent through an HTTPS reverse proxy with a private CA: --server-ca trusts it, its absence is explained', async (t) => {
  const { server, root, key, name, agent: web, allowed, directory, target } = await agentScene(t, 'tls');
  const ca = await makeTestCa(root);
  const leaf = await ca.issue(['127.0.0.1']);
  const certificateFile = join(root, 'proxy.pem');
  const keyFile = join(root, 'proxy.key');
  await writeFile(certificateFile, leaf.fullchainPem);
  await writeFile(keyFile, leaf.keyPem, { mode: 0o600 });
  const proxy = await startNginx({ root, tls: { certificateFile, keyFile }, proxyTo: server.base });
  t.after(() => proxy.stop());
  const base = `https://127.0.0.1:${proxy.tlsPort}`;
  const caFile = join(root, 'root.pem');

  const once = (args: string[]) =>
    runCli(['agent', '--server', base, '--token', web.token, '--allow-dir', allowed, '--once', '--state-dir', join(root, 'once'), ...args], {});

  await t.test('without --server-ca: not trusted, said so with the fix, nothing deployed', async () => {
    const refused = await once([]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /the server's certificate is not trusted \([A-Z_]+/);
    assert.match(refused.stderr, /--server-ca FILE/);
    assert.doesNotMatch(refused.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(await readDeployment(directory), undefined);
  });

  await t.test('a --server-ca that is missing, or holds no certificate, is one line naming the flag and exit 2', async () => {
    const missing = await once(['--server-ca', join(root, 'nope.pem')]);
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

    const agent = startAgent({ server: base, token: web.token, args: ['--server-ca', caFile, '--allow-dir', allowed, '--state-dir', join(root, 'state')] });
    t.after(() => agent.kill());
    await deploymentOf(server, key, name, target, (d) => d.status === 'deployed', `reported\n${agent.output()}`);
    const renewed = await renewAndWait(server, key, name);
    await deployedThere(directory, renewed, `the renewal deployed\n${agent.output()}`);
    assert.doesNotMatch(agent.output(), /long polling/, 'the stream passed through the proxy');
    assert.equal(await agent.stop(), 0);
  });
});
