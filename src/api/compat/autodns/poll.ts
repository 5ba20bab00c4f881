// The poll queue over the events table: a subscription's unacknowledged events,
// oldest first, and their acknowledgement. Kept to these two queries so that
// they can give way to the shared ones of src/notify when those land.
import type { Db, Row } from '../../../store/repositories/db.ts';

export type EventRow = Row<'events'>;

/** The subscription's oldest unacknowledged events (at most `limit`) and how many are waiting in all. */
export async function oldestUnacknowledged(db: Db, subscriptionId: string, limit: number): Promise<{ events: EventRow[]; waiting: number }> {
  const unacknowledged = db.selectFrom('events').where('subscription_id', '=', subscriptionId).where('acked_at', 'is', null);
  const [events, count] = await Promise.all([
    unacknowledged.selectAll().orderBy('id').limit(limit).execute(),
    unacknowledged.select((eb) => eb.fn.countAll<number | string | bigint>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { events, waiting: Number(count.n) };
}

/**
 * Acknowledges one of the subscription's events. 'unknown' for an id that is not
 * the subscription's (another's is reported exactly like a missing one);
 * 'already' when it was acknowledged before, so that a retried confirmation succeeds.
 */
export async function acknowledgeEvent(db: Db, subscriptionId: string, id: number, now: number): Promise<'acknowledged' | 'already' | 'unknown'> {
  const updated = await db
    .updateTable('events')
    .set({ acked_at: now })
    .where('id', '=', id)
    .where('subscription_id', '=', subscriptionId)
    .where('acked_at', 'is', null)
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) === 1) return 'acknowledged';
  const row = await db.selectFrom('events').select('id').where('id', '=', id).where('subscription_id', '=', subscriptionId).executeTakeFirst();
  return row ? 'already' : 'unknown';
}
