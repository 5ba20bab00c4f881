// The server's tables (issue 4): orders that the client drives (a goal the
// workers drive the order to, the client's own CSR, and a lease so that one
// worker at a time runs an order), the HTTP-01 answers any instance serves,
// and webhooks with their delivery log.
import type { Kysely, Migration } from 'kysely';
import { createTable, dialectKind, timestampType, withSerialId } from './dialect.ts';

// biome-ignore lint/suspicious/noExplicitAny: migrations work on any schema
type Db = Kysely<any>;

export const serverSchema: Migration = {
  async up(db: Db) {
    const ts = timestampType(dialectKind(db));
    const eventId = dialectKind(db) === 'postgres' ? 'bigint' : 'integer'; // as events.id

    // goal: the step workers drive the order to ('valid' unless the client answers
    // the challenges itself, then 'placed' until it asks for validation).
    await db.schema.alterTable('orders').addColumn('goal', 'text', (c) => c.notNull().defaultTo('valid')).execute();
    // The client's CSR (PEM) when it holds the key itself; key_enc is then ''.
    await db.schema.alterTable('orders').addColumn('csr', 'text').execute();
    await db.schema.alterTable('orders').addColumn('lease_owner', 'text').execute();
    await db.schema.alterTable('orders').addColumn('lease_token', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.alterTable('orders').addColumn('lease_until', ts).execute();
    await db.schema.createIndex('orders_step_goal_idx').on('orders').columns(['step', 'goal']).execute();
    // The compatibility APIs name orders by the CA's URL.
    await db.schema.createIndex('orders_order_url_idx').on('orders').columns(['order_url']).execute();

    // Any instance answers HTTP-01 for any open order (RFC 8555 §8.3).
    await createTable(db, 'challenge_tokens')
      .addColumn('token', 'text', (c) => c.primaryKey())
      .addColumn('order_id', 'text', (c) => c.notNull().references('orders.id').onDelete('cascade'))
      .addColumn('key_authorization', 'text', (c) => c.notNull())
      .addColumn('created_at', ts, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('challenge_tokens_order_id_idx').on('challenge_tokens').columns(['order_id']).execute();

    await createTable(db, 'webhooks')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('subscription_id', 'text', (c) => c.notNull().references('subscriptions.id').onDelete('cascade'))
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('secret_enc', 'text', (c) => c.notNull())
      .addColumn('event_types', 'text', (c) => c.notNull()) // JSON string[], [] for all
      .addColumn('created_at', ts, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('webhooks_subscription_id_idx').on('webhooks').columns(['subscription_id']).execute();

    await withSerialId(db, createTable(db, 'webhook_deliveries'))
      .addColumn('webhook_id', 'text', (c) => c.notNull().references('webhooks.id').onDelete('cascade'))
      .addColumn('event_id', eventId, (c) => c.notNull().references('events.id').onDelete('cascade'))
      .addColumn('status', 'text', (c) => c.notNull()) // pending | delivered | failed
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', ts)
      .addColumn('last_status_code', 'integer')
      .addColumn('last_error', 'text')
      .addColumn('lease_until', ts)
      .addColumn('created_at', ts, (c) => c.notNull())
      .addColumn('delivered_at', ts)
      .execute();
    await db.schema.createIndex('webhook_deliveries_status_next_idx').on('webhook_deliveries').columns(['status', 'next_attempt_at']).execute();
    await db.schema.createIndex('webhook_deliveries_webhook_id_idx').on('webhook_deliveries').columns(['webhook_id', 'id']).execute();
  },
};
