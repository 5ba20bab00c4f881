// --webroot: the token is served by a real nginx, and removed afterwards.
import assert from 'node:assert/strict';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startNginx } from '../rig/nginx.ts';
import { type Rig, startRig, ZONE } from './harness.ts';

describe('certkeep issue --webroot with nginx', () => {
  let rig: Rig;
  let webroot: string;
  let stopNginx: () => Promise<void>;
  after(() => rig?.stop());
  before(async () => {
    rig = await startRig();
    webroot = join(rig.dataDir, 'www');
    await mkdir(webroot);
    stopNginx = (await startNginx({ root: webroot, port: rig.httpPort })).stop;
  });
  after(() => stopNginx?.());

  test('issues through nginx and leaves no token files behind', async () => {
    const result = await rig.certkeep(['issue', '-d', `web.${ZONE}`, '-d', `www.web.${ZONE}`, '--webroot', webroot, '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.json().status, 'issued');
    assert.deepEqual(await readdir(join(webroot, '.well-known', 'acme-challenge')), []);
  });

  test('a webroot that does not exist → exit 2 naming it', async () => {
    const result = await rig.certkeep(['issue', '-d', `web2.${ZONE}`, '--webroot', join(webroot, 'missing')]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--webroot: .*missing/);
  });
});
