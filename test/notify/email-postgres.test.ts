// Several server instances on one PostgreSQL database, each with its own
// connection pool and email dispatcher, ticking at once: every event is mailed
// exactly once (the compare-and-set claim under PostgreSQL's row locks).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { closeEngineContext, createEngineContext, type EngineContext } from '../../src/engine/context.ts';
import { createSubscription } from '../../src/engine/tenancy.ts';
import { EmailDispatcher } from '../../src/notify/email.ts';
import { setNotificationRecipients } from '../../src/notify/recipients.ts';
import { openStore, type Store } from '../../src/store/database.ts';
import { appendEvent } from '../../src/store/repositories/events.ts';
import { insertCertificate } from '../../src/store/repositories/certificates.ts';
import { generateMasterKey } from '../../src/store/master-key.ts';
import { type PostgresServer, startPostgres } from '../rig/postgres.ts';
import { tempDir } from '../rig/tmp.ts';
import { certificateRecord, rowsFor } from '../store/rows.ts';
import { type SmtpSink, startSmtpSink } from './smtp-sink.ts';

const INSTANCES = 3;
const EVENTS = 24;

let server: PostgresServer;
let sink: SmtpSink;
before(async () => {
  server = await startPostgres();
  sink = await startSmtpSink();
});
after(async () => {
  await sink?.stop();
  await server?.stop();
});

test('postgres: three dispatchers ticking at once send every event exactly once', async (t) => {
  const databaseUrl = await server.createDatabase();
  const masterKey = generateMasterKey();
  const dir = await tempDir();
  t.after(dir.remove);
  const instances: { store: Store; ctx: EngineContext; dispatcher: EmailDispatcher }[] = [];
  for (let i = 0; i < INSTANCES; i++) {
    const store = await openStore({ dataDir: dir.path, databaseUrl, masterKey });
    const ctx = createEngineContext(store);
    const smtp = {
      host: '127.0.0.1',
      port: sink.port,
      user: sink.user,
      password: sink.password,
      from: 'certkeep@certkeep.example',
    };
    instances.push({
      store,
      ctx,
      dispatcher: new EmailDispatcher(ctx, { smtp, batchSize: 5, log: () => {} }),
    });
  }
  t.after(async () => {
    for (const { store, ctx, dispatcher } of instances) {
      await dispatcher.stop();
      await closeEngineContext(ctx);
      await store.close();
    }
  });

  const { ctx, store } = instances[0];
  const subscription = (await createSubscription(ctx, 'tenant')).id;
  await setNotificationRecipients(ctx, subscription, ['ops@tenant.example']);
  const { certificates } = rowsFor(subscription);
  await insertCertificate(store.db, certificateRecord(certificates));
  for (let i = 0; i < EVENTS; i++) {
    await appendEvent(
      store.db,
      {
        subscriptionId: subscription,
        certificateId: certificates.id,
        type: 'certificate.expired',
        payload: { name: 'www' },
      },
      Date.now(),
    );
  }

  await Promise.all(instances.flatMap(({ dispatcher }) => [dispatcher.tick(), dispatcher.tick()]));

  const ids = sink.received.map((mail) =>
    Number(/certkeep\.event\.(\d+)\./.exec(mail.headers.get('message-id') ?? '')?.[1]),
  );
  assert.equal(ids.length, EVENTS);
  assert.equal(new Set(ids).size, EVENTS, 'no event mailed twice');
  const pending = await store.db
    .selectFrom('events')
    .select('id')
    .where((eb) => eb.or([eb('emailed_at', 'is', null), eb('emailed_at', '<', 0)]))
    .execute();
  assert.deepEqual(pending, []);
});
