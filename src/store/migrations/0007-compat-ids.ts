// Integer ids for the compatibility APIs (issue 15): the vendors' typed clients
// declare the ids of subscriptions and certificates as integers, so each gets a
// number of its own — handed out when the row is made, in the order rows were
// made for those that exist already, never reused, and gone with its row.
import { type Kysely, type Migration, sql } from 'kysely';
import { createTable, dialectKind } from './dialect.ts';

// biome-ignore lint/suspicious/noExplicitAny: migrations work on any schema
type Db = Kysely<any>;

export const compatIdsSchema: Migration = {
  async up(db: Db) {
    await numberTable(db, 'subscription_numbers', 'subscription_id', 'subscriptions');
    await numberTable(db, 'certificate_numbers', 'certificate_id', 'certificates');
    await sql`INSERT INTO subscription_numbers (subscription_id) SELECT id FROM subscriptions ORDER BY created_at, id`.execute(db);
    await sql`INSERT INTO certificate_numbers (certificate_id) SELECT id FROM certificates ORDER BY created_at, id`.execute(db);
  },
};

/** `number`: an increasing integer, 32-bit as the clients' int; `owner`: the row it stands for, unique. */
async function numberTable(db: Db, name: string, owner: string, ownerTable: string): Promise<void> {
  const table = createTable(db, name);
  const numbered =
    dialectKind(db) === 'postgres'
      ? table.addColumn('number', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
      : // AUTOINCREMENT: a number is never given again, even after the newest row is deleted.
        table.addColumn('number', 'integer', (c) => c.primaryKey().autoIncrement());
  await numbered.addColumn(owner, 'text', (c) => c.notNull().unique().references(`${ownerTable}.id`).onDelete('cascade')).execute();
}
