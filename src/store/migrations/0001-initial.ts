// The first schema: every table in schema.ts, with the keys, foreign keys and
// indexes the repositories rely on. Rows owned by a subscription or a
// certificate go with it (ON DELETE CASCADE); events and versions outlive what
// they point to only where that is useful (SET NULL).
import type { Kysely, Migration } from 'kysely';
import { createTable, dialectKind, timestampType, withSerialId } from './dialect.ts';

// biome-ignore lint/suspicious/noExplicitAny: migrations work on any schema
type Db = Kysely<any>;

export const initialSchema: Migration = {
  async up(db: Db) {
    const ts = timestampType(dialectKind(db));

    await createTable(db, 'subscriptions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('created_at', ts, (c) => c.notNull())
      .execute();

    await createTable(db, 'api_keys')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('subscription_id', 'text', (c) =>
        c.notNull().references('subscriptions.id').onDelete('cascade'),
      )
      .addColumn('prefix', 'text', (c) => c.notNull())
      .addColumn('secret_hash', 'text', (c) => c.notNull().unique())
      .addColumn('scopes', 'text', (c) => c.notNull())
      .addColumn('created_at', ts, (c) => c.notNull())
      .addColumn('revoked_at', ts)
      .execute();
    await index(db, 'api_keys', ['prefix']);
    await index(db, 'api_keys', ['subscription_id']);

    await createTable(db, 'acme_accounts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('subscription_id', 'text', (c) =>
        c.notNull().references('subscriptions.id').onDelete('cascade'),
      )
      .addColumn('ca_url', 'text', (c) => c.notNull())
      .addColumn('contact', 'text', (c) => c.notNull())
      .addColumn('key_enc', 'text', (c) => c.notNull())
      .addColumn('account_url', 'text')
      .addColumn('created_at', ts, (c) => c.notNull())
      .addUniqueConstraint('acme_accounts_subscription_ca_contact_key', [
        'subscription_id',
        'ca_url',
        'contact',
      ])
      .execute();

    await createTable(db, 'dns_zones')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('subscription_id', 'text', (c) =>
        c.notNull().references('subscriptions.id').onDelete('cascade'),
      )
      .addColumn('zone', 'text', (c) => c.notNull())
      .addColumn('provider', 'text', (c) => c.notNull())
      .addColumn('config_enc', 'text', (c) => c.notNull())
      .addColumn('nameservers', 'text', (c) => c.notNull())
      .addColumn('created_at', ts, (c) => c.notNull())
      .addUniqueConstraint('dns_zones_subscription_zone_key', ['subscription_id', 'zone'])
      .execute();

    await createTable(db, 'certificates')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('subscription_id', 'text', (c) =>
        c.notNull().references('subscriptions.id').onDelete('cascade'),
      )
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('identifiers', 'text', (c) => c.notNull())
      .addColumn('challenge_type', 'text', (c) => c.notNull())
      .addColumn('challenge_config', 'text', (c) => c.notNull())
      .addColumn('key_type', 'text', (c) => c.notNull())
      .addColumn('issuers', 'text', (c) => c.notNull())
      .addColumn('profile', 'text')
      .addColumn('renewal_policy', 'text', (c) => c.notNull())
      .addColumn('pfx_password_enc', 'text')
      .addColumn('csr_info', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('current_version_id', 'text')
      .addColumn('next_renewal_at', ts)
      .addColumn('retry_at', ts)
      .addColumn('failure_count', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_error', 'text')
      .addColumn('lease_owner', 'text')
      .addColumn('lease_token', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('lease_until', ts)
      .addColumn('created_at', ts, (c) => c.notNull())
      .addColumn('updated_at', ts, (c) => c.notNull())
      .addUniqueConstraint('certificates_subscription_name_key', ['subscription_id', 'name'])
      .execute();
    // The renewal planner and the retry loop look for due rows by these times.
    await index(db, 'certificates', ['next_renewal_at']);
    await index(db, 'certificates', ['retry_at']);

    await createTable(db, 'orders')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('certificate_id', 'text', (c) =>
        c.notNull().references('certificates.id').onDelete('cascade'),
      )
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('ca_url', 'text', (c) => c.notNull())
      .addColumn('step', 'text', (c) => c.notNull())
      .addColumn('order_url', 'text')
      .addColumn('finalize_url', 'text')
      .addColumn('certificate_url', 'text')
      .addColumn('authorizations', 'text', (c) => c.notNull())
      .addColumn('key_enc', 'text', (c) => c.notNull())
      .addColumn('replaces', 'text')
      .addColumn('error', 'text')
      .addColumn('attempt', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('retry_at', ts)
      .addColumn('created_at', ts, (c) => c.notNull())
      .addColumn('updated_at', ts, (c) => c.notNull())
      // Deferred: deleting a subscription removes its accounts and (through its
      // certificates) their orders in one statement, in an order PostgreSQL
      // chooses; checked at commit, the cascade has run. Deleting an account
      // that orders still use fails.
      .addForeignKeyConstraint('orders_account_id_fkey', ['account_id'], 'acme_accounts', ['id'], (fk) =>
        fk.deferrable().initiallyDeferred(),
      )
      .execute();
    await index(db, 'orders', ['certificate_id']);
    await index(db, 'orders', ['account_id']);
    await index(db, 'orders', ['retry_at']);

    await createTable(db, 'certificate_versions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('certificate_id', 'text', (c) =>
        c.notNull().references('certificates.id').onDelete('cascade'),
      )
      .addColumn('order_id', 'text', (c) => c.references('orders.id').onDelete('set null'))
      .addColumn('serial', 'text', (c) => c.notNull())
      .addColumn('not_before', ts, (c) => c.notNull())
      .addColumn('not_after', ts, (c) => c.notNull())
      .addColumn('chain_pem', 'text', (c) => c.notNull())
      .addColumn('key_enc', 'text', (c) => c.notNull())
      .addColumn('ca_url', 'text', (c) => c.notNull())
      .addColumn('ari_cert_id', 'text')
      .addColumn('ari_window_start', ts)
      .addColumn('ari_window_end', ts)
      .addColumn('created_at', ts, (c) => c.notNull())
      .execute();
    await index(db, 'certificate_versions', ['certificate_id', 'created_at']);
    await index(db, 'certificate_versions', ['order_id']);
    await index(db, 'certificate_versions', ['serial']);

    await withSerialId(db, createTable(db, 'events'))
      .addColumn('subscription_id', 'text', (c) =>
        c.notNull().references('subscriptions.id').onDelete('cascade'),
      )
      .addColumn('certificate_id', 'text', (c) => c.references('certificates.id').onDelete('set null'))
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('created_at', ts, (c) => c.notNull())
      .addColumn('acked_at', ts)
      .execute();
    // The poll queue: a subscription's unacknowledged events in id order.
    await index(db, 'events', ['subscription_id', 'acked_at', 'id']);
    await index(db, 'events', ['certificate_id']);

    // No foreign keys: the audit log keeps its rows when what they name is deleted.
    await withSerialId(db, createTable(db, 'audit_log'))
      .addColumn('subscription_id', 'text')
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('target', 'text')
      .addColumn('created_at', ts, (c) => c.notNull())
      .execute();
    await index(db, 'audit_log', ['subscription_id', 'id']);

    // Internal to the store (not in schema.ts): see key-check.ts.
    await createTable(db, 'certkeep_meta')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .execute();
  },
};

async function index(db: Db, table: string, columns: string[]): Promise<void> {
  await db.schema
    .createIndex(`${table}_${columns.join('_')}_idx`)
    .on(table)
    .columns(columns)
    .execute();
}
