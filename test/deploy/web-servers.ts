// The deployment story every real web server goes through in its own test file: the first version
// reloaded and verified, the next one, a config broken before a deployment, a failing hook.
import assert from 'node:assert/strict';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { deploy, readDeployment } from '../../src/deploy/index.ts';
import type { WebServerCase } from '../rig/web-server-cases.ts';
import { servedSerial, servesSerial } from '../rig/https.ts';
import { tempDir } from '../rig/tmp.ts';
import { makeTestCa } from './certificates.ts';

const NAMES = ['www.example.test', 'example.test'];
const CERTIFICATE = 'example.test';

export function webServerStory(server: WebServerCase): void {
  test(`${server.name}: deploy, reload, verify; a broken config and a failing hook roll back`, async (t) => {
    const root = await tempDir(`certkeep-deploy-${server.name}-`);
    t.after(() => root.remove());
    const ca = await makeTestCa(root.path);
    const issue = () => ca.issue(NAMES, { certificateName: CERTIFICATE });
    const directory = join(root.path, 'tls', CERTIFICATE);
    // The server needs files to start with: a version put there without reload or check.
    const v0 = await issue();
    assert.equal((await deploy({ directory, format: server.format }, v0)).status, 'deployed');
    const running = await server.start(directory, CERTIFICATE);
    t.after(() => running.stop());
    assert.equal(await servedSerial(running.port, NAMES[0]), v0.serial);
    const target = {
      directory,
      format: server.format,
      reload: running.reloadCommand,
      verify: [`127.0.0.1:${running.port}`],
    };

    await t.test('version 1, then version 2: each reloaded and verified as served', async () => {
      for (const bundle of [await issue(), await issue()]) {
        const outcome = await deploy(target, bundle);
        assert.equal(outcome.status, 'deployed', outcome.status === 'failed' ? outcome.reason : '');
        assert.ok(outcome.verifiedAt instanceof Date);
        await servesSerial(running.port, NAMES[0], bundle.serial);
        await servesSerial(running.port, NAMES[1], bundle.serial);
      }
    });

    await t.test(
      'a config broken before the deployment: the reload fails, rolled back, the old certificate served',
      async () => {
        const served = await servedSerial(running.port, NAMES[0]);
        const config = await readFile(running.configFile, 'utf8');
        await appendFile(running.configFile, `\n${server.brokenLine}\n`);
        const bundle = await issue();
        const outcome = await deploy(target, bundle);
        assert.equal(outcome.status, 'failed');
        assert.equal(outcome.stage, 'reload');
        assert.equal(outcome.rolledBack, true);
        assert.match(
          outcome.reason,
          new RegExp(
            `^reload exited \\d+: .*; rolled back to serial ${served}, but the rollback's reload failed too: it exited`,
          ),
        );
        assert.match(outcome.rollbackFailure ?? '', /^the rollback's reload failed too/);
        assert.equal(await servedSerial(running.port, NAMES[0]), served);
        assert.equal((await readDeployment(directory))?.serial, served);

        await writeFile(running.configFile, config);
        const fixed = await deploy(target, bundle);
        assert.equal(fixed.status, 'deployed', fixed.status === 'failed' ? fixed.reason : '');
        await servesSerial(running.port, NAMES[0], bundle.serial);
      },
    );

    await t.test(
      'a deploy hook that exits 1: rolled back, reloaded, the old certificate checked and served',
      async () => {
        const served = await servedSerial(running.port, NAMES[0]);
        const outcome = await deploy(
          { ...target, deployHook: 'echo "could not copy to the standby" >&2; exit 1' },
          await issue(),
        );
        assert.equal(outcome.status, 'failed');
        assert.equal(outcome.stage, 'hook');
        assert.equal(outcome.rolledBack, true);
        assert.equal(outcome.rollbackFailure, undefined);
        assert.equal(
          outcome.reason,
          `deploy hook exited 1: could not copy to the standby; rolled back to serial ${served}, served again`,
        );
        assert.equal(await servedSerial(running.port, NAMES[0]), served);
      },
    );
  });
}
