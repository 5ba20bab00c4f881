// Where the server's event stream cannot be had (a proxy in front of it that
// does not pass server-sent events), the agent follows it by long polling and
// still deploys each new version within seconds; --once converges and exits 0.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { normalSerial, readDeployment } from '../../src/deploy/index.ts';
import { tempDir } from '../rig/tmp.ts';
import { assign, deploymentOf, enrolAgent, proxyToServer, startAgent } from './agents.ts';
import { runCli, startRig, ZONE } from './harness.ts';
import { eventually, settledOrder, startServer } from './server.ts';

test('without the event stream the agent long-polls, and a renewal still arrives', async (t) => {
  const rig = await startRig();
  t.after(() => rig.stop());
  const root = await tempDir('certkeep-agent-poll-');
  t.after(() => root.remove());
  const server = await startServer(rig);
  t.after(() => server.stop());
  const proxy = await proxyToServer(server.base, 'refuse');
  t.after(() => proxy.close());
  const tenant = await server.subscription('polling');
  const key = tenant.apiKey;
  const name = `poll.${ZONE}`;
  const created = await server.call('POST', '/api/v1/certificates', { key, body: { names: [name], challengeType: 'http-01' } });
  assert.equal((await settledOrder(server, (await created.json()).order.id, key)).status, 'valid');
  const web = await enrolAgent(server, tenant.id, 'web.example.test');
  const directory = join(root.path, 'tls', name);
  const target = await assign(server, key, web.id, { certificate: name, to: directory });

  const once = await runCli(['agent', '--server', proxy.base, '--token', web.token, '--allow-dir', join(root.path, 'tls'), '--once', '--state-dir', join(root.path, 'once')], {});
  assert.equal(once.code, 0, once.stdout + once.stderr);
  const first = normalSerial((await readDeployment(directory))?.serial ?? '');
  assert.ok(first, '--once deployed the current version');

  const agent = startAgent({ server: proxy.base, token: web.token, args: ['--allow-dir', join(root.path, 'tls'), '--state-dir', join(root.path, 'state')] });
  t.after(() => agent.kill());
  await eventually(async () => agent.output(), (out) => out.includes('following the server by long polling'), 30_000, 'the fallback');
  assert.ok(proxy.streamsSpoiled() >= 1);
  const renew = await server.call('POST', `/api/v1/certificates/${name}/renew`, { key });
  assert.equal(renew.status, 202);
  const renewed = await eventually(
    async () => normalSerial((await (await server.call('GET', `/api/v1/certificates/${name}`, { key })).json()).serial ?? ''),
    (serial) => serial !== first && serial !== '',
    60_000,
    'the renewal',
  );
  await eventually(async () => normalSerial((await readDeployment(directory))?.serial ?? ''), (serial) => serial === renewed, 30_000, `the renewal deployed\n${agent.output()}`);
  await deploymentOf(server, key, name, target, (d) => d.status === 'deployed' && normalSerial(d.serial ?? '') === renewed, 'reported');
  assert.equal(proxy.streamsSpoiled(), 1, 'the stream is left aside once it proved unavailable');
  assert.equal(await agent.stop(), 0, 'SIGTERM ends the agent cleanly');
});

test('a proxy that swallows the stream after its first list: the periodic full read (--resync) still brings the renewal', async (t) => {
  const rig = await startRig();
  t.after(() => rig.stop());
  const root = await tempDir('certkeep-agent-resync-');
  t.after(() => root.remove());
  const server = await startServer(rig);
  t.after(() => server.stop());
  const proxy = await proxyToServer(server.base, 'mute');
  t.after(() => proxy.close());
  const tenant = await server.subscription('resync');
  const key = tenant.apiKey;
  const name = `resync.${ZONE}`;
  const created = await server.call('POST', '/api/v1/certificates', { key, body: { names: [name], challengeType: 'http-01' } });
  assert.equal((await settledOrder(server, (await created.json()).order.id, key)).status, 'valid');
  const web = await enrolAgent(server, tenant.id, 'web.example.test');
  const directory = join(root.path, 'tls', name);
  const target = await assign(server, key, web.id, { certificate: name, to: directory });

  const badResync = await runCli(['agent', '--server', proxy.base, '--token', web.token, '--resync=-5', '--once'], {});
  assert.equal(badResync.code, 2);
  assert.match(badResync.stderr, /--resync: "-5" must be whole seconds/);

  const args = ['--allow-dir', join(root.path, 'tls'), '--state-dir', join(root.path, 'state'), '--resync', '2'];
  const agent = startAgent({ server: proxy.base, token: web.token, args });
  t.after(() => agent.kill());
  const first = (await deploymentOf(server, key, name, target, (d) => d.status === 'deployed', `the first deployment\n${agent.output()}`)).serial;
  assert.ok(proxy.streamsSpoiled() >= 1, 'the stream went through the muting proxy');
  const renew = await server.call('POST', `/api/v1/certificates/${name}/renew`, { key });
  assert.equal(renew.status, 202);
  const renewed = await eventually(
    async () => normalSerial((await (await server.call('GET', `/api/v1/certificates/${name}`, { key })).json()).serial ?? ''),
    (serial) => serial !== normalSerial(first ?? '') && serial !== '',
    60_000,
    'the renewal',
  );
  await eventually(async () => normalSerial((await readDeployment(directory))?.serial ?? ''), (serial) => serial === renewed, 30_000, `the renewal deployed\n${agent.output()}`);
  assert.match(agent.output(), /the targets changed without word from the stream/);
  assert.doesNotMatch(agent.output(), /long polling/, 'the stream itself looked healthy');
  assert.equal(await agent.stop(), 0);
});
