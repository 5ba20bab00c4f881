// What the live stream reads to learn what changed since it last looked: new
// events, and orders whose step moved (on this instance or another).
import type { Db } from './db.ts';
import { eventsWithNames } from './events.ts';

export async function newestEventId(db: Db): Promise<number> {
  const row = await db.selectFrom('events').select('id').orderBy('id', 'desc').limit(1).executeTakeFirst();
  return row?.id ?? 0;
}

export function eventsAfter(db: Db, afterId: number, limit: number) {
  return eventsWithNames(db).where('events.id', '>', afterId).orderBy('events.id').limit(limit).execute();
}

/** Orders changed at or after `since`, with their certificate's name and owner. */
export function ordersChangedSince(db: Db, since: number, limit: number) {
  return db
    .selectFrom('orders as o')
    .innerJoin('certificates as c', 'c.id', 'o.certificate_id')
    .select(['o.id', 'o.step', 'o.goal', 'o.error', 'o.updated_at', 'c.name', 'c.subscription_id'])
    .where('o.updated_at', '>=', since)
    .orderBy('o.updated_at')
    .limit(limit)
    .execute();
}
