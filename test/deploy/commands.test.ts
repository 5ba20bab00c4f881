import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { deploy } from '../../src/deploy/index.ts';
import { assertCompletePem, deployFixture } from './helpers.ts';

const NAMES = ['www.example.test', 'example.test'];
const fixture = deployFixture('certkeep-deploy-commands-');
const newDir = () => fixture.newDir();

function envFile(lines: string): Map<string, string> {
  return new Map(
    lines
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

test("the hook sees certbot's, lego's and certkeep's variables, and none of certkeep's own settings", async (t) => {
  const dir = newDir();
  const out = join(dir, '..', 'env');
  process.env.CERTKEEP_MASTER_KEY = 'secret-master-key';
  t.after(() => delete process.env.CERTKEEP_MASTER_KEY);
  const bundle = await fixture.ca.issue(NAMES);
  const outcome = await deploy({ directory: dir, deployHook: `env > ${out}` }, bundle);
  assert.equal(outcome.status, 'deployed');
  const env = envFile(await readFile(out, 'utf8'));
  assert.equal(env.get('RENEWED_LINEAGE'), dir);
  assert.equal(env.get('RENEWED_DOMAINS'), 'www.example.test example.test');
  assert.equal(env.get('LEGO_CERT_DOMAIN'), 'www.example.test');
  assert.equal(env.get('LEGO_CERT_PATH'), join(dir, 'fullchain.pem'));
  assert.equal(env.get('LEGO_CERT_KEY_PATH'), join(dir, 'privkey.pem'));
  assert.equal(env.get('LEGO_ISSUER_CERT_PATH'), join(dir, 'chain.pem'));
  assert.equal(env.get('LEGO_HOOK_CERT_DOMAINS'), 'www.example.test,example.test');
  assert.equal(env.get('CERTKEEP_SERIAL'), bundle.serial);
  assert.equal(env.get('CERTKEEP_VERSION_ID'), bundle.versionId);
  assert.equal(env.get('CERTKEEP_CERTIFICATE'), 'www.example.test');
  assert.equal(env.get('CERTKEEP_FORMAT'), 'pem');
  assert.equal(env.get('CERTKEEP_DIRECTORY'), dir);
  assert.equal(env.get('CERTKEEP_ROLLBACK'), '0');
  assert.equal(env.has('CERTKEEP_MASTER_KEY'), false);
  assert.ok(env.get('PATH'), 'the rest of the environment is passed on');
});

test('for combined and pfx, the lego paths name the files that format writes', async () => {
  const combinedOut = join(fixture.root, 'combined-env');
  const bundle = await fixture.ca.issue(NAMES, { certificateName: 'shop', withPfx: true });
  const combined = newDir();
  await deploy({ directory: combined, format: 'combined', deployHook: `env > ${combinedOut}` }, bundle);
  const env = envFile(await readFile(combinedOut, 'utf8'));
  assert.equal(env.get('LEGO_CERT_PATH'), join(combined, 'shop.pem'));
  assert.equal(env.get('LEGO_CERT_KEY_PATH'), join(combined, 'shop.pem'));
  assert.equal(env.get('LEGO_CERT_PEM_PATH'), join(combined, 'shop.pem'));
  const pfxOut = join(fixture.root, 'pfx-env');
  const pfx = newDir();
  await deploy({ directory: pfx, format: 'pfx', deployHook: `env > ${pfxOut}` }, bundle);
  const pfxEnv = envFile(await readFile(pfxOut, 'utf8'));
  assert.equal(pfxEnv.get('LEGO_CERT_PFX_PATH'), join(pfx, 'shop.pfx'));
  assert.equal(pfxEnv.has('LEGO_CERT_PATH'), false);
});

test('certbot and lego deploy-hook scripts run unchanged and find the new files', async () => {
  const dir = newDir();
  const copies = join(dir, '..', 'copies');
  const certbotHook = join(fixture.root, 'certbot-hook.sh');
  const legoHook = join(fixture.root, 'lego-hook.sh');
  await writeFile(
    certbotHook,
    `#!/bin/sh\nset -e\nmkdir -p ${copies}\nfor d in $RENEWED_DOMAINS; do echo "$d" >> ${copies}/domains; done\ncp "$RENEWED_LINEAGE/fullchain.pem" "$RENEWED_LINEAGE/privkey.pem" ${copies}/\n`,
    { mode: 0o755 },
  );
  await writeFile(
    legoHook,
    `#!/bin/sh\nset -e\ncp "$LEGO_CERT_PATH" ${copies}/$LEGO_CERT_DOMAIN.crt\ncp "$LEGO_CERT_KEY_PATH" ${copies}/$LEGO_CERT_DOMAIN.key\n`,
    { mode: 0o755 },
  );
  const bundle = await fixture.ca.issue(NAMES);
  const outcome = await deploy({ directory: dir, deployHook: `${certbotHook} && ${legoHook}` }, bundle);
  assert.equal(outcome.status, 'deployed');
  assert.equal(await readFile(join(copies, 'domains'), 'utf8'), 'www.example.test\nexample.test\n');
  assert.equal(await readFile(join(copies, 'fullchain.pem'), 'utf8'), bundle.fullchainPem);
  assert.equal(await readFile(join(copies, 'www.example.test.crt'), 'utf8'), bundle.fullchainPem);
  assert.equal(await readFile(join(copies, 'www.example.test.key'), 'utf8'), bundle.keyPem);
});

test('order: files in place, then the hook, then the reload', async () => {
  const dir = newDir();
  const log = join(dir, '..', 'order.log');
  const bundle = await fixture.ca.issue(NAMES);
  const outcome = await deploy(
    {
      directory: dir,
      deployHook: `grep -q "$(cat ${join(dir, 'cert.pem')} | head -2 | tail -1)" ${join(dir, 'fullchain.pem')} && echo "hook $CERTKEEP_SERIAL" >> ${log}`,
      reload: `echo "reload $CERTKEEP_SERIAL" >> ${log}`,
    },
    bundle,
  );
  assert.equal(outcome.status, 'deployed');
  assert.equal(await readFile(log, 'utf8'), `hook ${bundle.serial}\nreload ${bundle.serial}\n`);
});

test('a failing hook rolls back: the old files return and the reload runs again for them', async () => {
  const dir = newDir();
  const log = join(dir, '..', 'rollback.log');
  const reload = `echo "reload $CERTKEEP_SERIAL rollback=$CERTKEEP_ROLLBACK" >> ${log}`;
  const v1 = await fixture.ca.issue(NAMES);
  await deploy({ directory: dir, reload }, v1);
  const v2 = await fixture.ca.issue(NAMES);
  const outcome = await deploy(
    {
      directory: dir,
      reload,
      deployHook: 'echo "first line" >&2; echo "haproxy: cannot bind socket" >&2; exit 1',
    },
    v2,
  );
  assert.equal(outcome.status, 'failed');
  assert.equal(outcome.stage, 'hook');
  assert.equal(outcome.rolledBack, true);
  assert.equal(outcome.rollbackFailure, undefined);
  assert.equal(
    outcome.reason,
    `deploy hook exited 1: first line | haproxy: cannot bind socket; rolled back to serial ${v1.serial}`,
  );
  assert.equal((await assertCompletePem(dir)).serial, v1.serial);
  assert.equal(outcome.holds?.serial, v1.serial);
  assert.equal(
    await readFile(log, 'utf8'),
    `reload ${v1.serial} rollback=0\nreload ${v1.serial} rollback=1\n`,
  );
});

test('a reload that fails, and fails again for the rollback: both in one reason, files on the old version', async () => {
  const dir = newDir();
  const v1 = await fixture.ca.issue(NAMES);
  await deploy({ directory: dir }, v1);
  const v2 = await fixture.ca.issue(NAMES);
  const outcome = await deploy(
    { directory: dir, reload: 'echo "nginx: [emerg] unknown directive" >&2; exit 1' },
    v2,
  );
  assert.equal(outcome.status, 'failed');
  assert.equal(outcome.stage, 'reload');
  assert.equal(outcome.rolledBack, true);
  assert.equal(
    outcome.rollbackFailure,
    "the rollback's reload failed too: it exited 1: nginx: [emerg] unknown directive",
  );
  assert.equal(
    outcome.reason,
    `reload exited 1: nginx: [emerg] unknown directive; rolled back to serial ${v1.serial}, but the rollback's reload failed too: it exited 1: nginx: [emerg] unknown directive`,
  );
  assert.equal((await assertCompletePem(dir)).serial, v1.serial);
});

test('a command that outlives its timeout is stopped, with everything it started, and fails the deployment', async () => {
  const dir = newDir();
  const pidFile = join(dir, '..', 'pid');
  const v1 = await fixture.ca.issue(NAMES);
  await deploy({ directory: dir }, v1);
  const outcome = await deploy(
    { directory: dir, deployHook: `sleep 30 & echo $! > ${pidFile}; wait`, commandTimeoutMs: 300 },
    await fixture.ca.issue(NAMES),
  );
  assert.equal(outcome.status, 'failed');
  assert.equal(outcome.stage, 'hook');
  assert.match(
    outcome.reason,
    /^deploy hook did not finish within 0\.3 s and was stopped; rolled back to serial/,
  );
  const sleeper = Number(await readFile(pidFile, 'utf8'));
  assert.ok(await ends(sleeper), "the command's own children are stopped too");
});

/** Whether the process is gone (or a zombie nobody reaped) within a few seconds. */
async function ends(pid: number): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    if (!stat || / Z /.test(stat)) return true;
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
  return false;
}
