// What the store may forget, and forgetting it a small batch at a time.
//
// A certificate keeps its current version and the one before it (for rollback
// and the compatibility APIs' history), its newest order (the compatibility
// APIs name a certificate's order by it), any order still open, and the orders
// that made the versions it keeps. Everything else of it is marked retired as
// soon as that is so (retireSuperseded, called when a version becomes current
// and when an order is opened); once older than the retention age, retired
// rows and acknowledged events are deleted. The deletes read only retired rows
// (and acknowledged events) older than the cutoff, from partial indexes
// (migration 0008), so the rows that stay are never read again.
import { type SqlBool, sql } from 'kysely';
import type { Db } from './db.ts';
import { isFinished } from './orders.ts';

/** Marks the certificate's versions and orders that need not stay (see above); `now` is when. */
export async function retireSuperseded(db: Db, certificateId: string, now: number): Promise<void> {
  const certificate = await db
    .selectFrom('certificates')
    .select('current_version_id')
    .where('id', '=', certificateId)
    .executeTakeFirst();
  if (!certificate) return;
  const versions = await db
    .selectFrom('certificate_versions')
    .select(['id', 'order_id'])
    .where('certificate_id', '=', certificateId)
    .where('retired_at', 'is', null)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  const previous = versions.find((v) => v.id !== certificate.current_version_id);
  const staying = versions.filter((v) => v.id === certificate.current_version_id || v === previous);
  const leaving = versions.filter((v) => !staying.includes(v)).map((v) => v.id);
  if (leaving.length > 0)
    await db
      .updateTable('certificate_versions')
      .set({ retired_at: now })
      .where('id', 'in', leaving)
      .execute();

  const orders = await db
    .selectFrom('orders')
    .select(['id', 'step', 'created_at'])
    .where('certificate_id', '=', certificateId)
    .where('retired_at', 'is', null)
    .execute();
  const newest = Math.max(...orders.map((o) => o.created_at));
  const madeStaying = new Set(staying.map((v) => v.order_id));
  const done = orders
    .filter((o) => isFinished(o.step) && o.created_at < newest && !madeStaying.has(o.id))
    .map((o) => o.id);
  if (done.length > 0)
    await db.updateTable('orders').set({ retired_at: now }).where('id', 'in', done).execute();
}

/** Deletes up to `limit` retired versions created before `before`, oldest first; returns how many. */
export function deleteRetiredVersions(db: Db, before: number, limit: number): Promise<number> {
  return deleteRetired(db, 'certificate_versions', before, limit);
}

/** Deletes up to `limit` retired orders created before `before` (their HTTP-01 and TLS-ALPN-01 answers go with them). */
export function deleteRetiredOrders(db: Db, before: number, limit: number): Promise<number> {
  return deleteRetired(db, 'orders', before, limit);
}

/** One batch of a table's retired rows made before `before`, oldest first, read from its retired index. */
async function deleteRetired(db: Db, table: 'certificate_versions' | 'orders', before: number, limit: number): Promise<number> {
  const batch = db
    .selectFrom(table)
    .select('id')
    .where('retired_at', 'is not', null)
    .where('created_at', '<', before)
    .orderBy('created_at')
    .limit(limit);
  const result = await db.deleteFrom(table).where('id', 'in', batch).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * Deletes up to `limit` acknowledged events created before `before` (their
 * webhook deliveries go with them). An event that holds a webhook's newest
 * delivery stays: the dispatcher's fan-out resumes after it (notify/dispatcher.ts).
 */
export async function deleteAcknowledgedEvents(db: Db, before: number, limit: number): Promise<number> {
  const batch = db
    .selectFrom('events as e')
    .select('e.id')
    .where('e.acked_at', 'is not', null)
    .where('e.created_at', '<', before)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('webhook_deliveries as d')
            .select('d.id')
            .whereRef('d.event_id', '=', 'e.id')
            .where(newestOfItsWebhook),
        ),
      ),
    )
    .orderBy('e.created_at')
    .limit(limit);
  const result = await db.deleteFrom('events').where('id', 'in', batch).executeTakeFirst();
  return Number(result.numDeletedRows);
}

const newestOfItsWebhook = sql<SqlBool>`not exists (select 1 from webhook_deliveries later where later.webhook_id = d.webhook_id and later.id > d.id)`;
