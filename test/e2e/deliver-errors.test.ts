// The deploy flags and commands refuse bad input with one line naming the flag (exit 2) before
// any order is placed or target stored; what is missing is named (exit 1); a target that already
// exists is kept as it was.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { oneLine, type Rig, startRig, ZONE } from './harness.ts';

describe('deploy flags and commands refuse bad input', () => {
  let rig: Rig;
  const name = `errors.${ZONE}`;
  after(() => rig?.stop());
  before(async () => {
    rig = await startRig();
    const issued = await rig.certkeep(['issue', '-d', name, '--http-port', String(rig.httpPort)]);
    assert.equal(issued.code, 0, issued.stdout + issued.stderr);
  });

  const orders = async () => (await rig.certkeep(['show', name, '--json'])).json().orders.length;
  const targets = async () => (await rig.certkeep(['deploy', 'list', '--json'])).json().targets;

  test('issue: a bad deploy flag stops the command before any order (exit 2, the flag named)', async () => {
    const before = await orders();
    const cases: [string[], RegExp][] = [
      [
        ['--deploy-to', 'relative/dir'],
        /^certkeep: error: --deploy-to: "relative\/dir" must be an absolute path/,
      ],
      [
        ['--deploy-to', '/srv/tls/x', '--format', 'der'],
        /^certkeep: error: --format: "der" is not one of pem, combined, pfx/,
      ],
      [
        ['--deploy-to', '/srv/tls/x', '--verify', 'localhost'],
        /^certkeep: error: --verify: "localhost" must be HOST:PORT/,
      ],
      [
        ['--deploy-to', '/srv/tls/x', '--verify-timeout', '0'],
        /^certkeep: error: --verify-timeout: "0" must be a number of seconds/,
      ],
      [
        ['--deploy-to', '/srv/tls/x', '--owner', 'a:b:c'],
        /^certkeep: error: --owner: "a:b:c" must be USER or USER:GROUP/,
      ],
      [
        ['--reload', 'nginx -s reload'],
        /^certkeep: error: --reload describes a deploy target: give the directory with --deploy-to DIR/,
      ],
    ];
    for (const [flags, message] of cases) {
      const result = await rig.certkeep([
        'issue',
        '-d',
        name,
        '--force',
        '--http-port',
        String(rig.httpPort),
        ...flags,
      ]);
      assert.equal(result.code, 2, `${flags.join(' ')}: ${result.stdout}${result.stderr}`);
      assert.match(oneLine(result.stderr), message);
    }
    assert.equal(await orders(), before, 'no order was placed');
    assert.deepEqual(await targets(), []);
  });

  test('deploy add, remove, run: what is missing or wrong is named; what is stored stays', async () => {
    const directory = join(rig.dataDir, 'tls', 'site');
    const added = await rig.certkeep(['deploy', 'add', name, '--to', directory, '--json']);
    assert.equal(added.code, 0, added.stdout + added.stderr);
    assert.equal(added.json().deployments[0].status, 'deployed');

    const unknown = await rig.certkeep([
      'deploy',
      'add',
      `missing.${ZONE}`,
      '--to',
      join(rig.dataDir, 'tls', 'other'),
    ]);
    assert.equal(unknown.code, 1);
    assert.match(oneLine(unknown.stderr), /no certificate named "missing\.example\.test"/);

    const pfx = await rig.certkeep([
      'deploy',
      'add',
      name,
      '--to',
      join(rig.dataDir, 'tls', 'pfx'),
      '--format',
      'pfx',
    ]);
    assert.equal(pfx.code, 2);
    assert.match(
      oneLine(pfx.stderr),
      /^certkeep: error: --pfx-password: the pfx format protects the key with the certificate's PFX password/,
    );

    const noDirectory = await rig.certkeep(['deploy', 'add', name]);
    assert.equal(noDirectory.code, 2);
    assert.match(oneLine(noDirectory.stderr), /--to/);

    const notThere = await rig.certkeep([
      'deploy',
      'remove',
      name,
      '--to',
      join(rig.dataDir, 'tls', 'nowhere'),
    ]);
    assert.equal(notThere.code, 1);
    assert.match(
      oneLine(notThere.stderr),
      /^certkeep: error: --to: "errors\.example\.test" has no deploy target at .*nowhere on this machine/,
    );

    const noNames = await rig.certkeep(['deploy', 'run']);
    assert.equal(noNames.code, 2);
    assert.match(oneLine(noNames.stderr), /name the certificates to deploy, or pass --all/);

    assert.deepEqual(
      (await targets()).map((t: { directory: string; status: string }) => [t.directory, t.status]),
      [[directory, 'deployed']],
      'the stored target is as it was',
    );
    const removed = await rig.certkeep(['deploy', 'remove', name, '--to', directory]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, /the files there stay as they are/);
    assert.deepEqual(await targets(), []);
  });
});
