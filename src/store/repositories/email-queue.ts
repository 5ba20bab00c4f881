// The events table as the email queue (notify/email.ts), through its
// emailed_at column:
//
//   null       never looked at;
//   negative   held until -emailed_at (epoch ms): claimed by a dispatcher until
//              then (a lease), or waiting to be tried again after a failed send;
//              either way due again once that time has passed;
//   positive   done: mailed at that time, or judged not worth a message.
//
// Every change is a compare-and-set on the value the dispatcher read, so of two
// dispatchers that read the same row only one claims it, and a dispatcher whose
// lease has run out (and been taken over) cannot mark the row any more.
import type { Db } from './db.ts';
import { decodedEvent, type EventRow, type EventType } from './events.ts';

export type { EventRow } from './events.ts';

/** Events due for the mailer at `now`, oldest first. */
export async function dueEmailEvents(db: Db, now: number, limit: number): Promise<EventRow[]> {
  // Two index range scans on (emailed_at, id) instead of one OR, which would read every row.
  const fresh = await db
    .selectFrom('events')
    .selectAll()
    .where('emailed_at', 'is', null)
    .orderBy('id')
    .limit(limit)
    .execute();
  const retries = await db
    .selectFrom('events')
    .selectAll()
    .where('emailed_at', '<', 0)
    .where('emailed_at', '>=', -now)
    .orderBy('id')
    .limit(limit)
    .execute();
  return [...fresh, ...retries]
    .sort((a, b) => a.id - b.id)
    .slice(0, limit)
    .map(decodedEvent);
}

/**
 * Moves the event from the state `seen` (its emailed_at as read) to `next`;
 * false when another dispatcher changed it in between.
 */
export async function swapEmailState(
  db: Db,
  id: number,
  seen: number | null,
  next: number | null,
): Promise<boolean> {
  const result = await db
    .updateTable('events')
    .set({ emailed_at: next })
    .where('id', '=', id)
    .where('emailed_at', seen === null ? 'is' : '=', seen)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** The newest event of the certificate before `beforeId` whose type is one of `types`. */
export async function previousEventOfType(
  db: Db,
  certificateId: string,
  beforeId: number,
  types: readonly EventType[],
): Promise<EventRow | undefined> {
  const row = await db
    .selectFrom('events')
    .selectAll()
    .where('certificate_id', '=', certificateId)
    .where('id', '<', beforeId)
    .where('type', 'in', types)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row && decodedEvent(row);
}

/** How many of a certificate's earlier deployment events are looked through for one target's (a certificate has a few targets). */
const TARGET_HISTORY = 200;

/** The newest deployment outcome event (succeeded or failed) of the certificate's target `targetId` before `beforeId`. */
export async function previousTargetOutcome(db: Db, certificateId: string, beforeId: number, targetId: string): Promise<EventRow | undefined> {
  const rows = await db
    .selectFrom('events')
    .selectAll()
    .where('certificate_id', '=', certificateId)
    .where('id', '<', beforeId)
    .where('type', 'in', ['deployment.succeeded', 'deployment.failed'])
    .orderBy('id', 'desc')
    .limit(TARGET_HISTORY)
    .execute();
  return rows.map(decodedEvent).find((event) => event.payload.target === targetId);
}
