// The CLI's rules for names and concurrent runs (issue 11): a certificate has at
// most one open order — the open order is the lock that keeps two processes
// (two `certkeep issue` runs, or the CLI and a server on one store) from placing
// two orders for one certificate — and certificate names are stored lower case
// without a trailing dot, as every lookup now normalises them.
import { type Kysely, type Migration, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations work on any schema
type Db = Kysely<any>;

// The steps after which an order is finished, as they stand at this migration
// (orders.ts FINISHED_STEPS). A new finished step needs a migration that
// recreates the index with it.
const FINISHED = sql`('valid', 'deployed', 'invalid', 'failed')`;

export const openOrderSchema: Migration = {
  async up(db: Db) {
    // Races before this index could leave two open orders: the newest stays open.
    await sql`
      UPDATE orders SET step = 'failed', error = 'replaced by a newer order'
      WHERE step NOT IN ${FINISHED}
        AND EXISTS (SELECT 1 FROM orders AS newer
                    WHERE newer.certificate_id = orders.certificate_id AND newer.step NOT IN ${FINISHED}
                      AND (newer.created_at > orders.created_at OR (newer.created_at = orders.created_at AND newer.id > orders.id)))
    `.execute(db);
    await sql`CREATE UNIQUE INDEX orders_one_open_idx ON orders (certificate_id) WHERE step NOT IN ${FINISHED}`.execute(db);
    // A name that differs from its normal form only in case or a trailing dot is
    // renamed, unless that would collide with another certificate's name.
    await sql`
      UPDATE certificates SET name = lower(rtrim(name, '.'))
      WHERE name <> lower(rtrim(name, '.'))
        AND NOT EXISTS (SELECT 1 FROM certificates AS other
                        WHERE other.subscription_id = certificates.subscription_id AND other.name = lower(rtrim(certificates.name, '.')))
    `.execute(db);
  },
};
