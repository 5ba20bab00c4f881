import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { deploy, type DeployStep, type DeployTargetInput } from '../../src/deploy/index.ts';
import { servesSerial } from '../rig/https.ts';
import { startNginx } from '../rig/nginx.ts';
import { tempDir } from '../rig/tmp.ts';
import { makeTestCa } from './certificates.ts';
import type { DeployJob } from './deploy-child.ts';
import { assertCompletePem } from './helpers.ts';

const NAMES = ['www.example.test'];
const CHILD = join(import.meta.dirname, 'deploy-child.ts');

test('a deploying process SIGKILLed at any point leaves DIR on a complete version; the next deployment is served', async (t) => {
  const root = await tempDir('certkeep-deploy-crash-');
  t.after(() => root.remove());
  const ca = await makeTestCa(root.path);
  const directory = join(root.path, 'tls', 'site');
  await deploy({ directory }, await ca.issue(NAMES));
  const nginx = await startNginx({
    root: root.path,
    tls: { certificateFile: join(directory, 'fullchain.pem'), keyFile: join(directory, 'privkey.pem') },
  });
  t.after(() => nginx.stop());
  const target: DeployTargetInput = {
    directory,
    reload: nginx.reloadCommand,
    verify: [`127.0.0.1:${nginx.tlsPort}`],
    deployHook: 'true',
  };
  let jobs = 0;
  const runChild = async (job: DeployJob, killAfterMs?: number) => {
    const file = join(root.path, `job-${++jobs}.json`);
    await writeFile(file, JSON.stringify(job));
    const child = spawn(process.execPath, [CHILD, file], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const exited = once(child, 'exit');
    if (killAfterMs !== undefined) {
      await sleep(killAfterMs);
      child.kill('SIGKILL');
    }
    const [code, signal] = await exited;
    assert.equal(signal, 'SIGKILL', `the deploying process was to be killed, but exited ${code}: ${stderr}`);
  };
  /** After a kill: DIR shows a complete version, and a new deployment goes through, served and verified. */
  const recovers = async () => {
    await assertCompletePem(directory);
    const next = await ca.issue(NAMES);
    const outcome = await deploy(target, next);
    assert.equal(outcome.status, 'deployed', outcome.status === 'failed' ? outcome.reason : '');
    assert.ok(outcome.verifiedAt);
    await servesSerial(nginx.tlsPort!, NAMES[0], next.serial);
    assert.equal((await assertCompletePem(directory)).serial, next.serial);
  };

  const steps: DeployStep[] = ['prepared', 'files-written', 'switched', 'hook-done', 'reloaded', 'verified'];
  for (const step of steps) {
    await t.test(`killed at "${step}"`, async () => {
      await runChild({ target, bundles: [await ca.issue(NAMES)], killAt: step });
      await recovers();
    });
  }

  await t.test('killed while rolling back a failed hook', async () => {
    await runChild({
      target: { ...target, deployHook: 'exit 1' },
      bundles: [await ca.issue(NAMES)],
      killAt: 'rolling-back',
    });
    await recovers();
  });

  await t.test('killed at moments chosen by the test, in the middle of a stream of deployments', async () => {
    const bundles = [await ca.issue(NAMES), await ca.issue(NAMES), await ca.issue(NAMES)];
    for (const delay of [150, 220, 290, 360, 430]) {
      await runChild({ target: { directory }, bundles, loop: true }, delay);
      await recovers();
    }
  });
});
