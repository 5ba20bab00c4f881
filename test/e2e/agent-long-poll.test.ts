// Where the server's event stream cannot be had (a proxy in front of it that
// does not pass server-sent events), the agent follows it by long polling and
// still deploys each new version within seconds; --once converges and exits 0.
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { normalSerial, readDeployment } from '../../src/deploy/index.ts';
import { tempDir } from '../rig/tmp.ts';
import { assign, deploymentOf, enrolAgent, startAgent } from './agents.ts';
import { runCli, startRig, ZONE } from './harness.ts';
import { eventually, settledOrder, startServer } from './server.ts';

/** A reverse proxy to `target` that answers 502 for the agent's stream, as a proxy that buffers it would fail it. */
async function proxyWithoutStreams(target: string): Promise<{ base: string; streamsRefused: () => number; close(): Promise<void> }> {
  const upstream = new URL(target);
  let refused = 0;
  const server = createServer((incoming, outgoing) => {
    if (incoming.url?.startsWith('/api/v1/agent/stream')) {
      refused++;
      outgoing.writeHead(502, { 'content-type': 'text/plain' }).end('streams are not passed here');
      return;
    }
    const forwarded = request(
      { host: upstream.hostname, port: upstream.port, path: incoming.url, method: incoming.method, headers: incoming.headers },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', () => outgoing.destroy());
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    streamsRefused: () => refused,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

test('without the event stream the agent long-polls, and a renewal still arrives', async (t) => {
  const rig = await startRig();
  t.after(() => rig.stop());
  const root = await tempDir('certkeep-agent-poll-');
  t.after(() => root.remove());
  const server = await startServer(rig);
  t.after(() => server.stop());
  const proxy = await proxyWithoutStreams(server.base);
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
  assert.ok(proxy.streamsRefused() >= 1);
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
  assert.equal(proxy.streamsRefused(), 1, 'the stream is left aside once it proved unavailable');
  assert.equal(await agent.stop(), 0, 'SIGTERM ends the agent cleanly');
});
