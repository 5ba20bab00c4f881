// The web portal (issue 14): people who sign in (users, one subscription each,
// with a role), their sessions (only a hash of the cookie is stored), what the
// lockout after wrong passwords remembers, a label for API keys, and the
// indexes the dashboard and the live stream read by. The first key of each
// subscription becomes its admin key: zones, webhooks and notifications now
// need the admin scope, and the key `admin subscription create` printed has
// managed them so far.
import { type Kysely, type Migration, sql } from 'kysely';
import { createTable, dialectKind, timestampType } from './dialect.ts';

// biome-ignore lint/suspicious/noExplicitAny: migrations work on any schema
type Db = Kysely<any>;

export const portalSchema: Migration = {
  async up(db: Db) {
    const ts = timestampType(dialectKind(db));

    await createTable(db, 'users')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('subscription_id', 'text', (c) =>
        c.notNull().references('subscriptions.id').onDelete('cascade'),
      )
      // Lower case; unique in the installation, so that signing in needs no subscription.
      .addColumn('email', 'text', (c) => c.notNull().unique())
      .addColumn('role', 'text', (c) => c.notNull()) // viewer | operator | admin
      .addColumn('password_hash', 'text', (c) => c.notNull()) // scrypt$N$r$p$salt$hash (engine/passwords.ts)
      .addColumn('must_change_password', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('failed_sign_ins', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('locked_until', ts)
      .addColumn('last_sign_in_at', ts)
      .addColumn('created_at', ts, (c) => c.notNull())
      .addColumn('updated_at', ts, (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('users_subscription_id_idx')
      .on('users')
      .columns(['subscription_id', 'email'])
      .execute();

    await createTable(db, 'sessions')
      .addColumn('id', 'text', (c) => c.primaryKey()) // hex SHA-256 of the cookie's token
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('created_at', ts, (c) => c.notNull())
      .addColumn('expires_at', ts, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('sessions_user_id_idx').on('sessions').columns(['user_id']).execute();
    await db.schema.createIndex('sessions_expires_at_idx').on('sessions').columns(['expires_at']).execute();

    await db.schema
      .alterTable('api_keys')
      .addColumn('label', 'text', (c) => c.notNull().defaultTo(''))
      .execute();
    await sql`
      UPDATE api_keys SET scopes = '["read","write","admin"]'
      WHERE scopes = '["read","write"]'
        AND id IN (SELECT k.id FROM api_keys k
                   WHERE k.created_at = (SELECT min(f.created_at) FROM api_keys f WHERE f.subscription_id = k.subscription_id))
    `.execute(db);

    // The dashboard's recent events (acknowledged or not), newest first.
    await db.schema
      .createIndex('events_subscription_id_id_idx')
      .on('events')
      .columns(['subscription_id', 'id'])
      .execute();
    // The live stream's shared poll: orders that moved since it last looked (another instance's work).
    await db.schema.createIndex('orders_updated_at_idx').on('orders').columns(['updated_at']).execute();
    // The list sorted or filtered by expiry.
    await db.schema
      .createIndex('certificate_versions_not_after_idx')
      .on('certificate_versions')
      .columns(['not_after'])
      .execute();
  },
};
