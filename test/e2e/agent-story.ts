// The host agent end to end (issue 13): a real `certkeep serve` issuing from
// Pebble, nginx on loopback reading the files an agent deploys, and agents as
// real processes — a renewal reaching nginx, the server away for a while, an
// agent SIGKILLed mid-deployment, two agents sharing a certificate, a target
// removed, what a host refuses, and tokens rotated and revoked.
import assert from 'node:assert/strict';
import { access, mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { normalSerial, readDeployment } from '../../src/deploy/index.ts';
import { freePort } from '../../src/rig/ports.ts';
import { servedSerial } from '../rig/https.ts';
import { tempDir } from '../rig/tmp.ts';
import { NGINX } from '../rig/web-server-cases.ts';
import { type AgentProcess, assign, currentSerial, deploymentOf, enrolAgent, renewAndWait, shownDeployments, startAgent } from './agents.ts';
import { startOnPlaceholder } from './delivery.ts';
import { runCli, startRig, ZONE } from './harness.ts';
import { eventually, type Server, settledOrder, startServer } from './server.ts';

/** Set to run the same story with dist/certkeep-agent (agent-exe.test.ts). */
export interface AgentStoryOptions {
  executable?: () => Promise<string>;
  label?: string;
}

export function agentStory(options: AgentStoryOptions = {}): void {
  test(`the host agent${options.label ?? ''}: renewals reach nginx and are verified; the server shows each deployment`, async (t) => {
    const executable = options.executable ? await options.executable() : undefined;
    const rig = await startRig();
    t.after(() => rig.stop());
    const root = await tempDir('certkeep-agent-');
    t.after(() => root.remove());
    const port = await freePort();
    let server: Server = await startServer(rig, { port, args: ['--renew-interval', '1'] });
    t.after(() => server.stop());
    const tenant = await server.subscription('agents');
    const key = tenant.apiKey;
    const name = `agent.${ZONE}`;
    const created = await server.call('POST', '/api/v1/certificates', { key, body: { names: [name], challengeType: 'http-01' } });
    assert.equal(created.status, 202, await created.clone().text());
    assert.equal((await settledOrder(server, (await created.json()).order.id, key)).status, 'valid');
    const serialNow = () => currentSerial(server, key, name);
    const renew = () => renewAndWait(server, key, name);

    const allowed = join(root.path, 'tls');
    const directory = join(allowed, name);
    const nginx = await startOnPlaceholder(NGINX, root.path, directory, name, [name]);
    t.after(() => nginx.stop());
    const web1 = await enrolAgent(server, tenant.id, 'web1.example.test');
    const target1 = await assign(server, key, web1.id, { certificate: name, to: directory, reload: 'nginx', verify: [`127.0.0.1:${nginx.port}`] });
    const agents: AgentProcess[] = [];
    t.after(async () => {
      for (const agent of agents) await agent.kill();
    });
    const runAgent = (token: string, args: string[]) => {
      const agent = startAgent({ server: server.base, token, args, executable });
      agents.push(agent);
      return agent;
    };
    const web1Args = (reload = nginx.reloadCommand) => [
      '--allow-dir', allowed, '--allow-reload', `nginx=${reload}`, '--state-dir', join(root.path, 'state1'),
    ];
    let agent1 = runAgent(web1.token, web1Args());

    await t.test('the first deployment: the current version reaches nginx, verified, and the server shows it', async () => {
      const current = await serialNow();
      await eventually(() => servedSerial(nginx.port, name), (s) => s === current, 60_000, `nginx serving ${current}\n${agent1.output()}`);
      const shown = await deploymentOf(server, key, name, target1, (d) => d.status === 'deployed', 'the deployment shown');
      assert.equal(normalSerial(shown.serial ?? ''), current);
      assert.equal(shown.agent, web1.id);
      assert.equal(shown.host, 'web1.example.test');
      assert.ok(shown.verifiedAt, 'verified');
      const asked = Math.floor(Date.now() / 1000) * 1000;
      const listed = (await (await server.call('GET', '/api/v1/agents', { key })).json()).agents;
      assert.equal(listed.length, 1);
      assert.ok(Date.parse(listed[0].lastSeenAt) >= asked, `an agent following the stream is seen now: ${listed[0].lastSeenAt}`);
      assert.deepEqual(listed[0].targets.map((target: { certificate: string; status: string }) => [target.certificate, target.status]), [[name, 'deployed']]);
    });

    await t.test('a renewal on the server reaches nginx through the stream, verified', async () => {
      const renewed = await renew();
      await eventually(() => servedSerial(nginx.port, name), (s) => s === renewed, 30_000, `nginx serving ${renewed}\n${agent1.output()}`);
      const shown = await deploymentOf(server, key, name, target1, (d) => d.status === 'deployed' && normalSerial(d.serial ?? '') === renewed, 'the renewed deployment shown');
      assert.ok(shown.verifiedAt);
      const events = (await (await server.call('GET', '/api/v1/events?limit=1000', { key })).json()).events;
      const succeeded = events.filter((e: { type: string; payload: { serial: string } }) => e.type === 'deployment.succeeded' && normalSerial(e.payload.serial) === renewed);
      assert.equal(succeeded.length, 1, 'one deployment.succeeded for the version');
      assert.equal(succeeded[0].payload.agent, web1.id);
    });

    await t.test('the server stopped for a while and started again: the agent keeps what it has, then converges', async () => {
      const served = await servedSerial(nginx.port, name);
      assert.equal(await server.stop(), 0);
      await eventually(async () => agent1.output(), (out) => /cannot reach the server|keeping what is deployed/.test(out), 30_000, 'the agent noticing');
      await new Promise((resolve) => setTimeout(resolve, 3000));
      assert.equal(await servedSerial(nginx.port, name), served, 'nginx still serves what it had');
      assert.equal(agent1.process.exitCode, null, 'the agent is still running');
      server = await startServer(rig, { port, args: ['--renew-interval', '1'] });
      const renewed = await renew();
      await eventually(() => servedSerial(nginx.port, name), (s) => s === renewed, 60_000, `nginx serving ${renewed} after the restart\n${agent1.output()}`);
      await deploymentOf(server, key, name, target1, (d) => d.status === 'deployed' && normalSerial(d.serial ?? '') === renewed, 'the deployment after the restart');
    });

    await t.test('the agent SIGKILLed mid-deployment and restarted: no half-written target, then the new version', async () => {
      await agent1.stop();
      const marker = join(root.path, 'reloading');
      agent1 = runAgent(web1.token, web1Args(`touch ${marker}; sleep 30; ${nginx.reloadCommand}`));
      const renewed = await renew();
      await eventually(() => access(marker).then(() => true, () => false), Boolean, 60_000, `the reload started\n${agent1.output()}`);
      const pending = await deploymentOf(server, key, name, target1, (d) => normalSerial(d.serial ?? '') === renewed, 'pending stored');
      assert.equal(pending.status, 'pending', 'the server knew of the deployment before the host was touched');
      await agent1.kill();
      // The directory is one whole version: every file there, the key matching.
      const files = (await readdir(directory)).sort();
      assert.deepEqual(files.filter((f) => f.endsWith('.pem')), ['cert.pem', 'chain.pem', 'fullchain.pem', 'privkey.pem']);
      assert.match(await readFile(join(directory, 'privkey.pem'), 'utf8'), /BEGIN PRIVATE KEY/);
      const held = await readDeployment(directory);
      assert.ok(held && !held.completedAt, 'the killed deployment is not complete');
      agent1 = runAgent(web1.token, web1Args());
      await eventually(() => servedSerial(nginx.port, name), (s) => s === renewed, 60_000, `nginx serving ${renewed} after the restart\n${agent1.output()}`);
      await deploymentOf(server, key, name, target1, (d) => d.status === 'deployed' && normalSerial(d.serial ?? '') === renewed, 'deployed after the kill');
    });

    const allowed2 = join(root.path, 'tls2');
    await mkdir(allowed2, { recursive: true });
    const web2 = await enrolAgent(server, tenant.id, 'web2.example.test');
    const shared = join(allowed2, name);
    const target2 = await assign(server, key, web2.id, { certificate: name, to: shared, reload: 'touch' });
    const touched = join(root.path, 'web2-reloaded');
    let agent2 = runAgent(web2.token, ['--allow-dir', allowed2, '--allow-reload', `touch=touch ${touched}`, '--state-dir', join(root.path, 'state2')]);

    await t.test('two agents sharing one certificate: both deploy it, and the server shows both', async () => {
      const current = await serialNow();
      await deploymentOf(server, key, name, target2, (d) => d.status === 'deployed', `web2 deployed\n${agent2.output()}`);
      await access(touched);
      assert.equal(normalSerial((await readDeployment(shared))?.serial ?? ''), current);
      const all = await shownDeployments(server, key, name);
      assert.deepEqual(all.map((d) => [d.host, d.status]).sort(), [['web1.example.test', 'deployed'], ['web2.example.test', 'deployed']]);
    });

    await t.test('a target removed: the agent stops managing it and leaves the files', async () => {
      const before = await readDeployment(shared);
      const removed = await server.call('DELETE', `/api/v1/agents/${web2.id}/targets/${target2}`, { key });
      assert.equal(removed.status, 204);
      const renewed = await renew();
      await eventually(() => servedSerial(nginx.port, name), (s) => s === renewed, 60_000, 'web1 still follows');
      const after = await readDeployment(shared);
      assert.equal(after?.serial, before?.serial, 'web2 left its files on the old version');
      assert.equal((await shownDeployments(server, key, name)).length, 1);
    });

    await t.test('what the host does not allow is refused and reported: an unknown reload or hook, a directory outside, a verify address', async () => {
      const outside = join(root.path, 'elsewhere', 'x');
      const climbing = join(allowed2, '..', 'elsewhere', 'y');
      const refusedTargets = [
        [await assign(server, key, web2.id, { certificate: name, to: join(allowed2, 'a'), reload: 'apache' }), /reload "apache" is not one this host allows/],
        [await assign(server, key, web2.id, { certificate: name, to: join(allowed2, 'b'), deployHook: 'copy' }), /deploy hook "copy" is not one this host allows/],
        [await assign(server, key, web2.id, { certificate: name, to: outside }), /outside the directories this host allows/],
        [await assign(server, key, web2.id, { certificate: name, to: climbing }), /outside the directories this host allows/],
        [await assign(server, key, web2.id, { certificate: name, to: join(allowed2, 'c'), verify: ['192.0.2.1:443'] }), /may not connect to 192\.0\.2\.1:443/],
      ] as const;
      for (const [target, reason] of refusedTargets) {
        const shown = await deploymentOf(server, key, name, target, (d) => d.status === 'failed', `refusal of ${target}\n${agent2.output()}`);
        assert.match(shown.error ?? '', reason);
      }
      for (const dir of ['a', 'b', 'c']) await assert.rejects(access(join(allowed2, dir)), 'nothing written');
      await assert.rejects(access(join(root.path, 'elsewhere')), 'nothing written outside');
      const once = await runCli(['agent', '--server', server.base, '--token', web2.token, '--allow-dir', allowed2, '--once', '--state-dir', join(root.path, 'state2-once')], {});
      assert.equal(once.code, 1, '--once fails on the refused targets');
      assert.match(once.stderr, /refused by the host/);
    });

    await t.test('the agent token reads only its own certificates: another is a 404, an API key opens nothing', async () => {
      const other = await server.call('GET', '/api/v1/agent/certificates/not-assigned.example.test', { key: web1.token });
      assert.equal(other.status, 404);
      const own = await server.call('GET', `/api/v1/agent/certificates/${name}`, { key: web1.token });
      assert.equal(own.status, 200);
      assert.match((await own.json()).keyPem, /PRIVATE KEY/);
      const byKey = await server.call('GET', '/api/v1/agent/targets', { key });
      assert.equal(byKey.status, 403);
      const list = await server.call('GET', '/api/v1/certificates', { key: web1.token });
      assert.equal(list.status, 401);
    });

    await t.test('a rotated token and a removed agent: the running agent ends with one clear line and exit 1', async () => {
      const rotated = await runCli(['admin', 'agent', 'rotate', web2.id, '--json'], server.env);
      assert.equal(rotated.code, 0, rotated.stderr);
      assert.equal(await agent2.exited, 1);
      assert.match(agent2.output(), /certkeep agent: .*(revoked|refused).*rotate its token/);
      const fresh = rotated.json().token;
      assert.equal((await server.call('GET', '/api/v1/agent/targets', { key: web2.token })).status, 401, 'the old token is refused at once');
      assert.equal((await server.call('GET', '/api/v1/agent/targets', { key: fresh })).status, 200);
      agent2 = runAgent(fresh, ['--allow-dir', allowed2, '--state-dir', join(root.path, 'state2')]);
      const removed = await server.call('DELETE', `/api/v1/agents/${web1.id}`, { key });
      assert.equal(removed.status, 204);
      assert.equal(await agent1.exited, 1);
      assert.equal(agent1.output().trim().split('\n').filter((line) => line.startsWith('certkeep agent:')).length, 1);
      const restarted = await runCli(['agent', '--server', server.base, '--token', web1.token, '--once', '--state-dir', join(root.path, 'state1')], {});
      assert.equal(restarted.code, 1);
      assert.match(restarted.stderr.trim(), /^certkeep agent: the server refused the token \(401/);
      assert.equal(restarted.stderr.trim().split('\n').length, 1, restarted.stderr);
      await agent2.stop();
    });
  });
}


