// The email dispatcher against a real SMTP server on loopback (authentication
// on) and a real SQLite store: what arrives, to whom, and what is left pending.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { type Clock, systemClock } from '../../src/time/clock.ts';
import { closeEngineContext, createEngineContext, type EngineContext } from '../../src/engine/context.ts';
import { createSubscription } from '../../src/engine/tenancy.ts';
import { isoTime } from '../../src/time/iso.ts';
import { EmailDispatcher, type EmailDispatcherOptions } from '../../src/notify/email.ts';
import { setNotificationRecipients } from '../../src/notify/recipients.ts';
import { openStore, type Store } from '../../src/store/database.ts';
import { insertCertificate, insertVersion } from '../../src/store/repositories/certificates.ts';
import { appendEvent, type EventType } from '../../src/store/repositories/events.ts';
import { tempDir } from '../rig/tmp.ts';
import { certificateRecord, rowsFor } from '../store/rows.ts';
import { type ReceivedMail, type SmtpSink, startSmtpSink } from './smtp-sink.ts';

const DAY = 86_400_000;
const START = Date.parse('2030-01-01T00:00:00Z');
const NOT_AFTER = START + 20 * DAY;
const CA_ERROR =
  'urn:ietf:params:acme:error:dns :: DNS problem: NXDOMAIN looking up TXT for _acme-challenge.www.a.example';

function manualClock(): Clock & { advance(ms: number): void } {
  let now = START;
  return { now: () => now, sleep: systemClock.sleep, advance: (ms) => (now += ms) };
}

describe('email notifications', () => {
  let store: Store;
  let ctx: EngineContext;
  let dir: { path: string; remove: () => Promise<void> };
  let sink: SmtpSink;
  let dispatcher: EmailDispatcher;
  const clock = manualClock();
  const logs: string[] = [];
  const details: Record<string, unknown>[] = [];
  const tenants = {} as Record<'a' | 'b' | 'quiet', string>;
  const recipients = { a: ['ops@a.example', 'oncall@a.example'], b: ['admin@b.example'] };
  let certificateCount = 0;

  const options = (): EmailDispatcherOptions => ({
    smtp: {
      host: '127.0.0.1',
      port: sink.port,
      user: sink.user,
      password: sink.password,
      from: 'certkeep@certkeep.example',
    },
    clock,
    log: (message, about) => {
      logs.push(message);
      if (about) details.push(about);
    },
  });

  before(async () => {
    dir = await tempDir();
    store = await openStore({ dataDir: dir.path });
    ctx = createEngineContext(store, { clock });
    sink = await startSmtpSink();
    for (const tenant of ['a', 'b', 'quiet'] as const)
      tenants[tenant] = (await createSubscription(ctx, `tenant ${tenant}`)).id;
    await setNotificationRecipients(ctx, tenants.a, recipients.a);
    await setNotificationRecipients(ctx, tenants.b, recipients.b);
    dispatcher = new EmailDispatcher(ctx, options());
  });
  after(async () => {
    await dispatcher.stop();
    await sink.stop();
    await closeEngineContext(ctx);
    await store.close();
    await dir.remove();
  });
  beforeEach(() => {
    sink.received.length = 0;
    logs.length = 0;
  });

  /** A valid certificate of the subscription, expiring at NOT_AFTER; returns its id and name. */
  async function certificate(
    subscriptionId: string,
    options: { issued?: boolean } = {},
  ): Promise<{ id: string; name: string }> {
    const rows = rowsFor(subscriptionId);
    const name = `www${++certificateCount}.example`;
    const id = rows.certificates.id;
    await insertCertificate(store.db, certificateRecord({
      ...rows.certificates,
      name,
      identifiers: JSON.stringify([{ type: 'dns', value: name }]),
      renewal_policy: '{"autoRenew":true}',
      last_error: CA_ERROR,
    }));
    if (options.issued !== false) {
      await insertVersion(store.db, {
        ...rows.certificate_versions,
        order_id: null,
        not_before: START - 70 * DAY,
        not_after: NOT_AFTER,
      });
      await store.db
        .updateTable('certificates')
        .set({ current_version_id: rows.certificate_versions.id })
        .where('id', '=', id)
        .execute();
    }
    return { id, name };
  }

  async function raise(
    subscriptionId: string,
    cert: { id: string | null; name: string },
    type: string,
    extra: Record<string, unknown> = {},
  ): Promise<number> {
    await appendEvent(
      store.db,
      // Unknown types are appended on purpose: a type added later must not break the mailer.
      { subscriptionId, certificateId: cert.id, type: type as EventType, payload: { name: cert.name, ...extra } },
      clock.now(),
    );
    const row = await store.db
      .selectFrom('events')
      .select('id')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirstOrThrow();
    return row.id;
  }

  async function emailedAt(id: number): Promise<number | null> {
    const row = await store.db
      .selectFrom('events')
      .select('emailed_at')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    return row.emailed_at;
  }

  async function assertDone(...ids: number[]): Promise<void> {
    for (const id of ids) assert.ok(((await emailedAt(id)) ?? 0) > 0, `event ${id} is marked done`);
  }

  async function assertPending(id: number): Promise<void> {
    assert.ok(((await emailedAt(id)) ?? 0) <= 0, `event ${id} is still pending`);
  }

  const subjects = () => sink.received.map((mail) => mail.subject);
  const failed = (orderId = 'ord_1') => ({ error: CA_ERROR, orderId });

  test('routine issuance and renewal send nothing', async () => {
    const cert = await certificate(tenants.a);
    const ids = [
      await raise(tenants.a, cert, 'certificate.issued', { serial: '01', notAfter: isoTime(NOT_AFTER) }),
      await raise(tenants.a, cert, 'certificate.renewed', { serial: '02', notAfter: isoTime(NOT_AFTER) }),
    ];
    await dispatcher.tick();
    assert.deepEqual(subjects(), []);
    await assertDone(...ids);
  });

  test('the first failure after a success sends one message with the error, the expiry date and what to do', async () => {
    const cert = await certificate(tenants.a);
    await raise(tenants.a, cert, 'certificate.renewed', { serial: '01', notAfter: isoTime(NOT_AFTER) });
    const id = await raise(tenants.a, cert, 'renewal.failed', failed());
    await dispatcher.tick();

    assert.equal(sink.received.length, 1);
    const [mail] = sink.received;
    assert.equal(mail.subject, `[certkeep] ${cert.name}: renewal failed`);
    assert.deepEqual(mail.to.sort(), [...recipients.a].sort());
    assert.deepEqual(mail.envelopeTo.sort(), [...recipients.a].sort());
    assert.match(mail.headers.get('from') ?? '', /certkeep@certkeep\.example/);
    assert.equal(mail.headers.get('auto-submitted'), 'auto-generated');
    assert.ok(mail.text.includes(CA_ERROR), mail.text);
    assert.ok(mail.text.includes(`valid until ${isoTime(NOT_AFTER)} (20 days from now)`), mail.text);
    assert.ok(mail.text.includes(`POST /api/v1/certificates/${cert.name}/renew`), mail.text);
    await assertDone(id);
  });

  test('a second failure in a row sends nothing, even when both wait for the same tick', async () => {
    const cert = await certificate(tenants.a);
    await raise(tenants.a, cert, 'certificate.issued');
    const first = await raise(tenants.a, cert, 'renewal.failed', failed('ord_1'));
    const second = await raise(tenants.a, cert, 'renewal.failed', failed('ord_2'));
    await dispatcher.tick();
    assert.deepEqual(subjects(), [`[certkeep] ${cert.name}: renewal failed`]);
    const third = await raise(tenants.a, cert, 'renewal.failed', failed('ord_3'));
    await dispatcher.tick();
    assert.equal(sink.received.length, 1, 'no message for the second and third failures');
    await assertDone(first, second, third);
  });

  test('a renewal after failures sends one "recovered" message; the next routine renewal none', async () => {
    const cert = await certificate(tenants.a);
    await raise(tenants.a, cert, 'certificate.issued');
    await raise(tenants.a, cert, 'renewal.failed', failed());
    await dispatcher.tick();
    sink.received.length = 0;

    await raise(tenants.a, cert, 'certificate.renewed', {
      serial: '0abc',
      notAfter: isoTime(START + 90 * DAY),
      orderId: 'ord_9',
    });
    await dispatcher.tick();
    assert.deepEqual(subjects(), [`[certkeep] ${cert.name}: renewal recovered`]);
    assert.ok(
      sink.received[0].text.includes(`serial 0abc) is valid until ${isoTime(START + 90 * DAY)}`),
      sink.received[0].text,
    );
    assert.ok(sink.received[0].text.includes(`The last failure was: ${CA_ERROR}`));

    await raise(tenants.a, cert, 'certificate.renewed', {
      serial: '0abd',
      notAfter: isoTime(START + 180 * DAY),
    });
    await dispatcher.tick();
    assert.equal(sink.received.length, 1);
  });

  test('a first issuance that fails says no certificate exists yet; its success after that is mailed', async () => {
    const cert = await certificate(tenants.a, { issued: false });
    await raise(tenants.a, cert, 'issuance.failed', failed());
    await raise(tenants.a, cert, 'issuance.failed', failed('ord_2'));
    await raise(tenants.a, cert, 'certificate.issued', { serial: '01', notAfter: isoTime(NOT_AFTER) });
    await dispatcher.tick();
    assert.deepEqual(subjects(), [
      `[certkeep] ${cert.name}: issuance failed`,
      `[certkeep] ${cert.name}: issued after failures`,
    ]);
    assert.ok(sink.received[0].text.includes(`No certificate has been issued for ${cert.name} yet.`));
  });

  test('a deployment that fails at a target mails once, with the reason and the rollback; its recovery mails once; another target counts alone', async () => {
    const cert = await certificate(tenants.a);
    const reason = "reload exited 1: nginx: [emerg] unknown directive; rolled back to serial 01, but the rollback's reload failed too: it exited 1";
    const at = (target: string, status: 'failed' | 'succeeded', extra: Record<string, unknown> = {}) =>
      raise(tenants.a, cert, `deployment.${status}`, { target, directory: `/etc/ssl/${target}`, host: 'web1', serial: '02', ...extra });
    const failure = { stage: 'reload', error: reason, rolledBack: true, rollbackError: "the rollback's reload failed too: it exited 1" };
    const ids = [
      await at('site', 'failed', failure),
      await at('site', 'failed', failure),
      await at('other', 'succeeded', { verifiedAt: isoTime(START) }),
      await at('site', 'succeeded', { verifiedAt: isoTime(START) }),
    ];
    await dispatcher.tick();
    assert.deepEqual(subjects(), [
      `[certkeep] ${cert.name}: deployment to /etc/ssl/site failed`,
      `[certkeep] ${cert.name}: deployed to /etc/ssl/site after failures`,
    ]);
    const [failedMail, recoveredMail] = sink.received;
    assert.ok(failedMail.text.includes(`What failed: ${reason}`), failedMail.text);
    assert.ok(failedMail.text.includes("The rollback went wrong too: the rollback's reload failed too"), failedMail.text);
    assert.ok(failedMail.text.includes(`certkeep deploy run ${cert.name}`), failedMail.text);
    assert.ok(recoveredMail.text.includes(`The last failure was: ${reason}`), recoveredMail.text);
    await assertDone(...ids);
  });

  test('each expiry threshold sends one message, and so does expiry', async () => {
    const cert = await certificate(tenants.b);
    for (const daysLeft of [7, 3, 1])
      await raise(tenants.b, cert, 'certificate.expiring', { daysLeft, notAfter: isoTime(NOT_AFTER) });
    await raise(tenants.b, cert, 'certificate.expired', { notAfter: isoTime(NOT_AFTER) });
    await dispatcher.tick();
    assert.deepEqual(subjects(), [
      `[certkeep] ${cert.name}: expires in 7 days`,
      `[certkeep] ${cert.name}: expires in 3 days`,
      `[certkeep] ${cert.name}: expires in 1 day`,
      `[certkeep] ${cert.name}: certificate expired`,
    ]);
    for (const mail of sink.received) assert.deepEqual(mail.envelopeTo, recipients.b);
    assert.ok(sink.received[0].text.includes(`expires on ${isoTime(NOT_AFTER)}`), sink.received[0].text);
    assert.ok(sink.received[0].text.includes(`certkeep's last error: ${CA_ERROR}`));
  });

  test("one subscription's events never reach another's recipients", async () => {
    const certA = await certificate(tenants.a);
    const certB = await certificate(tenants.b);
    await raise(tenants.a, certA, 'certificate.expiring', { daysLeft: 7 });
    await raise(tenants.b, certB, 'certificate.expiring', { daysLeft: 7 });
    await dispatcher.tick();
    assert.equal(sink.received.length, 2);
    const byName = (name: string) =>
      sink.received.find((mail) => mail.subject.includes(name)) as ReceivedMail;
    assert.deepEqual(byName(certA.name).envelopeTo.sort(), [...recipients.a].sort());
    assert.deepEqual(byName(certB.name).envelopeTo, recipients.b);
    assert.ok(byName(certB.name).text.includes(`subscription tenant b (${tenants.b})`));
  });

  test('a subscription without recipients: its events are marked done and nothing is sent, not even later', async () => {
    const cert = await certificate(tenants.quiet);
    const id = await raise(tenants.quiet, cert, 'certificate.expired');
    await dispatcher.tick();
    assert.equal(sink.received.length, 0);
    await assertDone(id);
    await setNotificationRecipients(ctx, tenants.quiet, ['late@quiet.example']);
    await dispatcher.tick();
    assert.equal(sink.received.length, 0);
    await setNotificationRecipients(ctx, tenants.quiet, []);
  });

  test('deletions, revocations, unknown types and events of deleted certificates send nothing', async () => {
    const cert = await certificate(tenants.a);
    const ids = [
      await raise(tenants.a, { id: null, name: 'gone.example' }, 'certificate.deleted'),
      await raise(tenants.a, cert, 'certificate.revoked', { serial: '01', reason: 0 }),
      await raise(tenants.a, cert, 'certificate.something.new', { detail: 'from a later version' }),
      await raise(tenants.a, { id: null, name: 'gone.example' }, 'certificate.expiring', { daysLeft: 3 }),
    ];
    await dispatcher.tick();
    assert.equal(sink.received.length, 0);
    await assertDone(...ids);
  });

  test('events never looked at and older than two days are marked done unsent (a backlog from before mail was set up)', async () => {
    const cert = await certificate(tenants.a);
    const old = await raise(tenants.a, cert, 'certificate.expired');
    clock.advance(3 * DAY);
    const fresh = await raise(tenants.a, cert, 'certificate.expiring', { daysLeft: 1 });
    await dispatcher.tick();
    assert.deepEqual(subjects(), [`[certkeep] ${cert.name}: expires in 1 day`]);
    await assertDone(old, fresh);
  });

  test('SMTP server down: the event stays pending, first in line, and is sent once the server is back', async () => {
    const cert = await certificate(tenants.a);
    await sink.stop();
    try {
      const first = await raise(tenants.a, cert, 'certificate.expiring', { daysLeft: 7 });
      const second = await raise(tenants.a, cert, 'certificate.expiring', { daysLeft: 3 });
      await dispatcher.tick();
      await assertPending(first);
      await assertPending(second);
      assert.match(
        logs.join('\n'),
        new RegExp(`cannot send through smtp://certkeep@127\\.0\\.0\\.1:${sink.port}`),
      );
      // Days go by while the server is down: a retry is not a "backlog" event.
      clock.advance(3 * DAY);
      await dispatcher.tick();
      await assertPending(first);
    } finally {
      await sink.start();
    }
    clock.advance(DAY);
    await dispatcher.tick();
    assert.deepEqual(subjects(), [
      `[certkeep] ${cert.name}: expires in 7 days`,
      `[certkeep] ${cert.name}: expires in 3 days`,
    ]);
    assert.ok(!logs.join('\n').includes(sink.password), 'the password is never logged');
  });

  test('SMTP login refused: the event stays pending and is sent once the login works again', async () => {
    const cert = await certificate(tenants.a);
    sink.refuseAuth = true;
    const id = await raise(tenants.a, cert, 'certificate.expired');
    await dispatcher.tick();
    sink.refuseAuth = false;
    await assertPending(id);
    assert.equal(sink.received.length, 0);
    assert.match(logs.join('\n'), /EAUTH/);
    assert.ok(!logs.join('\n').includes(sink.password), 'the password is never logged');

    await dispatcher.tick();
    assert.equal(sink.received.length, 0, 'no new attempt before the pause is over');
    clock.advance(60_000);
    await dispatcher.tick();
    assert.deepEqual(subjects(), [`[certkeep] ${cert.name}: certificate expired`]);
    await assertDone(id);
  });

  test('recipients refused: only that event waits, others go out; a corrected address gets it at the next attempt', async () => {
    const certA = await certificate(tenants.a);
    const certB = await certificate(tenants.b);
    for (const address of recipients.a) sink.refuseRecipients.add(address);
    try {
      const refused = await raise(tenants.a, certA, 'certificate.expired');
      await raise(tenants.b, certB, 'certificate.expired');
      await dispatcher.tick();
      assert.deepEqual(subjects(), [`[certkeep] ${certB.name}: certificate expired`]);
      await assertPending(refused);
      assert.match(logs.join('\n'), new RegExp(`mail of certificate\\.expired for ${certA.name.replaceAll('.', '\\.')} \\(event ${refused}\\) not sent.*EENVELOPE`));
      assert.deepEqual(details.at(-1), { event: refused, type: 'certificate.expired', subscription: tenants.a }, 'the log line names the event');

      await setNotificationRecipients(ctx, tenants.a, ['fixed@a.example']);
      clock.advance(60_000);
      await dispatcher.tick();
      assert.equal(sink.received.length, 2);
      assert.deepEqual(sink.received[1].envelopeTo, ['fixed@a.example']);
      await assertDone(refused);
    } finally {
      sink.refuseRecipients.clear();
      await setNotificationRecipients(ctx, tenants.a, recipients.a);
    }
  });

  test('an event claimed by a process that died is sent once the claim has run out', async () => {
    const cert = await certificate(tenants.a);
    const id = await raise(tenants.a, cert, 'certificate.expired');
    // What a dispatcher's claim looks like: held for ten minutes.
    await store.db
      .updateTable('events')
      .set({ emailed_at: -(clock.now() + 600_000) })
      .where('id', '=', id)
      .execute();
    await dispatcher.tick();
    assert.equal(sink.received.length, 0);
    clock.advance(600_001);
    await dispatcher.tick();
    assert.deepEqual(subjects(), [`[certkeep] ${cert.name}: certificate expired`]);
  });

  test('two dispatchers on the same database, ticking at once, send every event exactly once', async () => {
    const second = await openStore({ dataDir: dir.path });
    const otherCtx = createEngineContext(second, { clock });
    const other = new EmailDispatcher(otherCtx, { ...options(), batchSize: 7 });
    try {
      const ids: number[] = [];
      for (let i = 0; i < 12; i++) {
        const cert = await certificate(i % 2 ? tenants.a : tenants.b);
        ids.push(await raise(i % 2 ? tenants.a : tenants.b, cert, 'certificate.expired'));
      }
      await Promise.all([dispatcher.tick(), other.tick(), dispatcher.tick(), other.tick()]);
      const sentIds = sink.received.map((mail) =>
        Number(/certkeep\.event\.(\d+)\./.exec(mail.headers.get('message-id') ?? '')?.[1]),
      );
      assert.deepEqual(
        sentIds.sort((x, y) => x - y),
        ids,
      );
      await assertDone(...ids);
    } finally {
      await other.stop();
      await closeEngineContext(otherCtx);
      await second.close();
    }
  });
});
