// The Pebble rig itself: start, trust, roots, restart, and clear start failures.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { test } from 'node:test';
import { Agent, request } from 'undici';
import { startPebble } from '../../src/rig/pebble.ts';
import { tempDir } from '../rig/tmp.ts';

test('Pebble starts on loopback, answers over HTTPS trusted by caCertPem, and restarts', async (t) => {
  const work = await tempDir('certkeep-pebble-test-');
  t.after(() => work.remove());
  const pebble = await startPebble({ workDir: work.path, env: { PEBBLE_ALTERNATE_ROOTS: '1' } });
  t.after(() => pebble.stop());
  assert.match(pebble.directoryUrl, /^https:\/\/127\.0\.0\.1:\d+\/dir$/);
  assert.ok(existsSync(pebble.caCertFile));

  const dispatcher = new Agent({ connect: { ca: pebble.caCertPem } });
  t.after(() => dispatcher.close());
  const res = await request(pebble.directoryUrl, { dispatcher });
  const directory = (await res.body.json()) as { newNonce?: string };
  assert.equal(res.statusCode, 200);
  assert.ok(directory.newNonce);

  const root = new X509Certificate(await pebble.rootsPem());
  assert.ok(root.ca, 'roots/0 is a CA certificate');
  const intermediate = new X509Certificate(await pebble.intermediatesPem());
  assert.ok(intermediate.verify(root.publicKey), 'the intermediate is signed by root 0');

  await pebble.restart();
  const rootAfter = new X509Certificate(await pebble.rootsPem());
  assert.notEqual(rootAfter.fingerprint256, root.fingerprint256, 'Pebble makes new roots on every start');

  await pebble.stop();
  await assert.rejects(request(pebble.directoryUrl, { dispatcher }), /ECONNREFUSED/);
  assert.ok(existsSync(work.path), 'a caller-owned work dir is kept');
});

test('a temp work dir is removed on stop', async () => {
  const pebble = await startPebble();
  const dir = pebble.caCertFile.replace(/\/[^/]+$/, '');
  assert.ok(existsSync(dir));
  await pebble.stop();
  assert.equal(existsSync(dir), false);
});

test('a Pebble that exits during start is reported with its output, EAB keys redacted', async () => {
  const badKey = 'not*base64url*key';
  await assert.rejects(startPebble({ eabKeys: { 'kid-1': badKey } }), (err: Error) => {
    assert.match(err.message, /^pebble exited during start \(1\); its output ends with:/);
    assert.match(err.message, /external account bindings/);
    assert.ok(!err.message.includes(badKey), 'the key is redacted');
    return true;
  });
});

test('a missing binary says which package to install', async () => {
  await assert.rejects(
    startPebble({ binary: '/nonexistent/pebble' }),
    /could not run \/nonexistent\/pebble \(not found\); install Debian's "pebble" package/,
  );
});

test('Pebble does not outlive a Node process that is killed', async (t) => {
  const script =
    "import { startPebble } from './src/rig/pebble.ts'; const p = await startPebble(); console.log(p.directoryUrl, p.caCertFile);";
  const parent = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => parent.kill('SIGKILL'));
  const [line] = (await once(parent.stdout!, 'data')) as [Buffer];
  const [directoryUrl, caCertFile] = line.toString().trim().split(' ');
  t.after(() => rm(dirname(caCertFile), { recursive: true, force: true })); // its own stop() never ran
  const dispatcher = new Agent({ connect: { rejectUnauthorized: false } });
  t.after(() => dispatcher.close());
  assert.equal((await request(directoryUrl, { dispatcher })).statusCode, 200);

  parent.kill('SIGKILL'); // no exit handlers run
  await once(parent, 'exit');
  const gone = await waitUntil(async () => {
    const error = await request(directoryUrl, { dispatcher, reset: true }).then(
      (res) => res.body.dump().then(() => undefined),
      (err: Error) => err,
    );
    return error !== undefined && /ECONNREFUSED/.test(error.message);
  });
  assert.ok(gone, 'Pebble stopped once its parent died');
});

async function waitUntil(check: () => Promise<boolean>, tries = 100): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}
