import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { deploy } from '../../src/deploy/index.ts';
import { tempDir } from '../rig/tmp.ts';
import { makeTestCa } from './certificates.ts';
import { assertCompletePem, whileReading } from './helpers.ts';

const DEPLOYMENTS = 200;

test(`a reader of DIR never sees one version's key beside another's certificate, over ${DEPLOYMENTS} deployments`, async (t) => {
  const root = await tempDir('certkeep-deploy-reader-');
  t.after(() => root.remove());
  const ca = await makeTestCa(root.path);
  const names = ['www.example.test'];
  const versions = [await ca.issue(names), await ca.issue(names), await ca.issue(names)];
  const directory = join(root.path, 'tls', 'site');
  await deploy({ directory }, versions[0]);

  const seen = await whileReading(t, directory, root.path, async () => {
    for (let i = 1; i <= DEPLOYMENTS; i++) {
      const outcome = await deploy({ directory }, versions[i % versions.length]);
      assert.equal(outcome.status, 'deployed');
    }
  });
  t.diagnostic(
    `${seen.reads} reads, ${seen.serials.length} serials, ${seen.vanished} versions pruned under the reader`,
  );
  assert.equal(seen.mismatches, 0);
  assert.ok(seen.reads > 0, 'the reader read');
  assert.ok(
    seen.serials.length >= 2,
    `the reader saw the versions change (${seen.serials.length} serials in ${seen.reads} reads)`,
  );
  await assertCompletePem(directory);
});
