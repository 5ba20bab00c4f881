import type { DeliveryStatus } from '../records.ts';
import { type Decoded, type DecodedPatch, decodeJson, encodeJson } from './codec.ts';
import type { Db, NewRow, Row, RowPatch } from './db.ts';
import type { EventType } from './events.ts';

/** A webhook with the event types it takes decoded ([] for every type). */
export type WebhookRow = Decoded<Row<'webhooks'>, { event_types: EventType[] }>;
export type DeliveryRow = Decoded<Row<'webhook_deliveries'>, { status: DeliveryStatus }>;
export type NewDelivery = Decoded<NewRow<'webhook_deliveries'>, { status: DeliveryStatus }>;
export type DeliveryPatch = DecodedPatch<RowPatch<'webhook_deliveries'>, { status: DeliveryStatus }>;

const JSON_COLUMNS = ['event_types'];

function decoded(row: Row<'webhooks'>): WebhookRow {
  return decodeJson<WebhookRow>(row, JSON_COLUMNS);
}

export async function insertWebhook(db: Db, webhook: WebhookRow): Promise<void> {
  await db.insertInto('webhooks').values(encodeJson<NewRow<'webhooks'>>(webhook, JSON_COLUMNS)).execute();
}

export async function listWebhooks(db: Db, subscriptionId: string): Promise<WebhookRow[]> {
  const rows = await db
    .selectFrom('webhooks')
    .selectAll()
    .where('subscription_id', '=', subscriptionId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(decoded);
}

/** Every subscription's webhooks: the dispatcher's work list. */
export async function listAllWebhooks(db: Db): Promise<WebhookRow[]> {
  return (await db.selectFrom('webhooks').selectAll().orderBy('id').execute()).map(decoded);
}

export async function getWebhook(db: Db, subscriptionId: string, id: string): Promise<WebhookRow | undefined> {
  const row = await db
    .selectFrom('webhooks')
    .selectAll()
    .where('subscription_id', '=', subscriptionId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row && decoded(row);
}

export async function countWebhooks(db: Db, subscriptionId: string): Promise<number> {
  const row = await db
    .selectFrom('webhooks')
    .select((eb) => eb.fn.countAll<number | string>().as('count'))
    .where('subscription_id', '=', subscriptionId)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** Deletes the webhook and (by cascade) its delivery log; false when the subscription has no such webhook. */
export async function deleteWebhook(db: Db, subscriptionId: string, id: string): Promise<boolean> {
  const result = await db
    .deleteFrom('webhooks')
    .where('subscription_id', '=', subscriptionId)
    .where('id', '=', id)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/**
 * Takes the webhook's row lock until the transaction ends (a no-op UPDATE:
 * PostgreSQL locks the row, SQLite's write transaction locks the database), so
 * that two instances fanning out to one webhook take turns. False when the
 * webhook is gone.
 */
export async function lockWebhook(db: Db, id: string): Promise<boolean> {
  const result = await db
    .updateTable('webhooks')
    .set((eb) => ({ event_types: eb.ref('event_types') }))
    .where('id', '=', id)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * The newest event that already has a delivery row for this webhook (0 when
 * none). Fan-out inserts a webhook's rows in event order, one instance at a
 * time (lockWebhook), so the newest row holds the newest event: one index read.
 */
export async function lastDeliveredEventId(db: Db, webhookId: string): Promise<number> {
  const row = await db
    .selectFrom('webhook_deliveries')
    .select('event_id')
    .where('webhook_id', '=', webhookId)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.event_id ?? 0;
}

export async function insertDeliveries(db: Db, rows: NewDelivery[]): Promise<void> {
  if (rows.length > 0) await db.insertInto('webhook_deliveries').values(rows).execute();
}

/** Ids of pending deliveries whose time has come and that no instance holds, soonest first. */
export async function dueDeliveryIds(db: Db, now: number, limit: number): Promise<number[]> {
  const rows = await db
    .selectFrom('webhook_deliveries')
    .select('id')
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
    .orderBy('next_attempt_at')
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((row) => row.id);
}

/**
 * Leases a due delivery until `leaseUntil`. The conditions are checked again in
 * the UPDATE itself, so of two instances racing for one row exactly one sees a
 * row updated (PostgreSQL re-evaluates them on the locked row; SQLite runs one
 * writer at a time).
 */
export async function claimDelivery(db: Db, id: number, now: number, leaseUntil: number): Promise<boolean> {
  const result = await db
    .updateTable('webhook_deliveries')
    .set({ lease_until: leaseUntil })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function getDelivery(db: Db, id: number): Promise<DeliveryRow | undefined> {
  return (await db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst()) as DeliveryRow | undefined;
}

export async function getWebhookById(db: Db, id: string): Promise<WebhookRow | undefined> {
  const row = await db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
  return row && decoded(row);
}

/** Records an attempt, provided this instance still holds the lease it took. */
export async function finishAttempt(
  db: Db,
  id: number,
  leaseUntil: number,
  patch: DeliveryPatch,
): Promise<boolean> {
  const result = await db
    .updateTable('webhook_deliveries')
    .set({ ...patch, lease_until: null })
    .where('id', '=', id)
    .where('lease_until', '=', leaseUntil)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export type DeliveryWithType = DeliveryRow & { event_type: EventType };

/** A webhook's delivery log, newest first, with ids below `beforeId`. */
export async function listDeliveries(
  db: Db,
  webhookId: string,
  beforeId: number,
  limit: number,
): Promise<DeliveryWithType[]> {
  return (await db
    .selectFrom('webhook_deliveries')
    .innerJoin('events', 'events.id', 'webhook_deliveries.event_id')
    .selectAll('webhook_deliveries')
    .select('events.type as event_type')
    .where('webhook_deliveries.webhook_id', '=', webhookId)
    .where('webhook_deliveries.id', '<', beforeId)
    .orderBy('webhook_deliveries.id', 'desc')
    .limit(limit)
    .execute()) as DeliveryWithType[];
}
