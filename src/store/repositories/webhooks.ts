import type { Db, NewRow, Row } from './db.ts';

export type WebhookRow = Row<'webhooks'>;
export type DeliveryRow = Row<'webhook_deliveries'>;

export async function insertWebhook(db: Db, row: NewRow<'webhooks'>): Promise<void> {
  await db.insertInto('webhooks').values(row).execute();
}

export function listWebhooks(db: Db, subscriptionId: string): Promise<WebhookRow[]> {
  return db
    .selectFrom('webhooks')
    .selectAll()
    .where('subscription_id', '=', subscriptionId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

export function getWebhook(db: Db, subscriptionId: string, id: string): Promise<WebhookRow | undefined> {
  return db
    .selectFrom('webhooks')
    .selectAll()
    .where('subscription_id', '=', subscriptionId)
    .where('id', '=', id)
    .executeTakeFirst();
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

export type DeliveryWithType = DeliveryRow & { event_type: string };

/** A webhook's delivery log, newest first, with ids below `beforeId`. */
export function listDeliveries(
  db: Db,
  webhookId: string,
  beforeId: number,
  limit: number,
): Promise<DeliveryWithType[]> {
  return db
    .selectFrom('webhook_deliveries')
    .innerJoin('events', 'events.id', 'webhook_deliveries.event_id')
    .selectAll('webhook_deliveries')
    .select('events.type as event_type')
    .where('webhook_deliveries.webhook_id', '=', webhookId)
    .where('webhook_deliveries.id', '<', beforeId)
    .orderBy('webhook_deliveries.id', 'desc')
    .limit(limit)
    .execute();
}
