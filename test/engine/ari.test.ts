// ACME Renewal Information (RFC 9773) end to end: the real engine, a real SQLite
// store and FakeAcme as a CA that serves renewalInfo (Pebble 2.4 has none). The
// scheduler fetches windows and moves the renewal time into them; renewals name
// the certificate they replace, and fall back to a plain order when the CA
// refuses that.
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { sql } from 'kysely';
import type { ChallengeSolver } from '../../src/challenges/solver.ts';
import { issueCertificate, renewCertificate } from '../../src/engine/certificates.ts';
import { validateRequest } from '../../src/engine/requests.ts';
import { closeEngineContext, createEngineContext } from '../../src/engine/context.ts';
import { runOrderOnce } from '../../src/engine/runs.ts';
import type { RenewalPolicy } from '../../src/engine/renewal-policy.ts';
import { RenewalScheduler } from '../../src/engine/scheduler.ts';
import type { SolverSource } from '../../src/engine/solvers.ts';
import { openStore } from '../../src/store/database.ts';
import { type CertificateRow, findCertificate, getVersion, type VersionRow } from '../../src/store/repositories/certificates.ts';
import { findOpenOrder, listOrders } from '../../src/store/repositories/orders.ts';
import { DEFAULT_SUBSCRIPTION_ID, ensureSubscription } from '../../src/store/repositories/subscriptions.ts';
import { FakeAcme, problem } from '../acme/fake-acme.ts';
import { FakeIssuance, type Window } from '../acme/fake-issuance.ts';
import { tempDir } from '../rig/tmp.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A clock the test moves; sleeps (the ACME client's backoffs and polls) move it instead of waiting. */
function steppingClock(start = Date.parse('2030-01-01T00:00:00Z')) {
  let now = start;
  return {
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
    advance: (ms: number) => {
      now += ms;
    },
  };
}

async function setup(t: TestContext, options: { renewalInfo?: boolean; authorizations?: 'pending' | 'valid' } = {}) {
  const dir = await tempDir();
  const store = await openStore({ dataDir: dir.path });
  const clock = steppingClock();
  const ctx = createEngineContext(store, { clock });
  t.after(async () => {
    await closeEngineContext(ctx);
    await store.close();
    await dir.remove();
  });
  await ensureSubscription(store.db, DEFAULT_SUBSCRIPTION_ID, 'default', clock.now());
  const acme = await FakeAcme.start(t, { renewalInfo: options.renewalInfo ?? true });
  // The HTTP-01 answers this "host" serves; the fake CA checks them when a challenge is answered.
  const served = new Map<string, string>();
  const ca = new FakeIssuance(acme, { clock, authorizations: options.authorizations, http01: (token) => served.get(token) });
  const solver: ChallengeSolver = {
    type: 'http-01',
    present: async (task) => void served.set(task.token, task.keyAuthorization),
    cleanup: async (task) => void served.delete(task.token),
  };
  const solvers: SolverSource = { solverFor: async () => solver, close: async () => {} };
  const errors: unknown[] = [];
  const scheduler = new RenewalScheduler(ctx, { onError: (error) => errors.push(error) });

  const certificate = async (name: string): Promise<CertificateRow> => {
    const row = await findCertificate(store.db, DEFAULT_SUBSCRIPTION_ID, name);
    assert.ok(row, `certificate ${name} is stored`);
    return row;
  };
  const version = async (name: string): Promise<VersionRow> => {
    const row = await getVersion(store.db, (await certificate(name)).current_version_id!);
    assert.ok(row, `${name} has a current version`);
    return row;
  };
  return {
    ctx,
    store,
    clock,
    acme,
    ca,
    solvers,
    scheduler,
    errors,
    certificate,
    version,
    issue: (name: string, renewalPolicy?: RenewalPolicy) =>
      issueCertificate(
        ctx,
        validateRequest({ subscriptionId: DEFAULT_SUBSCRIPTION_ID, names: [name], issuers: [{ caUrl: acme.directoryUrl }], renewalPolicy }),
        { solvers },
      ),
    /** What a worker does with the order the scheduler opened. */
    runOpenOrder: async (name: string) => {
      const order = await findOpenOrder(store.db, (await certificate(name)).id);
      assert.ok(order, `${name} has an open order`);
      await runOrderOnce(ctx, solvers, order).catch(() => {}); // a failure is stored with the order
      return (await listOrders(store.db, order.certificate_id)).find((o) => o.id === order.id)!;
    },
  };
}

type Rig = Awaited<ReturnType<typeof setup>>;

function assertInside(at: number | null, window: Window, what: string): void {
  assert.ok(at !== null && at >= window.start && at <= window.end, `${what}: ${at && new Date(at).toISOString()} lies in the window`);
}

/** The one-third-of-lifetime-left time (renewal-policy.ts) for a 90-day certificate. */
function policyTime(version: VersionRow): number {
  return Math.round(version.not_after - (version.not_after - version.not_before) / 3);
}

/** Issues `name` and lets one tick fetch its window; the CA's window is days 45-47 of 90. */
async function issuedWithWindow(rig: Rig, name = 'a.test', renewalPolicy?: RenewalPolicy) {
  const issuedAt = rig.clock.now();
  const window = { start: issuedAt + 45 * DAY, end: issuedAt + 47 * DAY };
  rig.ca.setWindow(window, 6 * 3600);
  await rig.issue(name, renewalPolicy);
  await rig.scheduler.tick();
  return window;
}

test('after issuance one tick fetches the window: the renewal time moves into it, the window is kept, Retry-After sets the next check', async (t) => {
  const rig = await setup(t);
  const window = { start: rig.clock.now() + 45 * DAY, end: rig.clock.now() + 47 * DAY };
  rig.ca.setWindow(window, 6 * 3600);
  await rig.issue('a.test');
  const issued = await rig.certificate('a.test');
  const version = await rig.version('a.test');
  assert.equal(issued.next_renewal_at, policyTime(version), 'before the window is known: the policy time');
  assert.equal(issued.ari_check_at, rig.clock.now(), 'the window is asked for at the next tick');
  assert.equal(version.ari_cert_id, rig.ca.issued[0].certId, "the engine's CertID is the CA's");

  const report = await rig.scheduler.tick();

  assert.equal(report.ariChecked, 1);
  assert.equal(rig.acme.count(`GET /renewal-info/${version.ari_cert_id}`), 1);
  const checked = await rig.certificate('a.test');
  assertInside(checked.next_renewal_at, window, 'next_renewal_at');
  assert.notEqual(checked.next_renewal_at, policyTime(version));
  const stored = await rig.version('a.test');
  assert.deepEqual([stored.ari_window_start, stored.ari_window_end], [window.start, window.end]);
  assert.equal(checked.ari_check_at, rig.clock.now() + 6 * HOUR, 'Retry-After: 6 hours');
  assert.deepEqual(rig.errors, []);
});

test('Retry-After is kept between a minute and a day', async (t) => {
  const rig = await setup(t);
  await issuedWithWindow(rig);
  rig.clock.advance(6 * HOUR);
  rig.ca.setWindow({ start: rig.clock.now() + 40 * DAY, end: rig.clock.now() + 41 * DAY }, 7 * 86_400);
  await rig.scheduler.tick();
  assert.equal((await rig.certificate('a.test')).ari_check_at, rig.clock.now() + DAY, 'a week asked, a day taken');

  rig.clock.advance(DAY);
  rig.ca.setWindow({ start: rig.clock.now() + 40 * DAY, end: rig.clock.now() + 41 * DAY }, 0);
  await rig.scheduler.tick();
  assert.equal((await rig.certificate('a.test')).ari_check_at, rig.clock.now() + MINUTE, 'none asked, a minute taken');
});

test('an unchanged window keeps the chosen moment; a window moved earlier moves the renewal into it', async (t) => {
  const rig = await setup(t);
  const window = await issuedWithWindow(rig);
  const chosen = (await rig.certificate('a.test')).next_renewal_at;

  rig.clock.advance(6 * HOUR);
  await rig.scheduler.tick();
  assert.equal(rig.acme.count(`GET /renewal-info/${(await rig.version('a.test')).ari_cert_id}`), 2, 'checked again');
  assert.equal((await rig.certificate('a.test')).next_renewal_at, chosen, 'same window, same moment');

  // The CA announces it will revoke: renew within the next two days.
  rig.clock.advance(6 * HOUR);
  const revocation = { start: rig.clock.now(), end: rig.clock.now() + 2 * DAY };
  rig.ca.setWindow(revocation, 3600);
  await rig.scheduler.tick();
  const moved = await rig.certificate('a.test');
  assertInside(moved.next_renewal_at, revocation, 'after the announcement');
  assert.ok(moved.next_renewal_at! < window.start);
  const stored = await rig.version('a.test');
  assert.deepEqual([stored.ari_window_start, stored.ari_window_end], [revocation.start, revocation.end]);
});

test('a renewBefore earlier than the window wins; a later one leaves the window in charge', async (t) => {
  const rig = await setup(t);
  const window = await issuedWithWindow(rig, 'early.test', { autoRenew: true, renewBefore: '50d' });
  await issuedWithWindow(rig, 'late.test', { autoRenew: true, renewBefore: '20d' });

  const early = await rig.version('early.test');
  assert.equal((await rig.certificate('early.test')).next_renewal_at, early.not_after - 50 * DAY);
  assert.equal(early.ari_window_start, window.start, 'the window is still stored');
  assertInside((await rig.certificate('late.test')).next_renewal_at, window, 'late.test');
});

test('renewal names the certificate it replaces and completes', async (t) => {
  const rig = await setup(t);
  await issuedWithWindow(rig);
  const before = await rig.version('a.test');
  rig.clock.advance(47 * DAY);

  const report = await rig.scheduler.tick();
  assert.equal(report.ordersOpened, 1);
  const order = await rig.runOpenOrder('a.test');

  assert.equal(order.step, 'valid', order.error ?? '');
  assert.equal(order.replaces, before.ari_cert_id);
  assert.deepEqual(rig.ca.newOrders.at(-1), { identifiers: [{ type: 'dns', value: 'a.test' }], replaces: before.ari_cert_id });
  const after = await rig.version('a.test');
  assert.notEqual(after.id, before.id);
  assert.equal(after.ari_cert_id, rig.ca.issued[1].certId);
  assert.equal((await rig.certificate('a.test')).ari_check_at, rig.clock.now(), "the new certificate's window is asked for next");
});

for (const refusal of [
  problem('alreadyReplaced', 'that certificate was replaced already', 409),
  problem('malformed', 'replaces: unknown certificate', 400),
]) {
  const type = (refusal.body as { type: string }).type;
  test(`a CA refusing "replaces" (${type}) gets the order without it, and the renewal completes`, async (t) => {
    const rig = await setup(t);
    await issuedWithWindow(rig);
    const before = await rig.version('a.test');
    rig.ca.refuseReplaces.push(refusal);
    rig.clock.advance(47 * DAY);
    await rig.scheduler.tick();

    const order = await rig.runOpenOrder('a.test');

    assert.equal(order.step, 'valid', order.error ?? '');
    assert.deepEqual(
      rig.ca.newOrders.slice(1).map((o) => o.replaces ?? null),
      [before.ari_cert_id, null],
      'once with replaces, then without',
    );
    assert.equal(order.replaces, null, 'the order records that it replaced nothing');
    assert.notEqual((await rig.version('a.test')).id, before.id);
  });
}

test('the CLI renewal falls back the same way', async (t) => {
  const rig = await setup(t);
  await issuedWithWindow(rig);
  const before = await rig.version('a.test');
  rig.ca.refuseReplaces.push(problem('alreadyReplaced', 'replaced already', 409));
  rig.clock.advance(47 * DAY);

  const outcome = await renewCertificate(rig.ctx, DEFAULT_SUBSCRIPTION_ID, 'a.test', { solvers: rig.solvers });

  assert.equal(outcome.status, 'renewed');
  assert.deepEqual(
    rig.ca.newOrders.slice(1).map((o) => o.replaces ?? null),
    [before.ari_cert_id, null],
  );
});

test('a rate limit on the replacing order is not retried without replaces', async (t) => {
  const rig = await setup(t);
  await issuedWithWindow(rig);
  const before = await rig.version('a.test');
  rig.ca.refuseReplaces.push(problem('rateLimited', 'too many certificates for a.test', 429, { 'retry-after': '7200' }));
  rig.clock.advance(47 * DAY);
  await rig.scheduler.tick();

  const order = await rig.runOpenOrder('a.test');

  assert.equal(rig.ca.newOrders.length, 2, 'the first issuance and one refused renewal');
  assert.equal(rig.ca.newOrders[1].replaces, before.ari_cert_id);
  assert.equal(order.step, 'invalid');
  assert.match(order.error ?? '', /too many certificates/);
  const certificate = await rig.certificate('a.test');
  assert.equal(certificate.current_version_id, before.id, 'the current version stays');
  assert.ok(certificate.retry_at! >= rig.clock.now() + 2 * HOUR, "the CA's Retry-After is honoured");
});

test('a CA without renewalInfo: no ARI checks, renewal at the policy time, no replaces', async (t) => {
  const rig = await setup(t, { renewalInfo: false });
  await rig.issue('a.test');
  const version = await rig.version('a.test');
  const issued = await rig.certificate('a.test');
  assert.equal(issued.ari_check_at, null);
  assert.equal(issued.next_renewal_at, policyTime(version));

  assert.equal((await rig.scheduler.tick()).ariChecked, 0);
  rig.clock.advance(policyTime(version) - rig.clock.now() - MINUTE);
  assert.equal((await rig.scheduler.tick()).ordersOpened, 0, 'a minute early');
  rig.clock.advance(MINUTE);
  assert.equal((await rig.scheduler.tick()).ordersOpened, 1, 'due at the policy time');
  const order = await rig.runOpenOrder('a.test');

  assert.equal(order.step, 'valid', order.error ?? '');
  assert.equal(order.replaces, null);
  assert.ok(!('replaces' in rig.ca.newOrders[1]), 'no replaces sent');
  assert.equal(rig.acme.requests.filter((r) => r.path.startsWith('/renewal-info/')).length, 0);
});

test('renewalInfo failing (500, then unreachable): checked again in an hour, the planned time unchanged', async (t) => {
  const rig = await setup(t);
  const window = await issuedWithWindow(rig);
  const planned = (await rig.certificate('a.test')).next_renewal_at;

  for (const failure of [{ status: 500, body: 'oops' }, { drop: true }]) {
    rig.clock.advance(6 * HOUR);
    rig.ca.renewalInfo = () => failure;
    const at = rig.clock.now();
    rig.errors.length = 0;
    await rig.scheduler.tick();
    const certificate = await rig.certificate('a.test');
    assert.equal(certificate.ari_check_at, at + HOUR, `${JSON.stringify(failure)}: an hour on`);
    assert.equal(certificate.next_renewal_at, planned);
    assert.equal(rig.errors.length, 1, 'the failure is reported');
    const stored = await rig.version('a.test');
    assert.deepEqual([stored.ari_window_start, stored.ari_window_end], [window.start, window.end]);
    rig.clock.advance(HOUR);
  }
});

test('authorizations the account already holds need no challenge', async (t) => {
  const rig = await setup(t, { authorizations: 'valid' });
  await rig.issue('a.test');
  assert.equal(rig.acme.requests.filter((r) => r.path.startsWith('/chall/')).length, 0);
  assert.ok((await rig.certificate('a.test')).current_version_id);
});

test('a certificate that does not auto-renew keeps no renewal time, whatever the window', async (t) => {
  const rig = await setup(t);
  const window = await issuedWithWindow(rig, 'a.test', { autoRenew: false });

  const certificate = await rig.certificate('a.test');
  assert.equal(certificate.next_renewal_at, null);
  assert.equal((await rig.version('a.test')).ari_window_start, window.start, 'the window is still kept');
  rig.clock.advance(47 * DAY);
  assert.equal((await rig.scheduler.tick()).ordersOpened, 0);
  const outcome = await renewCertificate(rig.ctx, DEFAULT_SUBSCRIPTION_ID, 'a.test', { solvers: rig.solvers });
  assert.equal(outcome.status, 'unchanged', '`renew --all` leaves it alone too');
});

test('a window whose renewal time could not be stored is applied at the next check', async (t) => {
  const rig = await setup(t);
  const first = await issuedWithWindow(rig);
  // The write of the new renewal time fails (a full disk, a killed process): stand-in, a trigger.
  await sql`CREATE TRIGGER refuse_replan BEFORE UPDATE OF next_renewal_at ON certificates BEGIN SELECT RAISE(ABORT, 'injected'); END`.execute(rig.store.db);
  rig.clock.advance(6 * HOUR);
  const moved = { start: rig.clock.now() + DAY, end: rig.clock.now() + 2 * DAY };
  rig.ca.setWindow(moved, 3600);
  await rig.scheduler.tick();
  assert.match(String(rig.errors[0]), /injected/);
  assertInside((await rig.certificate('a.test')).next_renewal_at, first, 'not moved yet');

  await sql`DROP TRIGGER refuse_replan`.execute(rig.store.db);
  rig.clock.advance(HOUR);
  await rig.scheduler.tick();
  assertInside((await rig.certificate('a.test')).next_renewal_at, moved, 'moved at the retry');
});
