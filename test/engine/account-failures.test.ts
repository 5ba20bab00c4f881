// A CA that cannot be reached while many certificates fall due: one scheduler
// pass tries to create the account there once (with its retries), not once per
// batch of due certificates, and every certificate still gets its failure and
// retry time stored (issue 16).
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { AcmeNetworkError, AcmeProblemError } from '../../src/acme/index.ts';
import { AccountFailures } from '../../src/engine/account-failures.ts';
import type { Clock } from '../../src/time/clock.ts';
import { closeEngineContext, createEngineContext } from '../../src/engine/context.ts';
import { RenewalScheduler } from '../../src/engine/scheduler.ts';
import { openStore } from '../../src/store/database.ts';
import { ensureSubscription } from '../../src/store/repositories/subscriptions.ts';
import { seedDueCertificates } from '../rig/due-certificates.ts';
import { tempDir } from '../rig/tmp.ts';

/** A "CA" that accepts connections and drops them at once, counting them. */
async function droppingServer(): Promise<{
  url: string;
  connections: () => number;
  close: () => Promise<void>;
}> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `https://127.0.0.1:${port}/directory`,
    connections: () => connections,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('a CA that cannot be reached', () => {
  test('one pass asks it once for all due certificates of every subscription, and stores each failure', async (t) => {
    const ca = await droppingServer();
    t.after(ca.close);
    const dir = await tempDir();
    t.after(dir.remove);
    const store = await openStore({ dataDir: dir.path });
    t.after(() => store.close());
    // The client's backoff between attempts passes at once.
    const clock: Clock = {
      now: () => Date.now(),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 5))),
    };
    const ctx = createEngineContext(store, { clock });
    t.after(() => closeEngineContext(ctx));
    const now = Date.now();
    for (const subscriptionId of ['sub_a', 'sub_b']) {
      await ensureSubscription(store.db, subscriptionId, subscriptionId, now);
      await seedDueCertificates(store, {
        subscriptionId,
        count: 180,
        caUrl: ca.url,
        prefix: subscriptionId,
        now,
      });
    }

    // Batches of 100: four batches for the 360 due certificates.
    const report = await new RenewalScheduler(ctx, { batch: 100 }).tick();

    assert.equal(report.ordersOpened, 0);
    // One account creation: its first attempt and the client's three retries (acme/client.ts), nothing more.
    assert.equal(ca.connections(), 4);
    const rows = await store.db
      .selectFrom('certificates')
      .select(['failure_count', 'retry_at', 'last_error'])
      .execute();
    assert.equal(rows.length, 360);
    for (const row of rows) {
      assert.equal(row.failure_count, 1);
      assert.ok(row.retry_at !== null && row.retry_at > now, 'a retry time is stored');
      assert.match(row.last_error ?? '', /could not reach the ACME CA/);
    }
    const events = await store.db.selectFrom('events').select('type').execute();
    assert.equal(events.length, 360, 'one renewal.failed event per certificate, as when each had asked');
    assert.ok(events.every((event) => event.type === 'renewal.failed'));

    // The next pass asks again: what a CA answered is kept for one pass only.
    await store.db
      .updateTable('certificates')
      .set({ retry_at: Date.now() - 1 })
      .where('subscription_id', '=', 'sub_a')
      .execute();
    await new RenewalScheduler(ctx, { batch: 100 }).tick();
    assert.equal(ca.connections(), 8);
  });
});

describe('AccountFailures', () => {
  const issuer = { caUrl: 'https://ca.example.test/directory' };
  const problem = (type: string) =>
    new AcmeProblemError(
      { type: `urn:ietf:params:acme:error:${type}`, detail: type },
      400,
      'create account',
      issuer.caUrl,
    );

  test('a CA that cannot be reached fails every account there; a refusal fails only its own account', () => {
    const failures = new AccountFailures();
    const unreachable = new AcmeNetworkError('down', 'get directory', issuer.caUrl, 'ECONNREFUSED');
    failures.remember('sub_a', { ...issuer, email: 'a@example.test' }, problem('invalidContact'));
    assert.ok(failures.known('sub_a', { ...issuer, email: 'a@example.test' }) instanceof AcmeProblemError);
    assert.equal(
      failures.known('sub_a', { ...issuer, email: 'other@example.test' }),
      undefined,
      'another contact is another account',
    );
    assert.equal(
      failures.known('sub_b', issuer),
      undefined,
      "another subscription's account is asked itself",
    );
    failures.remember('sub_b', issuer, unreachable);
    assert.equal(failures.known('sub_c', { ...issuer, email: 'c@example.test' }), unreachable);
    assert.equal(failures.known('sub_c', { caUrl: 'https://other-ca.example.test/directory' }), undefined);
  });

  test('failures that are not the CA’s answer are not kept', () => {
    const failures = new AccountFailures();
    failures.remember('sub_a', issuer, new Error('database is locked'));
    assert.equal(failures.known('sub_a', issuer), undefined);
  });
});
