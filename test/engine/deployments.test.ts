// Deployment as the engine's durable use case (issue 12): recorded pending before any file is
// touched, failed targets tried again (at every CLI run, after a backoff in the server), one
// process at a time per target, targets that name the field at fault, PFX made under the
// certificate's password, and mail on a target's first failure and on its recovery only.
import assert from 'node:assert/strict';
import { access, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, test } from 'node:test';
import { deleteCertificate } from '../../src/engine/certificates.ts';
import {
  addDeployTarget,
  type DeployTargetSpec,
  listDeployTargets,
  removeDeployTarget,
  THIS_MACHINE,
} from '../../src/engine/deploy-targets.ts';
import { LocalDeployer } from '../../src/engine/deployer.ts';
import { deployDueTargets, deployLocalTargets, deploymentRetryAt } from '../../src/engine/deployments.ts';
import { fileBase, normalSerial, readDeployment } from '../../src/deploy/index.ts';
import { type MailDecision, mailDecision } from '../../src/notify/email-policy.ts';
import { findDeployment, findLocalTarget } from '../../src/store/repositories/deploy-targets.ts';
import { claimLease } from '../../src/store/repositories/leases.ts';
import { DEFAULT_SUBSCRIPTION_ID } from '../../src/store/repositories/subscriptions.ts';
import { decodedEvent, type EventRow } from '../../src/store/repositories/events.ts';
import { assertCompletePem } from '../deploy/helpers.ts';
import { runOpenssl } from '../pki/openssl.ts';
import { manualClock } from '../rig/clock.ts';
import { deploymentFixture } from './deployment-fixture.ts';

const SUB = DEFAULT_SUBSCRIPTION_ID;
const clock = manualClock(Date.now());
const fixture = deploymentFixture('certkeep-engine-deploy-', clock);

async function events(type?: string): Promise<EventRow[]> {
  let query = fixture.store.db
    .selectFrom('events')
    .selectAll()
    .where('type', 'like', 'deployment.%')
    .orderBy('id');
  if (type) query = query.where('type', '=', type);
  return (await query.execute()).map(decodedEvent);
}

async function mailFor(event: EventRow): Promise<MailDecision['kind'] | undefined> {
  return (await mailDecision(fixture.store.db, event))?.kind;
}

describe('deploying a certificate to this machine', () => {
  test('the deployment is stored pending before the files are touched, then deployed with its event', async () => {
    const certificate = await fixture.certificate('pending.example.test');
    const directory = join(fixture.root, 'pending', 'site');
    const { target, change } = await addDeployTarget(fixture.ctx, SUB, certificate.name, { directory });
    assert.equal(change, 'added');
    assert.equal(target.status, 'waiting');
    let seenAtPrepare: unknown;
    const reader = new DatabaseSync(join(fixture.root, 'certkeep.db'), { readOnly: true });
    const results = await deployLocalTargets(fixture.ctx, SUB, {
      names: [certificate.name],
      onStep: (step) => {
        // At the library's first step, before it writes a file: what the store says now.
        if (step === 'prepared')
          seenAtPrepare = reader
            .prepare('SELECT status FROM deployments WHERE target_id = ?')
            .get(target.id)?.status;
      },
    });
    reader.close();
    assert.equal(results.length, 1);
    assert.equal(results[0].status, 'deployed', results[0].error);
    assert.equal(seenAtPrepare, 'pending');
    await assertCompletePem(directory);
    const [event] = await events('deployment.succeeded');
    assert.equal(event.payload.directory, directory);
    assert.equal(event.payload.host, THIS_MACHINE);
    assert.equal(event.certificate_id, certificate.id);
    const again = await deployLocalTargets(fixture.ctx, SUB, { names: [certificate.name] });
    assert.equal(again[0].status, 'unchanged', 'a target on the current version is left alone');
  });

  test('a failed target: the CLI tries it at every run, the server after its backoff; mail on the first failure and on recovery', async () => {
    const certificate = await fixture.certificate('retry.example.test');
    const directory = join(fixture.root, 'retry', 'site');
    const fixed = join(fixture.root, 'retry-fixed');
    await addDeployTarget(fixture.ctx, SUB, certificate.name, {
      directory,
      reload: `test -e ${fixed} || { echo "no $(basename ${fixed})" >&2; exit 3; }`,
    });
    const first = await deployLocalTargets(fixture.ctx, SUB, { names: [certificate.name] });
    assert.equal(first[0].status, 'failed');
    assert.equal(first[0].stage, 'reload');
    assert.match(
      first[0].error ?? '',
      /^reload exited 3: no retry-fixed; nothing to roll back to \(first deployment\)/,
    );
    const cli = await deployLocalTargets(fixture.ctx, SUB, { names: [certificate.name] });
    assert.equal(cli[0].status, 'failed');
    assert.equal(cli[0].attempts, 2, 'the CLI tried again at once');

    const server = new LocalDeployer(fixture.ctx);
    assert.deepEqual(await server.tick(), [], 'the server waits out the backoff');
    const failedAt = (await findDeployment(
      fixture.store.db,
      first[0].target,
      certificate.current_version_id!,
    ))!.finished_at!;
    clock.advance(deploymentRetryAt(failedAt, 2) - clock.now());
    const retried = await server.tick();
    assert.deepEqual(
      retried.map((r) => [r.status, r.attempts]),
      [['failed', 3]],
    );

    await writeFile(fixed, '');
    clock.advance(deploymentRetryAt(clock.now(), 3) - clock.now());
    const recovered = await server.tick();
    assert.deepEqual(
      recovered.map((r) => [r.status, r.attempts]),
      [['deployed', 4]],
    );

    const outcomes = (await events()).filter((e) => e.payload.target === first[0].target);
    assert.deepEqual(
      outcomes.map((e) => e.type),
      ['deployment.failed', 'deployment.failed', 'deployment.failed', 'deployment.succeeded'],
    );
    assert.deepEqual(
      await Promise.all(outcomes.map(mailFor)),
      ['deployment-failed', undefined, undefined, 'deployment-recovered'],
      'one mail when it breaks, one when it recovers',
    );
    const [view] = await listDeployTargets(fixture.ctx, SUB, { names: [certificate.name] });
    assert.equal(view.status, 'deployed');
    assert.equal(view.attempts, 4);
    assert.equal(view.serial, (await readDeployment(directory))?.serial);
  });

  test('a target another process is deploying: the server skips it, the CLI waits and then says who holds it', async () => {
    const certificate = await fixture.certificate('busy.example.test');
    const directory = join(fixture.root, 'busy', 'site');
    const { target } = await addDeployTarget(fixture.ctx, SUB, certificate.name, { directory });
    // A live holder on another machine (its lease cannot be taken over early).
    assert.ok(
      await claimLease(
        fixture.store.db,
        'deploy_targets',
        target.id,
        'other-host:1:abc',
        clock.now(),
        60_000,
      ),
    );
    assert.deepEqual(
      (await deployDueTargets(fixture.ctx)).filter((r) => r.target === target.id),
      [],
    );
    const waited = await deployLocalTargets(fixture.ctx, SUB, { names: [certificate.name], waitMs: 200 });
    assert.equal(waited[0].status, 'failed');
    assert.match(
      waited[0].error ?? '',
      /^another certkeep process \(other-host:1:abc\) has been deploying to .* for longer than/,
    );
    await assert.rejects(access(directory), 'nothing was written');
    clock.advance(60_001);
    const after = await deployLocalTargets(fixture.ctx, SUB, { names: [certificate.name] });
    assert.equal(after[0].status, 'deployed', 'the lease ran out: deployed');
  });

  test('pfx: made by the engine under the certificate PFX password; without one the target is refused naming the field', async () => {
    const certificate = await fixture.certificate('pfx.example.test', { pfxPassword: 'ünïcode pass' });
    const directory = join(fixture.root, 'pfx', 'site');
    await addDeployTarget(fixture.ctx, SUB, certificate.name, { directory, format: 'pfx' });
    const [result] = await deployLocalTargets(fixture.ctx, SUB, { names: [certificate.name] });
    assert.equal(result.status, 'deployed', result.error);
    const pfx = join(directory, `${fileBase(certificate.name)}.pfx`);
    const read = await runOpenssl([
      'pkcs12',
      '-in',
      pfx,
      '-passin',
      'pass:ünïcode pass',
      '-nokeys',
      '-clcerts',
    ]);
    assert.equal(read.code, 0, read.stderr);
    assert.match(read.stdout, /BEGIN CERTIFICATE/);

    const bare = await fixture.certificate('no-pfx.example.test');
    await assert.rejects(
      addDeployTarget(fixture.ctx, SUB, bare.name, {
        directory: join(fixture.root, 'no-pfx'),
        format: 'pfx',
      }),
      {
        name: 'UsageError',
        message:
          /^pfxPassword: the pfx format protects the key with the certificate's PFX password, and "no-pfx.example.test" has none/,
      },
    );
  });

  test('settings that change are deployed afresh; bad settings name their field; a directory holds one certificate', async () => {
    const certificate = await fixture.certificate('settings.example.test');
    const other = await fixture.certificate('other.example.test');
    const directory = join(fixture.root, 'settings', 'site');
    const hookSaw = join(fixture.root, 'settings-hook');
    await addDeployTarget(fixture.ctx, SUB, certificate.name, { directory });
    assert.equal(
      (await deployLocalTargets(fixture.ctx, SUB, { names: [certificate.name] }))[0].status,
      'deployed',
    );
    const same = await addDeployTarget(fixture.ctx, SUB, certificate.name, { directory: `${directory}/` });
    assert.equal(same.change, 'unchanged');
    const changed = await addDeployTarget(fixture.ctx, SUB, certificate.name, {
      directory,
      deployHook: `echo "$CERTKEEP_SERIAL" > ${hookSaw}`,
    });
    assert.equal(changed.change, 'updated');
    assert.equal(changed.target.status, 'waiting');
    assert.equal(
      (await deployLocalTargets(fixture.ctx, SUB, { names: [certificate.name] }))[0].status,
      'deployed',
    );
    assert.equal(
      normalSerial((await readFile(hookSaw, 'utf8')).trim()),
      normalSerial((await readDeployment(directory))!.serial!),
    );

    await assert.rejects(
      addDeployTarget(fixture.ctx, SUB, other.name, { directory }),
      (error: Error & { field?: string }) => {
        assert.equal(error.name, 'ConflictError');
        assert.equal(error.field, 'directory');
        assert.match(
          error.message,
          /already receives certificate "settings.example.test" on this machine; remove that target first \(deploy remove settings.example.test --to /,
        );
        return true;
      },
    );
    const refused: [DeployTargetSpec, string][] = [
      [{ directory: 'relative/dir' }, 'directory'],
      [{ directory, format: 'der' }, 'format'],
      [{ directory, verify: ['localhost'] }, 'verify'],
      [{ directory, owner: 'a:b:c' }, 'owner'],
      [{ directory, reload: '  ' }, 'reload'],
    ];
    for (const [spec, field] of refused) {
      await assert.rejects(
        addDeployTarget(fixture.ctx, SUB, other.name, spec),
        (error: Error & { field?: string }) => {
          assert.equal(error.name, 'UsageError');
          assert.equal(error.field, field);
          assert.ok(error.message.startsWith(`${field}: `), error.message);
          return true;
        },
      );
    }
    await assert.rejects(addDeployTarget(fixture.ctx, SUB, 'missing.example.test', { directory }), {
      name: 'NotFoundError',
    });
    assert.equal(
      (await findLocalTarget(fixture.store.db, THIS_MACHINE, directory))?.certificate_id,
      certificate.id,
      'nothing stored was lost',
    );
  });

  test("another machine's target is shown, and deployed only by that machine", async () => {
    const certificate = await fixture.certificate('elsewhere.example.test');
    const directory = join(fixture.root, 'elsewhere', 'site');
    const { target } = await addDeployTarget(fixture.ctx, SUB, certificate.name, { directory });
    await fixture.store.db
      .updateTable('deploy_targets')
      .set({ host: 'web-2.example.test' })
      .where('id', '=', target.id)
      .execute();
    assert.deepEqual(await deployLocalTargets(fixture.ctx, SUB, { names: [certificate.name] }), []);
    assert.deepEqual(
      (await deployDueTargets(fixture.ctx)).filter((r) => r.target === target.id),
      [],
    );
    await assert.rejects(access(directory), 'nothing was written here');
    assert.deepEqual(await listDeployTargets(fixture.ctx, SUB, { names: [certificate.name] }), []);
    const everywhere = await listDeployTargets(fixture.ctx, SUB, {
      names: [certificate.name],
      everyMachine: true,
    });
    assert.deepEqual(
      everywhere.map((t) => [t.host, t.status]),
      [['web-2.example.test', 'waiting']],
    );
    // The same directory on this machine is another target.
    assert.equal((await addDeployTarget(fixture.ctx, SUB, certificate.name, { directory })).change, 'added');
  });

  test('a removed target leaves its files; a deleted certificate takes its targets with it', async () => {
    const certificate = await fixture.certificate('removed.example.test');
    const directory = join(fixture.root, 'removed', 'site');
    await addDeployTarget(fixture.ctx, SUB, certificate.name, { directory });
    await deployLocalTargets(fixture.ctx, SUB, { names: [certificate.name] });
    await assert.rejects(
      removeDeployTarget(fixture.ctx, SUB, certificate.name, join(fixture.root, 'elsewhere')),
      {
        name: 'NotFoundError',
        message: /^directory: "removed.example.test" has no deploy target at .*elsewhere on this machine/,
      },
    );
    const removed = await removeDeployTarget(fixture.ctx, SUB, certificate.name, directory);
    assert.equal(removed.directory, directory);
    await assertCompletePem(directory);
    assert.deepEqual(await listDeployTargets(fixture.ctx, SUB, { names: [certificate.name] }), []);

    await addDeployTarget(fixture.ctx, SUB, certificate.name, { directory });
    await deleteCertificate(fixture.ctx, SUB, certificate.name);
    assert.equal(await findLocalTarget(fixture.store.db, THIS_MACHINE, directory), undefined);
    await rm(directory, { recursive: true, force: true });
  });
});
