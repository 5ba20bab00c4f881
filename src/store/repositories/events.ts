import { type Decoded, decodeJson } from './codec.ts';
import type { Db, Row } from './db.ts';

/**
 * Every type of event the engine appends, in one list: appendEvent takes no
 * other, and webhooks may subscribe to these only, so a misspelt type is
 * refused instead of silently never matching.
 */
export const EVENT_TYPES = [
  'certificate.issued',
  'certificate.renewed',
  'certificate.revoked',
  'certificate.deleted',
  'certificate.expiring',
  'certificate.expired',
  'issuance.failed',
  'renewal.failed',
  'deployment.succeeded',
  'deployment.failed',
  'deployment.overdue',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export function isEventType(value: string): value is EventType {
  return (EVENT_TYPES as readonly string[]).includes(value);
}

export interface NewEvent {
  subscriptionId: string;
  certificateId: string | null;
  type: EventType;
  payload: Record<string, unknown>;
}

/** An event as the store keeps it: its type narrowed, its payload decoded. */
export type EventRow = Decoded<Row<'events'>, { type: EventType; payload: Record<string, unknown> }>;

/** An event with the name of its certificate (null when it has none or it was removed). */
export type EventWithName = EventRow & { certificate_name: string | null };

const JSON_COLUMNS = ['payload'];

/** The event with its payload decoded. */
export function decodedEvent<T extends Row<'events'>>(row: T): Decoded<T, EventRow> {
  return decodeJson<Decoded<T, EventRow>>(row, JSON_COLUMNS);
}

export async function appendEvent(db: Db, event: NewEvent, now: number): Promise<void> {
  await db
    .insertInto('events')
    .values({
      subscription_id: event.subscriptionId,
      certificate_id: event.certificateId,
      type: event.type,
      payload: JSON.stringify(event.payload),
      created_at: now,
      acked_at: null,
      emailed_at: null,
    })
    .execute();
}

/** Events with the name of their certificate (null when it has none or it was removed). */
export function eventsWithNames(db: Db) {
  return db
    .selectFrom('events')
    .leftJoin('certificates', 'certificates.id', 'events.certificate_id')
    .selectAll('events')
    .select('certificates.name as certificate_name');
}

/** The poll queue: a subscription's unacknowledged events with id > afterId, oldest first. */
export async function listUnackedEvents(
  db: Db,
  subscriptionId: string,
  afterId: number,
  limit: number,
): Promise<EventWithName[]> {
  const rows = await eventsWithNames(db)
    .where('events.subscription_id', '=', subscriptionId)
    .where('events.acked_at', 'is', null)
    .where('events.id', '>', afterId)
    .orderBy('events.id')
    .limit(limit)
    .execute();
  return rows.map(decodedEvent);
}

export async function countUnackedEvents(db: Db, subscriptionId: string, afterId: number): Promise<number> {
  const row = await db
    .selectFrom('events')
    .select((eb) => eb.fn.countAll<number | string>().as('count'))
    .where('subscription_id', '=', subscriptionId)
    .where('acked_at', 'is', null)
    .where('id', '>', afterId)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

export async function getEvent(db: Db, subscriptionId: string, id: number): Promise<EventRow | undefined> {
  const row = await db
    .selectFrom('events')
    .selectAll()
    .where('subscription_id', '=', subscriptionId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row && decodedEvent(row);
}

/** Marks the event acknowledged unless it already is; false when the subscription has no such event. */
export async function ackEvent(db: Db, subscriptionId: string, id: number, now: number): Promise<boolean> {
  const result = await db
    .updateTable('events')
    .set({ acked_at: now })
    .where('subscription_id', '=', subscriptionId)
    .where('id', '=', id)
    .where('acked_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n || (await getEvent(db, subscriptionId, id)) !== undefined;
}

export async function getEventWithName(db: Db, id: number): Promise<EventWithName | undefined> {
  const row = await eventsWithNames(db).where('events.id', '=', id).executeTakeFirst();
  return row && decodedEvent(row);
}

/**
 * The newest event created at or before `time`, knowing that `atLeast` is one
 * (0: none known). Reads the id index backwards from the newest event and stops
 * at the first match, so it reads only the events younger than `time`; the
 * lower bound keeps that a range of the index, never the whole of it.
 */
export async function newestEventIdAtOrBefore(db: Db, time: number, atLeast: number): Promise<number> {
  const row = await db
    .selectFrom('events')
    .select('id')
    .where('id', '>=', atLeast)
    .where('created_at', '<=', time)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return Math.max(row?.id ?? 0, atLeast);
}

/** The subscriptions with events in (afterId, upToId]: whose webhooks may have something new. */
export async function subscriptionsWithEvents(db: Db, afterId: number, upToId: number): Promise<string[]> {
  const rows = await db
    .selectFrom('events')
    .select('subscription_id')
    .distinct()
    .where('id', '>', afterId)
    .where('id', '<=', upToId)
    .execute();
  return rows.map((row) => row.subscription_id);
}

export interface WebhookEventFilter {
  subscriptionId: string;
  /** Events created before the webhook are not sent to it. */
  createdSince: number;
  /** [] for every type. */
  types: EventType[];
  afterId: number;
  upToId: number;
  limit: number;
}

/** Ids of the events in (afterId, upToId] that a webhook with this filter receives, oldest first. */
export async function eventIdsForWebhook(db: Db, filter: WebhookEventFilter): Promise<number[]> {
  let query = db
    .selectFrom('events')
    .select('id')
    .where('id', '>', filter.afterId)
    .where('id', '<=', filter.upToId)
    .where('subscription_id', '=', filter.subscriptionId)
    .where('created_at', '>=', filter.createdSince);
  if (filter.types.length > 0) query = query.where('type', 'in', filter.types);
  const rows = await query.orderBy('id').limit(filter.limit).execute();
  return rows.map((row) => row.id);
}
