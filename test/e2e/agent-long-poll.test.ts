// Where the server's event stream cannot be had (a proxy in front of it that
// does not pass server-sent events), the agent follows it by long polling and
// still deploys each new version within seconds; --once converges and exits 0.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { normalSerial, readDeployment } from '../../src/deploy/index.ts';
import { agentScene, deployedThere, deploymentOf, proxyToServer, renewAndWait, startAgent } from './agents.ts';
import { runCli } from './harness.ts';
import { eventually } from './server.ts';

test('without the event stream the agent long-polls, and a renewal still arrives', async (t) => {
  const { server, root, key, name, agent: web, allowed, directory, target } = await agentScene(t, 'polling');
  const proxy = await proxyToServer(server.base, 'refuse');
  t.after(() => proxy.close());

  const once = await runCli(['agent', '--server', proxy.base, '--token', web.token, '--allow-dir', allowed, '--once', '--state-dir', join(root, 'once')], {});
  assert.equal(once.code, 0, once.stdout + once.stderr);
  const first = normalSerial((await readDeployment(directory))?.serial ?? '');
  assert.ok(first, '--once deployed the current version');

  const agent = startAgent({ server: proxy.base, token: web.token, args: ['--allow-dir', allowed, '--state-dir', join(root, 'state')] });
  t.after(() => agent.kill());
  await eventually(async () => agent.output(), (out) => out.includes('following the server by long polling'), 30_000, 'the fallback');
  assert.ok(proxy.streamsSpoiled() >= 1);
  const renewed = await renewAndWait(server, key, name);
  await deployedThere(directory, renewed, `the renewal deployed\n${agent.output()}`);
  await deploymentOf(server, key, name, target, (d) => d.status === 'deployed' && normalSerial(d.serial ?? '') === renewed, 'reported');
  assert.equal(proxy.streamsSpoiled(), 1, 'the stream is left aside once it proved unavailable');
  assert.equal(await agent.stop(), 0, 'SIGTERM ends the agent cleanly');
});

test('a proxy that swallows the stream after its first list: the periodic full read (--resync) still brings the renewal', async (t) => {
  const { server, root, key, name, agent: web, allowed, directory, target } = await agentScene(t, 'resync');
  const proxy = await proxyToServer(server.base, 'mute');
  t.after(() => proxy.close());

  const badResync = await runCli(['agent', '--server', proxy.base, '--token', web.token, '--resync=-5', '--once'], {});
  assert.equal(badResync.code, 2);
  assert.match(badResync.stderr, /--resync: "-5" must be whole seconds/);

  const args = ['--allow-dir', allowed, '--state-dir', join(root, 'state'), '--resync', '2'];
  const agent = startAgent({ server: proxy.base, token: web.token, args });
  t.after(() => agent.kill());
  await deploymentOf(server, key, name, target, (d) => d.status === 'deployed', `the first deployment\n${agent.output()}`);
  assert.ok(proxy.streamsSpoiled() >= 1, 'the stream went through the muting proxy');
  const renewed = await renewAndWait(server, key, name);
  await deployedThere(directory, renewed, `the renewal deployed\n${agent.output()}`);
  assert.match(agent.output(), /the targets changed without word from the stream/);
  assert.doesNotMatch(agent.output(), /long polling/, 'the stream itself looked healthy');
  assert.equal(await agent.stop(), 0);
});
