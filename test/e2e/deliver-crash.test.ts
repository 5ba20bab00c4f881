// SIGKILL in the middle of a deployment, then `certkeep renew --all`: DIR holds one complete
// version, nginx serves it and it is verified (issue 12). The CLI is killed at each step of the
// deployment after the renewal stored its version: files written, DIR switched, nginx reloaded.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { normalSerial, readDeployment } from '../../src/deploy/index.ts';
import { assertCompletePem } from '../deploy/helpers.ts';
import { tempDir } from '../rig/tmp.ts';
import { NGINX } from '../rig/web-server-cases.ts';
import {
  currentSerial,
  issueDeployedTo,
  servedSerials,
  startOnPlaceholder,
  storedDeployments,
} from './delivery.ts';
import { startRig, ZONE } from './harness.ts';

test('a deployment killed with SIGKILL at any step converges at the next renew --all: complete, served, verified', async (t) => {
  const rig = await startRig();
  t.after(() => rig.stop());
  const root = await tempDir('certkeep-deliver-crash-');
  t.after(() => root.remove());
  const name = `crash.${ZONE}`;
  const directory = join(root.path, 'tls', name);
  const nginx = await startOnPlaceholder(NGINX, root.path, directory, name, [name]);
  t.after(() => nginx.stop());
  await issueDeployedTo(rig, name, directory, nginx);

  for (const step of ['files-written', 'switched', 'reloaded']) {
    await t.test(`killed after "${step}"`, async () => {
      const before = await currentSerial(rig, name);
      const killed = await rig.certkeep(['renew', '--all', '--force'], {
        env: { CERTKEEP_CRASH_AFTER_DEPLOY_STEP: step },
      });
      assert.equal(killed.signal, 'SIGKILL', killed.stdout + killed.stderr);
      const next = await currentSerial(rig, name);
      assert.notEqual(next, before, 'the renewal was stored before the deployment began');
      const pending = storedDeployments(rig.dataDir).at(-1);
      assert.equal(pending?.status, 'pending', 'the deployment was recorded before the files were touched');
      assert.equal(normalSerial(pending.serial), next);

      const resumed = await rig.certkeep(['renew', '--all', '--json']);
      assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
      const [deployment] = resumed.json().deployments;
      assert.equal(deployment.status, 'deployed', deployment.error);
      assert.equal(deployment.attempts, 2);
      assert.ok(Date.parse(deployment.verifiedAt) > 0, 'verified');
      const held = await assertCompletePem(directory);
      assert.equal(normalSerial(held.serial ?? ''), next);
      assert.ok((await readDeployment(directory))?.completedAt, 'the version in DIR is complete');
      assert.deepEqual(await servedSerials(nginx.port, [name]), [next]);
      assert.equal(storedDeployments(rig.dataDir).at(-1)?.status, 'deployed');
    });
  }
});
