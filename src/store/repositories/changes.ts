// What the live stream reads to learn what changed since it last looked: new
// events, and orders whose step moved (on this instance or another).
import type { OrderGoal, OrderStep } from '../records.ts';
import type { Db } from './db.ts';
import { decodedEvent, type EventWithName, eventsWithNames } from './events.ts';

export async function newestEventId(db: Db): Promise<number> {
  const row = await db.selectFrom('events').select('id').orderBy('id', 'desc').limit(1).executeTakeFirst();
  return row?.id ?? 0;
}

export async function eventsAfter(db: Db, afterId: number, limit: number): Promise<EventWithName[]> {
  return (await eventsWithNames(db).where('events.id', '>', afterId).orderBy('events.id').limit(limit).execute()).map(decodedEvent);
}

/** The events among `ids` that exist now (ids skipped over earlier, looked up again). */
export async function eventsWithIds(db: Db, ids: number[]): Promise<EventWithName[]> {
  if (ids.length === 0) return [];
  return (await eventsWithNames(db).where('events.id', 'in', ids).orderBy('events.id').execute()).map(decodedEvent);
}

export interface OrderChange {
  id: string;
  step: OrderStep;
  goal: OrderGoal;
  error: string | null;
  updated_at: number;
  name: string;
  subscription_id: string;
}

/** Orders changed at or after `since`, with their certificate's name and owner. */
export async function ordersChangedSince(db: Db, since: number, limit: number): Promise<OrderChange[]> {
  // Step and goal are narrowed here, at the store's edge: only the repositories write them.
  return (await db
    .selectFrom('orders as o')
    .innerJoin('certificates as c', 'c.id', 'o.certificate_id')
    .select(['o.id', 'o.step', 'o.goal', 'o.error', 'o.updated_at', 'c.name', 'c.subscription_id'])
    .where('o.updated_at', '>=', since)
    .orderBy('o.updated_at')
    .limit(limit)
    .execute()) as OrderChange[];
}
