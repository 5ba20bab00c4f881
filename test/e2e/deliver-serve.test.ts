// `certkeep serve` on the store the CLI uses deploys this machine's targets after each renewal, and
// a `renew --all` timer beside it finds them deployed rather than deploying again (issue 12). Local
// targets and their commands come from this machine's command line only: the API cannot make one.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { normalSerial } from '../../src/deploy/index.ts';
import { servedSerial } from '../rig/https.ts';
import { tempDir } from '../rig/tmp.ts';
import { NGINX } from '../rig/web-server-cases.ts';
import { currentSerial, deploymentEvents, issueDeployedTo, startOnPlaceholder } from './delivery.ts';
import { startRig, ZONE } from './harness.ts';
import { eventually, startServer } from './server.ts';

test('the server deploys local targets after a renewal; the timer beside it does not deploy them again', async (t) => {
  const rig = await startRig();
  t.after(() => rig.stop());
  const root = await tempDir('certkeep-deliver-serve-');
  t.after(() => root.remove());
  const name = `served.${ZONE}`;
  const directory = join(root.path, 'tls', name);
  const nginx = await startOnPlaceholder(NGINX, root.path, directory, name, [name]);
  t.after(() => nginx.stop());
  await issueDeployedTo(rig, name, directory, nginx);
  const first = await currentSerial(rig, name);
  const key = (
    await rig.certkeep([
      'admin',
      'apikey',
      'create',
      '--subscription',
      'default',
      '--scope',
      'write',
      '--json',
    ])
  ).json().apiKey;

  const server = await startServer(rig, { args: ['--renew-interval', '1'] });
  t.after(() => server.stop());

  await t.test('a renewal by the server is deployed by it, reloaded and verified', async () => {
    const renew = await server.call('POST', `/api/v1/certificates/${name}/renew`, { key });
    assert.equal(renew.status, 202, await renew.text());
    const renewed = await eventually(
      async () =>
        normalSerial(
          (await (await server.call('GET', `/api/v1/certificates/${name}`, { key })).json()).serial ?? '',
        ),
      (serial) => serial !== first,
      60_000,
      'the renewal',
    );
    await eventually(
      () => servedSerial(nginx.port, name),
      (served) => served === renewed,
      60_000,
      'nginx serving the renewed serial',
    );
    const succeeded = await eventually(
      async () =>
        deploymentEvents(rig.dataDir).filter(
          (e) => e.type === 'deployment.succeeded' && normalSerial(String(e.payload.serial)) === renewed,
        ),
      (events) => events.length > 0,
      30_000,
      'the deployment stored',
    );
    assert.ok(typeof succeeded[0].payload.verifiedAt === 'string', 'verified');
  });

  await t.test(
    'renew --all beside the server finds the target deployed and deploys nothing again',
    async () => {
      const current = await currentSerial(rig, name);
      const timer = await rig.certkeep(['renew', '--all', '--json']);
      assert.equal(timer.code, 0, timer.stdout + timer.stderr);
      assert.deepEqual(
        timer
          .json()
          .deployments.map((d: { status: string; serial: string }) => [d.status, normalSerial(d.serial)]),
        [['unchanged', current]],
      );
      const deployedNow = deploymentEvents(rig.dataDir).filter(
        (e) => e.type === 'deployment.succeeded' && normalSerial(String(e.payload.serial)) === current,
      );
      assert.equal(deployedNow.length, 1, 'one deployment of the version, by the server');
    },
  );

  await t.test('the API cannot create a local target or name its commands', async () => {
    const refused = await server.call('POST', '/api/v1/certificates', {
      key,
      body: { names: [`other.${ZONE}`], deployTo: join(root.path, 'evil'), reload: 'touch /tmp/pwned' },
    });
    assert.equal(refused.status, 400);
    assert.match(JSON.stringify(await refused.json()), /deployTo|reload/);
    const paths = Object.keys((await (await server.call('GET', '/api/openapi.json')).json()).paths);
    assert.deepEqual(
      // An agent reports its own targets' deployments (/api/v1/agent/deployments); a local target is refused there.
      paths.filter((path) => /deploy/i.test(path) && !path.startsWith('/api/v1/agent/')),
      [],
      'no route reads or writes local deploy targets',
    );
    const targets = (await rig.certkeep(['deploy', 'list', '--json'])).json().targets;
    assert.deepEqual(
      targets.map((target: { directory: string }) => target.directory),
      [directory],
    );
  });
});
