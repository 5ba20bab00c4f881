import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { lstat, mkdir, readdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { deploy, readDeployment } from '../../src/deploy/index.ts';
import { UsageError } from '../../src/errors.ts';
import { runOpenssl } from '../pki/openssl.ts';
import { PFX_PASSWORD } from './certificates.ts';
import { assertCompletePem, deployFixture } from './helpers.ts';

const NAMES = ['www.example.test', 'example.test'];
const fixture = deployFixture('certkeep-deploy-files-');
const newDir = () => fixture.newDir();

describe('formats', () => {
  test("pem: certbot's four files behind a symlink, the key 0600, a hidden version store beside DIR", async () => {
    const dir = newDir();
    const v1 = await fixture.ca.issue(NAMES);
    const outcome = await deploy({ directory: dir, format: 'pem' }, v1);
    assert.equal(outcome.status, 'deployed');
    assert.ok((await lstat(dir)).isSymbolicLink());
    assert.match(await readlink(dir), /^\.site\.certkeep\/1-v-[0-9a-f]+\/files$/);
    assert.deepEqual((await readdir(dir)).sort(), ['cert.pem', 'chain.pem', 'fullchain.pem', 'privkey.pem']);
    assert.equal(await readFile(join(dir, 'cert.pem'), 'utf8'), v1.certPem);
    assert.equal(await readFile(join(dir, 'chain.pem'), 'utf8'), v1.chainPem);
    assert.equal((await stat(join(dir, 'privkey.pem'))).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, 'cert.pem'))).mode & 0o777, 0o644);
    const held = await assertCompletePem(dir);
    assert.equal(held.versionId, v1.versionId);
    assert.ok(held.completedAt);
    assert.equal(held.verifiedAt, undefined);
  });

  test('combined: one file, full chain then key, named for the certificate (a wildcard as _)', async () => {
    const dir = newDir();
    const bundle = await fixture.ca.issue(['*.example.test', 'example.test']);
    assert.equal((await deploy({ directory: dir, format: 'combined' }, bundle)).status, 'deployed');
    assert.deepEqual(await readdir(dir), ['_.example.test.pem']);
    const file = join(dir, '_.example.test.pem');
    assert.equal(await readFile(file, 'utf8'), bundle.fullchainPem + bundle.keyPem);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
  });

  test("pfx: the caller's PKCS#12 as it is, which openssl opens with its password", async () => {
    const dir = newDir();
    const bundle = await fixture.ca.issue(NAMES, { certificateName: 'shop', withPfx: true });
    assert.equal((await deploy({ directory: dir, format: 'pfx' }, bundle)).status, 'deployed');
    assert.deepEqual(await readdir(dir), ['shop.pfx']);
    assert.deepEqual(new Uint8Array(await readFile(join(dir, 'shop.pfx'))), bundle.pfx);
    const opened = await runOpenssl([
      'pkcs12',
      '-in',
      join(dir, 'shop.pfx'),
      '-nokeys',
      '-passin',
      `pass:${PFX_PASSWORD}`,
    ]);
    assert.equal(opened.code, 0, opened.stderr);
    assert.match(opened.stdout, /BEGIN CERTIFICATE/);
  });
});

describe('versions', () => {
  test('each deployment switches DIR; the previous version is kept, older ones pruned', async () => {
    const dir = newDir();
    const versions = [
      await fixture.ca.issue(NAMES),
      await fixture.ca.issue(NAMES),
      await fixture.ca.issue(NAMES),
    ];
    for (const bundle of versions)
      assert.equal((await deploy({ directory: dir }, bundle)).status, 'deployed');
    assert.equal((await assertCompletePem(dir)).serial, versions[2].serial);
    const store = await readdir(join(dir, '..', '.site.certkeep'));
    assert.deepEqual(store.sort(), [`2-${versions[1].versionId}`, `3-${versions[2].versionId}`]);
  });

  test('readDeployment: undefined for a directory certkeep never deployed to', async () => {
    assert.equal(await readDeployment(newDir()), undefined);
  });

  test('a failed first deployment keeps the new files: there is nothing to roll back to', async () => {
    const dir = newDir();
    const bundle = await fixture.ca.issue(NAMES);
    const outcome = await deploy(
      { directory: dir, deployHook: 'echo "cannot reach the load balancer" >&2; exit 1' },
      bundle,
    );
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.stage, 'hook');
    assert.equal(outcome.rolledBack, false);
    assert.equal(
      outcome.reason,
      `deploy hook exited 1: cannot reach the load balancer; nothing to roll back to (first deployment): ${dir} keeps serial ${bundle.serial}`,
    );
    const held = await assertCompletePem(dir);
    assert.equal(held.serial, bundle.serial);
    assert.equal(held.completedAt, undefined, 'an unfinished deployment reads as unfinished');
    assert.equal(outcome.holds?.serial, bundle.serial);
  });

  test('half-made leftovers of a killed deployment are removed by the next one', async () => {
    const dir = newDir();
    const v1 = await fixture.ca.issue(NAMES);
    await deploy({ directory: dir }, v1);
    const store = join(dir, '..', '.site.certkeep');
    await mkdir(join(store, '7-half.partial', 'files'), { recursive: true });
    await writeFile(join(store, '7-half.partial', 'files', 'cert.pem'), 'half');
    await symlink('.site.certkeep/7-half/files', join(store, 'link.0123.tmp'));
    await mkdir(join(store, '8-unfinished', 'files'), { recursive: true });
    await writeFile(
      join(store, '8-unfinished', 'manifest.json'),
      JSON.stringify({ kind: 'certkeep-deployment', names: [], writtenAt: new Date().toISOString() }),
    );
    const v2 = await fixture.ca.issue(NAMES);
    assert.equal((await deploy({ directory: dir }, v2)).status, 'deployed');
    assert.deepEqual((await readdir(store)).sort(), [`1-${v1.versionId}`, `2-${v2.versionId}`]);
  });
});

describe('owner', () => {
  test('USER:GROUP by name and by number, resolved through the name service', async () => {
    const dir = newDir();
    assert.equal(
      (await deploy({ directory: dir, owner: 'www-data:www-data' }, await fixture.ca.issue(NAMES))).status,
      'deployed',
    );
    for (const name of ['privkey.pem', 'cert.pem']) {
      const info = await stat(join(dir, name));
      assert.deepEqual([info.uid, info.gid], [33, 33]);
    }
    assert.equal((await stat(join(dir, 'privkey.pem'))).mode & 0o777, 0o600);
    const numeric = newDir();
    assert.equal(
      (await deploy({ directory: numeric, owner: '33' }, await fixture.ca.issue(NAMES))).status,
      'deployed',
    );
    const info = await stat(join(numeric, 'privkey.pem'));
    assert.deepEqual([info.uid, info.gid], [33, process.getgid?.()]);
  });

  test('an unknown user or group fails before anything is written', async () => {
    const dir = newDir();
    const v1 = await fixture.ca.issue(NAMES);
    await deploy({ directory: dir }, v1);
    const user = await deploy({ directory: dir, owner: 'no-such-user-ck' }, await fixture.ca.issue(NAMES));
    assert.equal(user.status, 'failed');
    assert.equal(user.stage, 'prepare');
    assert.match(user.reason, /^owner: no user "no-such-user-ck" on this host/);
    const group = await deploy(
      { directory: dir, owner: 'www-data:no-such-group-ck' },
      await fixture.ca.issue(NAMES),
    );
    assert.match(group.status === 'failed' ? group.reason : '', /^owner: no group "no-such-group-ck"/);
    assert.equal((await assertCompletePem(dir)).serial, v1.serial);
  });
});

describe('what stood at DIR before', () => {
  test('a plain directory of certificate files is moved aside, kept, and is what a failure rolls back to', async () => {
    const dir = newDir();
    const old = await fixture.ca.issue(NAMES);
    // As `certkeep export --out DIR` or a copy of certbot's files leaves it.
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'cert.pem'), old.certPem);
    await writeFile(join(dir, 'fullchain.pem'), old.fullchainPem);
    await writeFile(join(dir, 'privkey.pem'), old.keyPem, { mode: 0o600 });
    await writeFile(join(dir, 'cert.der'), 'der');

    const failed = await deploy({ directory: dir, deployHook: 'exit 1' }, await fixture.ca.issue(NAMES));
    assert.equal(failed.status, 'failed');
    assert.equal(failed.rolledBack, true);
    assert.equal(failed.reason, `deploy hook exited 1; rolled back to serial ${old.serial}`);
    assert.ok((await lstat(dir)).isSymbolicLink());
    assert.equal(await readFile(join(dir, 'privkey.pem'), 'utf8'), old.keyPem);
    assert.equal((await stat(join(dir, 'privkey.pem'))).mode & 0o777, 0o600);
    assert.deepEqual((await readdir(dir)).sort(), ['cert.der', 'cert.pem', 'fullchain.pem', 'privkey.pem']);

    const next = await fixture.ca.issue(NAMES);
    const deployed = await deploy({ directory: dir }, next);
    assert.equal(deployed.status, 'deployed');
    assert.equal((await assertCompletePem(dir)).serial, next.serial);
    const store = join(dir, '..', '.site.certkeep');
    const replaced = (await readdir(store)).filter((name) => name.startsWith('replaced-'));
    assert.equal(replaced.length, 1, 'the original directory is kept');
    assert.equal(await readFile(join(store, replaced[0], 'privkey.pem'), 'utf8'), old.keyPem);
  });

  test('a directory holding anything but certificate files is refused and left alone', async () => {
    const dir = newDir();
    await mkdir(join(dir, 'sites-enabled'), { recursive: true });
    await writeFile(join(dir, 'nginx.conf'), 'events {}');
    const outcome = await deploy({ directory: dir }, await fixture.ca.issue(NAMES));
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.stage, 'prepare');
    assert.match(
      outcome.reason,
      /holds more than certificate files \((nginx\.conf, sites-enabled|sites-enabled, nginx\.conf)\)/,
    );
    assert.match(outcome.reason, /deploy to a directory of its own/);
    assert.ok((await lstat(dir)).isDirectory());
    assert.deepEqual((await readdir(dir)).sort(), ['nginx.conf', 'sites-enabled']);
  });

  test('a file, or a symlink certkeep did not make, is refused and left alone', async () => {
    const file = newDir();
    await mkdir(join(file, '..'), { recursive: true });
    await writeFile(file, 'mine');
    const onFile = await deploy({ directory: file }, await fixture.ca.issue(NAMES));
    assert.match(onFile.status === 'failed' ? onFile.reason : '', /is a file, not a directory/);
    assert.equal(await readFile(file, 'utf8'), 'mine');

    const link = newDir();
    await mkdir(join(link, '..'), { recursive: true });
    await symlink('/etc', link);
    const onLink = await deploy({ directory: link }, await fixture.ca.issue(NAMES));
    assert.match(
      onLink.status === 'failed' ? onLink.reason : '',
      /is a symlink to \/etc that certkeep did not make/,
    );
    assert.equal(await readlink(link), '/etc');
  });
});

describe('one deployment at a time', () => {
  test('a second deployment to the same DIR in the same process is refused while the first runs', async () => {
    const dir = newDir();
    const first = deploy({ directory: dir, deployHook: 'sleep 0.3' }, await fixture.ca.issue(NAMES));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = await deploy({ directory: dir }, await fixture.ca.issue(NAMES));
    assert.equal(second.status, 'failed');
    assert.match(
      second.status === 'failed' ? second.reason : '',
      /another deployment to .* is running \(pid \d+\)/,
    );
    assert.equal((await first).status, 'deployed');
  });

  test('a lock held by a live process refuses; one whose process is gone is taken over', async (t) => {
    const dir = newDir();
    await deploy({ directory: dir }, await fixture.ca.issue(NAMES));
    const lock = join(dir, '..', '.site.certkeep', 'lock');
    const sleeper = spawn('sleep', ['30']);
    t.after(() => sleeper.kill());
    await writeFile(lock, `${sleeper.pid} abc\n`);
    const refused = await deploy({ directory: dir }, await fixture.ca.issue(NAMES));
    assert.match(
      refused.status === 'failed' ? refused.reason : '',
      new RegExp(`running \\(pid ${sleeper.pid}\\)`),
    );
    sleeper.kill('SIGKILL');
    await once(sleeper, 'exit');
    const taken = await deploy({ directory: dir }, await fixture.ca.issue(NAMES));
    assert.equal(taken.status, 'deployed');
  });
});

describe('bad input is refused with the field named, before anything is touched', () => {
  test('target fields', async () => {
    const bundle = await fixture.ca.issue(NAMES);
    const cases: [object, string, RegExp][] = [
      [{ directory: 'relative/dir' }, 'directory', /must be an absolute path/],
      [{ directory: '/' }, 'directory', /cannot hold a deployment/],
      [{ directory: '/tmp/x', format: 'der' }, 'format', /"der" is not one of pem, combined, pfx/],
      [{ directory: '/tmp/x', owner: 'a:b:c' }, 'owner', /must be USER or USER:GROUP/],
      [{ directory: '/tmp/x', verify: ['localhost'] }, 'verify', /"localhost" must be HOST:PORT/],
      [{ directory: '/tmp/x', verify: ['127.0.0.1:99999'] }, 'verify', /must be HOST:PORT/],
      [{ directory: '/tmp/x', reload: '  ' }, 'reload', /the command is empty/],
      [{ directory: '/tmp/x', verifyTimeoutMs: 0 }, 'verifyTimeoutMs', /positive number/],
    ];
    for (const [input, field, message] of cases) {
      await assert.rejects(deploy(input as never, bundle), (error: unknown) => {
        assert.ok(error instanceof UsageError);
        assert.equal(error.field, field);
        assert.match(error.message, message);
        return true;
      });
    }
  });

  test("bundle fields: a serial that is not the leaf's, a key of another certificate, a pfx missing", async () => {
    const dir = newDir();
    const [a, b] = [await fixture.ca.issue(NAMES), await fixture.ca.issue(NAMES)];
    const cases: [object, string, string, RegExp][] = [
      [{ ...a, serial: b.serial }, 'pem', 'bundle.serial', /is not the serial of bundle.certPem/],
      [{ ...a, keyPem: b.keyPem }, 'pem', 'bundle.keyPem', /does not belong/],
      [{ ...a, names: [] }, 'pem', 'bundle.names', /at least one/],
      [a, 'pfx', 'bundle.pfx', /PKCS#12 bytes/],
    ];
    for (const [bundle, format, field, message] of cases) {
      await assert.rejects(deploy({ directory: dir, format }, bundle as never), (error: unknown) => {
        assert.ok(error instanceof UsageError);
        assert.equal(error.field, field);
        assert.match(error.message, message);
        return true;
      });
    }
    await assert.rejects(lstat(dir), /ENOENT/);
  });
});
