// Delegated DNS in every instance (issue 15): the challenge values of delegated
// zones are kept in the store, so that every instance's challenge DNS server
// answers every order, whichever instance runs it.
import type { Kysely, Migration } from 'kysely';
import { createTable, dialectKind, timestampType } from './dialect.ts';

// biome-ignore lint/suspicious/noExplicitAny: migrations work on any schema
type Db = Kysely<any>;

export const watchSchema: Migration = {
  async up(db: Db) {
    const ts = timestampType(dialectKind(db));
    // owner: the name under the delegation zone the CA asks for (lower case, no trailing dot).
    await createTable(db, 'delegated_challenge_values')
      .addColumn('owner', 'text', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addColumn('subscription_id', 'text', (c) => c.notNull().references('subscriptions.id').onDelete('cascade'))
      .addColumn('created_at', ts, (c) => c.notNull())
      .addPrimaryKeyConstraint('delegated_challenge_values_pk', ['owner', 'value'])
      .execute();
    await db.schema.createIndex('delegated_challenge_values_created_idx').on('delegated_challenge_values').columns(['created_at']).execute();
  },
};
