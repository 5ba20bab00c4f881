// Renewal (issue 5): what the planner remembers between ticks — the loudest
// expiry warning already raised, when to ask the CA's ARI again — and, for
// notifications, each subscription's email recipients and which events have
// been mailed.
import type { Kysely, Migration } from 'kysely';
import { dialectKind, timestampType } from './dialect.ts';

// biome-ignore lint/suspicious/noExplicitAny: migrations work on any schema
type Db = Kysely<any>;

export const renewalSchema: Migration = {
  async up(db: Db) {
    const ts = timestampType(dialectKind(db));
    // Days before expiry of the last certificate.expiring event (7, 3, 1; 0 = expired), null when none yet.
    await db.schema.alterTable('certificates').addColumn('warned_days', 'integer').execute();
    // When to fetch the CA's renewalInfo again (RFC 9773 §4.3: its Retry-After).
    await db.schema.alterTable('certificates').addColumn('ari_check_at', ts).execute();
    // JSON string[] of addresses for notifications; [] for none.
    await db.schema.alterTable('subscriptions').addColumn('notify_emails', 'text', (c) => c.notNull().defaultTo('[]')).execute();
    // When the event was mailed (or judged not worth a message); null while pending.
    await db.schema.alterTable('events').addColumn('emailed_at', ts).execute();
    await db.schema.createIndex('events_emailed_at_idx').on('events').columns(['emailed_at', 'id']).execute();
  },
};
