// A reader that resolves DIR once and reads the pem files under it, running beside 200 renewals
// each deployed by the engine's use case, never sees a key that does not belong to its certificate
// (issue 12): the engine hands the deploy library whole versions, and the library switches them in
// one step.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { addDeployTarget } from '../../src/engine/deploy-targets.ts';
import { deployLocalTargets } from '../../src/engine/deployments.ts';
import { DEFAULT_SUBSCRIPTION_ID } from '../../src/store/repositories/subscriptions.ts';
import { assertCompletePem, whileReading } from '../deploy/helpers.ts';
import { deploymentFixture } from './deployment-fixture.ts';

const DEPLOYMENTS = 200;
const fixture = deploymentFixture('certkeep-engine-reader-');

test(`a reader of DIR never sees one version's key beside another's certificate, over ${DEPLOYMENTS} renewals deployed by the engine`, async (t) => {
  const certificate = await fixture.certificate('reader.example.test', {
    names: ['reader.example.test', 'www.reader.example.test'],
  });
  const directory = join(fixture.root, 'tls', 'reader');
  await addDeployTarget(fixture.ctx, DEFAULT_SUBSCRIPTION_ID, certificate.name, { directory });
  assert.equal((await deployLocalTargets(fixture.ctx, DEFAULT_SUBSCRIPTION_ID))[0].status, 'deployed');

  const seen = await whileReading(t, directory, fixture.root, async () => {
    for (let i = 1; i <= DEPLOYMENTS; i++) {
      await fixture.renew(certificate.name);
      const [result] = await deployLocalTargets(fixture.ctx, DEFAULT_SUBSCRIPTION_ID);
      assert.equal(result.status, 'deployed', result.error);
    }
  });
  t.diagnostic(`${seen.reads} reads, ${seen.serials.length} serials seen`);
  assert.equal(seen.mismatches, 0);
  assert.ok(
    seen.serials.length >= 2,
    `the reader saw the versions change (${seen.serials.length} serials in ${seen.reads} reads)`,
  );
  await assertCompletePem(directory);
  const rows = await fixture.store.db.selectFrom('deployments').select(['status']).execute();
  assert.equal(rows.length, DEPLOYMENTS + 1);
  assert.ok(rows.every((row) => row.status === 'deployed'));
});
