// Scale (issue 16): every periodic query reads an index range that holds only
// the rows with work to do, whatever the number of healthy certificates and
// finished orders; and history that is no longer needed can be found without
// reading what must stay.
//
// - The renewal planner's questions (which certificates are due, which need an
//   expiry warning, which ARI windows to fetch again) each get an index on the
//   moment the answer changes, so a tick reads only the rows whose moment has
//   come; its repair of certificates left issuing reads issuing ones only. The
//   warning's moment needs the current version's expiry on the certificate
//   row: current_not_after, kept beside current_version_id.
// - Open orders get a partial index (finished ones are not in it) by the moment
//   a worker may run the order; whether a certificate has one is answered by
//   0006's orders_one_open_idx, whose condition is OPEN_ORDER too.
// - Retention: versions and orders that may go once old enough are marked
//   retired (versions: all but the current and the one before it; orders: the
//   finished ones that are not a certificate's newest and made no version that
//   stays), so that the retention pass reads only what it deletes.
//
// The key expressions and the open-order condition are exported, and the
// repositories write them into their queries from here: SQLite uses an index
// on an expression only for that expression exactly, and a partial index only
// when the query repeats the index's WHERE term with the same constants (not
// bound parameters). Changing one means a new migration that rebuilds its index.
import { type Kysely, type Migration, sql } from 'kysely';
import { dialectKind, timestampType } from './dialect.ts';

// biome-ignore lint/suspicious/noExplicitAny: migrations work on any schema
type Db = Kysely<any>;

const DAY = 86_400_000;
/** The planner's expiry warnings (days before expiry, loudest last) and its grace before a late renewal counts as off track. */
const EXPIRY_WARNINGS = [7, 3, 1];
const RENEWAL_GRACE_MS = 3_600_000;

/** Steps after which an order needs no more work, as an SQL condition on `step`. */
export const OPEN_ORDER = "step NOT IN ('valid', 'deployed', 'invalid', 'failed')";

/** A certificate waiting for its first version, as an SQL condition. */
export const ISSUING = "state = 'issuing'";

/** When a certificate is due (planner.ts isDue): its retry time, else its renewal time; never when revoked. */
export const DUE_KEY = "CASE WHEN state = 'revoked' THEN NULL ELSE coalesce(retry_at, next_renewal_at) END";

/**
 * From when the next, louder expiry warning is due (planner.ts expiryWarning):
 * the warning's day before expiry, but for a certificate whose renewal is on
 * track (no failure, a renewal time) not before that time plus the grace — and
 * at expiry in any case. Null when no warning is left to raise.
 */
export const WARNING_KEY = warningKey();

/** From when a worker may run an open order: after its retry time and its lease; null while it waits for its client. */
export const RUNNABLE_KEY =
  'CASE WHEN step = goal THEN NULL WHEN coalesce(retry_at, 0) > coalesce(lease_until, 0) THEN retry_at ELSE coalesce(lease_until, 0) END';

export const scaleSchema: Migration = {
  async up(db: Db) {
    const ts = timestampType(dialectKind(db));
    const now = Date.now();
    // PostgreSQL runs the pending migrations in one transaction and refuses to
    // index a table with deferred checks still queued (an earlier migration's
    // update of orders queues orders_account_id_fkey's): run them now.
    if (dialectKind(db) === 'postgres') await sql`SET CONSTRAINTS ALL IMMEDIATE`.execute(db);

    // Indexes the new ones replace go first: no query reads them any more, and
    // every row the backfill below rewrites would have to be kept in them.
    for (const old of [
      'certificates_next_renewal_at_idx',
      'certificates_retry_at_idx',
      'orders_step_goal_idx',
      'orders_retry_at_idx',
    ]) {
      await db.schema.dropIndex(old).execute();
    }
    // A certificate's orders oldest first, and its newest (retirement) in one read.
    await db.schema
      .createIndex('orders_certificate_created_idx')
      .on('orders')
      .columns(['certificate_id', 'created_at'])
      .execute();
    await db.schema.dropIndex('orders_certificate_id_idx').execute();

    await db.schema.alterTable('certificates').addColumn('current_not_after', ts).execute();
    await db.schema.alterTable('certificate_versions').addColumn('retired_at', ts).execute();
    await db.schema.alterTable('orders').addColumn('retired_at', ts).execute();
    await sql`
      UPDATE certificates SET current_not_after =
        (SELECT v.not_after FROM certificate_versions v WHERE v.id = certificates.current_version_id)
      WHERE current_version_id IS NOT NULL`.execute(db);
    await retireExisting(db, now);

    await expressionIndex(db, 'certificates_due_idx', 'certificates', DUE_KEY);
    await expressionIndex(db, 'certificates_warning_idx', 'certificates', WARNING_KEY);
    await sql`CREATE INDEX certificates_ari_check_idx ON certificates (ari_check_at) WHERE ari_check_at IS NOT NULL`.execute(
      db,
    );
    // The scheduler's repair of certificates left issuing without an order reads only issuing ones.
    await sql`CREATE INDEX certificates_issuing_idx ON certificates (updated_at) WHERE ${sql.raw(ISSUING)}`.execute(
      db,
    );
    await sql`CREATE INDEX orders_runnable_idx ON orders ((${sql.raw(RUNNABLE_KEY)})) WHERE ${sql.raw(OPEN_ORDER)}`.execute(
      db,
    );
    await sql`CREATE INDEX certificate_versions_retired_idx ON certificate_versions (created_at) WHERE retired_at IS NOT NULL`.execute(
      db,
    );
    await sql`CREATE INDEX orders_retired_idx ON orders (created_at) WHERE retired_at IS NOT NULL`.execute(
      db,
    );
    await sql`CREATE INDEX events_acked_idx ON events (created_at) WHERE acked_at IS NOT NULL`.execute(db);
    // A webhook's new events: its subscription's events in an id range. (0005_portal makes the same index.)
    await sql`CREATE INDEX IF NOT EXISTS events_subscription_id_id_idx ON events (subscription_id, id)`.execute(
      db,
    );
    // Deleting an event deletes its deliveries (ON DELETE CASCADE): found by this index, not by reading them all.
    await db.schema
      .createIndex('webhook_deliveries_event_id_idx')
      .on('webhook_deliveries')
      .columns(['event_id'])
      .execute();
  },
};

async function expressionIndex(db: Db, name: string, table: string, key: string): Promise<void> {
  await sql`CREATE INDEX ${sql.id(name)} ON ${sql.id(table)} ((${sql.raw(key)}))`.execute(db);
}

/** The rule repositories/retention.ts applies to one certificate, applied to every stored row. */
async function retireExisting(db: Db, now: number): Promise<void> {
  const current = sql`(SELECT c.current_version_id FROM certificates c WHERE c.id = certificate_versions.certificate_id)`;
  await sql`
    UPDATE certificate_versions SET retired_at = ${now}
    WHERE id <> coalesce(${current}, '')
      AND id <> coalesce((SELECT w.id FROM certificate_versions w
                          WHERE w.certificate_id = certificate_versions.certificate_id AND w.id <> coalesce(${current}, '')
                          ORDER BY w.created_at DESC, w.id DESC LIMIT 1), '')`.execute(db);
  await sql`
    UPDATE orders SET retired_at = ${now}
    WHERE NOT (${sql.raw(OPEN_ORDER)})
      AND created_at < (SELECT max(n.created_at) FROM orders n WHERE n.certificate_id = orders.certificate_id)
      AND NOT EXISTS (SELECT 1 FROM certificate_versions v WHERE v.order_id = orders.id AND v.retired_at IS NULL)`.execute(
    db,
  );
}

/** WARNING_KEY: for each expiry warning still to come after the loudest raised (warned_days), the moment it is due. */
function warningKey(): string {
  const cases = [`WHEN warned_days IS NULL THEN ${warningFrom(EXPIRY_WARNINGS[0])}`];
  for (let i = 1; i < EXPIRY_WARNINGS.length; i++)
    cases.push(`WHEN warned_days > ${EXPIRY_WARNINGS[i]} THEN ${warningFrom(EXPIRY_WARNINGS[i])}`);
  cases.push('WHEN warned_days > 0 THEN current_not_after');
  return `CASE WHEN state = 'revoked' OR current_not_after IS NULL THEN NULL ${cases.join(' ')} ELSE NULL END`;
}

function warningFrom(days: number): string {
  const warnFrom = `current_not_after - ${days * DAY}`;
  const offTrackFrom = `next_renewal_at + ${RENEWAL_GRACE_MS}`;
  return (
    `CASE WHEN failure_count > 0 OR next_renewal_at IS NULL OR ${offTrackFrom} <= ${warnFrom} THEN ${warnFrom} ` +
    `WHEN ${offTrackFrom} < current_not_after THEN ${offTrackFrom} ELSE current_not_after END`
  );
}
