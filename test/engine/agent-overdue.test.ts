// deployment.overdue: a target (an agent's or this machine's) still not on its
// certificate's current version --deploy-overdue after the version was stored
// raises the event once per target and version; a reported deployment ends it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { raiseOverdueDeployments, reportDeployment } from '../../src/engine/agent-reports.ts';
import { join } from 'node:path';
import { addAgentTarget } from '../../src/engine/agent-targets.ts';
import { addDeployTarget } from '../../src/engine/deploy-targets.ts';
import { authenticateAgent, createAgent } from '../../src/engine/agents.ts';
import { findCertificate } from '../../src/store/repositories/certificates.ts';
import { DEFAULT_SUBSCRIPTION_ID } from '../../src/store/repositories/subscriptions.ts';
import { manualClock } from '../rig/clock.ts';
import { deploymentFixture } from './deployment-fixture.ts';

const MINUTE = 60_000;
const clock = manualClock();
const fixture = deploymentFixture('certkeep-overdue-', clock);

async function overdueEvents() {
  return (await fixture.store.db.selectFrom('events').selectAll().where('type', '=', 'deployment.overdue').orderBy('id').execute()).map((row) => JSON.parse(row.payload));
}

test('a target not on the current version 30 minutes after it was stored raises deployment.overdue once; a reported deployment ends it', async () => {
  await fixture.certificate('late.example');
  const agent = await createAgent(fixture.ctx, DEFAULT_SUBSCRIPTION_ID, 'web1.example');
  const target = await addAgentTarget(fixture.ctx, DEFAULT_SUBSCRIPTION_ID, agent.id, { certificate: 'late.example', to: '/srv/tls/late', reload: 'nginx' });
  const caller = (await authenticateAgent(fixture.ctx, agent.token))!;

  clock.advance(29 * MINUTE);
  assert.equal(await raiseOverdueDeployments(fixture.ctx, 30 * MINUTE), 0, 'not yet');
  clock.advance(2 * MINUTE);
  assert.equal(await raiseOverdueDeployments(fixture.ctx, 30 * MINUTE), 1);
  assert.equal(await raiseOverdueDeployments(fixture.ctx, 30 * MINUTE), 0, 'once per target and version');
  const [event] = await overdueEvents();
  assert.equal(event.target, target.id);
  assert.equal(event.agent, agent.id);
  assert.equal(event.host, 'web1.example');
  assert.equal(event.status, 'pending');

  // The next version: deployed in time, so nothing is overdue.
  await fixture.renew('late.example');
  const certificate = (await findCertificate(fixture.store.db, DEFAULT_SUBSCRIPTION_ID, 'late.example'))!;
  await reportDeployment(fixture.ctx, caller, { target: target.id, versionId: certificate.current_version_id!, status: 'deployed' });
  clock.advance(60 * MINUTE);
  assert.equal(await raiseOverdueDeployments(fixture.ctx, 30 * MINUTE), 0);

  // A failed one stays overdue, and says why.
  await fixture.renew('late.example');
  const again = (await findCertificate(fixture.store.db, DEFAULT_SUBSCRIPTION_ID, 'late.example'))!;
  await reportDeployment(fixture.ctx, caller, { target: target.id, versionId: again.current_version_id!, status: 'failed', stage: 'reload', error: 'nginx: [emerg] bogus' });
  clock.advance(31 * MINUTE);
  assert.equal(await raiseOverdueDeployments(fixture.ctx, 30 * MINUTE), 1);
  const last = (await overdueEvents()).at(-1);
  assert.equal(last.status, 'failed');
  assert.match(last.error, /bogus/);
});

test('a report repeated by a restarted agent raises no second event', async () => {
  await fixture.certificate('twice.example');
  const agent = await createAgent(fixture.ctx, DEFAULT_SUBSCRIPTION_ID, 'web2.example');
  const target = await addAgentTarget(fixture.ctx, DEFAULT_SUBSCRIPTION_ID, agent.id, { certificate: 'twice.example', to: '/srv/tls/twice' });
  const caller = (await authenticateAgent(fixture.ctx, agent.token))!;
  const certificate = (await findCertificate(fixture.store.db, DEFAULT_SUBSCRIPTION_ID, 'twice.example'))!;
  const report = { target: target.id, versionId: certificate.current_version_id!, status: 'deployed' as const };
  await reportDeployment(fixture.ctx, caller, { ...report, status: 'pending' });
  await reportDeployment(fixture.ctx, caller, report);
  await reportDeployment(fixture.ctx, caller, report);
  const events = await fixture.store.db.selectFrom('events').select('type').where('type', '=', 'deployment.succeeded').where('certificate_id', '=', certificate.id).execute();
  assert.equal(events.length, 1);
  await assert.rejects(reportDeployment(fixture.ctx, caller, { ...report, versionId: 'ver_unknown' }), /versionId/);
  // This machine's own target is no agent's to report on.
  const local = await addDeployTarget(fixture.ctx, DEFAULT_SUBSCRIPTION_ID, 'twice.example', { directory: join(fixture.root, 'local-twice') });
  await assert.rejects(reportDeployment(fixture.ctx, caller, { ...report, target: local.target.id }), /has no target/);
});

test('a target made for a version stored long before is overdue 30 minutes after it was made, not at once; an earlier pass\'s end is read from', async () => {
  await fixture.certificate('old.example');
  clock.advance(120 * MINUTE);
  const agent = await createAgent(fixture.ctx, DEFAULT_SUBSCRIPTION_ID, 'web3.example');
  const target = await addAgentTarget(fixture.ctx, DEFAULT_SUBSCRIPTION_ID, agent.id, { certificate: 'old.example', to: '/srv/tls/old' });
  const since = clock.now() - 30 * MINUTE;
  assert.equal(await raiseOverdueDeployments(fixture.ctx, 30 * MINUTE, since), 0, 'the target is new');
  clock.advance(31 * MINUTE);
  assert.equal(await raiseOverdueDeployments(fixture.ctx, 30 * MINUTE, since), 1);
  assert.equal((await overdueEvents()).at(-1).target, target.id);
  clock.advance(MINUTE);
  assert.equal(await raiseOverdueDeployments(fixture.ctx, 30 * MINUTE, clock.now() - 30 * MINUTE), 0, 'a pass after it reads only its own window');
});
