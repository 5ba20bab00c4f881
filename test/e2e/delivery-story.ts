// What every real web server goes through with the CLI (issue 12): issue --deploy-to with a reload
// and a TLS check, renew --all --force serving the next serial with nothing else done; a config
// broken before a renewal and a deploy hook that exits 1 each rolled back with the old certificate
// still served, exit 1 naming the target, the event raised, and the next renew --all after the fix
// deploying.
import assert from 'node:assert/strict';
import { appendFile, chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { normalSerial, readDeployment } from '../../src/deploy/index.ts';
import { tempDir } from '../rig/tmp.ts';
import type { WebServerCase } from '../rig/web-server-cases.ts';
import { currentSerial, deploymentEvents, servedSerials, startOnPlaceholder } from './delivery.ts';
import { startRig, ZONE } from './harness.ts';

export function deliveryStory(server: WebServerCase): void {
  test(`${server.name}: issue --deploy-to, renew --all; a broken config and a failing hook roll back and recover`, async (t) => {
    const rig = await startRig();
    t.after(() => rig.stop());
    const root = await tempDir(`certkeep-deliver-${server.name}-`);
    t.after(() => root.remove());
    const name = `${server.name}.${ZONE}`;
    const names = [name, `www.${name}`];
    const directory = join(root.path, 'tls', name);
    const running = await startOnPlaceholder(server, root.path, directory, name, names);
    t.after(() => running.stop());
    const verify = `127.0.0.1:${running.port}`;
    const deployFlags = ['--format', server.format, '--reload', running.reloadCommand, '--verify', verify];
    const served = () => servedSerials(running.port, names);

    await t.test('issue --deploy-to with a reload and --verify: the new serial is served', async () => {
      const issued = await rig.certkeep([
        'issue',
        ...names.flatMap((n) => ['-d', n]),
        '--http-port',
        String(rig.httpPort),
        '--deploy-to',
        directory,
        ...deployFlags,
        '--json',
      ]);
      assert.equal(issued.code, 0, issued.stdout + issued.stderr);
      const document = issued.json();
      assert.equal(document.status, 'issued');
      assert.equal(document.deployments.length, 1);
      const [deployment] = document.deployments;
      assert.equal(deployment.status, 'deployed', deployment.error);
      assert.equal(deployment.directory, directory);
      assert.ok(Date.parse(deployment.verifiedAt) > 0, 'verified');
      assert.deepEqual(await served(), [normalSerial(document.serial), normalSerial(document.serial)]);
    });

    await t.test('renew --all --force: the next serial is served with nothing else done', async () => {
      const before = await currentSerial(rig, name);
      const renewed = await rig.certkeep(['renew', '--all', '--force', '--json']);
      assert.equal(renewed.code, 0, renewed.stdout + renewed.stderr);
      const document = renewed.json();
      assert.deepEqual(
        document.results.map((r: { name: string; status: string }) => [r.name, r.status]),
        [[name, 'renewed']],
      );
      const now = await currentSerial(rig, name);
      assert.notEqual(now, before);
      assert.deepEqual(
        document.deployments.map((d: { status: string; serial: string }) => [
          d.status,
          normalSerial(d.serial),
        ]),
        [['deployed', now]],
      );
      assert.deepEqual(await served(), [now, now]);
      assert.equal(normalSerial((await readDeployment(directory))?.serial ?? ''), now);
    });

    await t.test(
      'a config broken before the renewal: rolled back, the old certificate served, exit 1, the event; fixed, the next renew --all deploys',
      async () => {
        const before = await currentSerial(rig, name);
        const config = await readFile(running.configFile, 'utf8');
        await appendFile(running.configFile, `\n${server.brokenLine}\n`);
        const broken = await rig.certkeep(['renew', '--all', '--force']);
        assert.equal(broken.code, 1, broken.stdout + broken.stderr);
        const next = await currentSerial(rig, name);
        assert.notEqual(next, before, 'the renewal itself succeeded');
        const line = broken.stdout.split('\n').find((l) => l.startsWith('✖'));
        assert.match(
          line ?? broken.stdout,
          new RegExp(
            `^✖ ${name} → ${directory}: deployment failed — reload exited \\d+: .*; rolled back to serial 0*${before}, but the rollback's reload failed too: it exited \\d+`,
          ),
        );
        assert.deepEqual(await served(), [before, before], 'the old certificate is still served');
        const listed = (await rig.certkeep(['deploy', 'list', name, '--json'])).json().targets;
        assert.equal(listed.length, 1);
        assert.equal(listed[0].status, 'failed');
        assert.equal(normalSerial(listed[0].serial), before, 'it still holds the previous serial');
        assert.match(listed[0].rollbackError, /^the rollback's reload failed too/);
        const failed = deploymentEvents(rig.dataDir).filter((e) => e.type === 'deployment.failed');
        assert.equal(failed.length, 1);
        assert.equal(failed[0].payload.directory, directory);
        assert.equal(failed[0].payload.stage, 'reload');
        assert.equal(failed[0].payload.rolledBack, true);
        assert.equal(normalSerial(String(failed[0].payload.serial)), next);

        await writeFile(running.configFile, config);
        const fixed = await rig.certkeep(['renew', '--all', '--json']);
        assert.equal(fixed.code, 0, fixed.stdout + fixed.stderr);
        assert.equal(fixed.json().results[0].status, 'unchanged', 'nothing was due');
        assert.equal(fixed.json().deployments[0].status, 'deployed');
        assert.equal(fixed.json().deployments[0].attempts, 2);
        assert.deepEqual(await served(), [next, next]);
        assert.equal(deploymentEvents(rig.dataDir).at(-1)?.type, 'deployment.succeeded');
      },
    );

    await t.test(
      'a deploy hook that exits 1: rolled back, served, exit 1, the event; fixed, the next renew --all deploys',
      async () => {
        const hook = join(root.path, 'deploy-hook.sh');
        const seen = join(root.path, 'hook-saw');
        const hookScript = (exit: number) =>
          `#!/bin/sh\nprintf '%s|%s|%s|%s' "$RENEWED_LINEAGE" "$RENEWED_DOMAINS" "$LEGO_CERT_DOMAIN" "$CERTKEEP_SERIAL" > ${seen}\n${exit ? 'echo "standby copy refused" >&2\n' : ''}exit ${exit}\n`;
        await writeFile(hook, hookScript(0));
        await chmod(hook, 0o755);
        const added = await rig.certkeep([
          'deploy',
          'add',
          name,
          '--to',
          directory,
          ...deployFlags,
          '--deploy-hook',
          hook,
          '--json',
        ]);
        assert.equal(added.code, 0, added.stdout + added.stderr);
        assert.equal(added.json().change, 'updated');
        assert.equal(added.json().deployments[0].status, 'deployed', 'changed settings are deployed at once');
        const before = await currentSerial(rig, name);
        assert.match(
          await readFile(seen, 'utf8'),
          new RegExp(`^${directory}\\|${names.join(' ')}\\|${name}\\|0*${before}$`),
          "certbot's and lego's variables",
        );

        await writeFile(hook, hookScript(1));
        const refused = await rig.certkeep(['renew', '--all', '--force', '--json']);
        assert.equal(refused.code, 1, refused.stdout + refused.stderr);
        const next = await currentSerial(rig, name);
        const [deployment] = refused.json().deployments;
        assert.equal(deployment.status, 'failed');
        assert.equal(deployment.stage, 'hook');
        assert.equal(deployment.rolledBack, true);
        assert.match(
          deployment.error,
          new RegExp(
            `^deploy hook exited 1: standby copy refused; rolled back to serial 0*${before}, served again$`,
          ),
        );
        assert.deepEqual(await served(), [before, before]);
        const event = deploymentEvents(rig.dataDir).at(-1);
        assert.equal(event?.type, 'deployment.failed');
        assert.equal(event?.payload.stage, 'hook');

        await writeFile(hook, hookScript(0));
        const fixed = await rig.certkeep(['renew', '--all']);
        assert.equal(fixed.code, 0, fixed.stdout + fixed.stderr);
        assert.match(
          fixed.stdout,
          new RegExp(`✔ ${name} → ${directory}: deployed serial 0*${next}, verified served at `),
        );
        assert.deepEqual(await served(), [next, next]);
      },
    );

    await t.test('list and show: per target, the serial it holds, verified and when; renew --all --quiet says nothing when all is well', async () => {
      const now = await currentSerial(rig, name);
      const quiet = await rig.certkeep(['renew', '--all', '--quiet']);
      assert.deepEqual([quiet.code, quiet.stdout, quiet.stderr], [0, '', '']);
      const listed = await rig.certkeep(['list', '--json']);
      const [target] = listed.json().certificates.find((c: { name: string }) => c.name === name).targets;
      assert.equal(target.status, 'deployed');
      assert.equal(normalSerial(target.serial), now);
      assert.equal(target.verified, true);
      assert.ok(Date.parse(target.verifiedAt) > 0);
      const shown = await rig.certkeep(['show', name]);
      assert.match(
        shown.stdout,
        new RegExp(
          `${directory}  ${server.format}  deployed, holds serial 0*${now}, verified served at \\d{4}-`,
        ),
      );
    });
  });
}
