// Every challenge type (issue 15): the TLS-ALPN-01 answers any instance's
// listener serves, found by the identifier the CA names in the SNI, and the
// chain a certificate prefers among its CA's alternates.
import type { Kysely, Migration } from 'kysely';
import { createTable, dialectKind, timestampType } from './dialect.ts';

// biome-ignore lint/suspicious/noExplicitAny: migrations work on any schema
type Db = Kysely<any>;

export const challengesSchema: Migration = {
  async up(db: Db) {
    const ts = timestampType(dialectKind(db));
    // RFC 8737: the validation certificate is chosen by the SNI name, not by token.
    await createTable(db, 'tls_alpn_answers')
      .addColumn('token', 'text', (c) => c.primaryKey())
      .addColumn('identifier', 'text', (c) => c.notNull())
      .addColumn('order_id', 'text', (c) => c.notNull().references('orders.id').onDelete('cascade'))
      .addColumn('key_authorization', 'text', (c) => c.notNull())
      .addColumn('created_at', ts, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('tls_alpn_answers_identifier_idx').on('tls_alpn_answers').columns(['identifier', 'created_at']).execute();
    await db.schema.createIndex('tls_alpn_answers_order_id_idx').on('tls_alpn_answers').columns(['order_id']).execute();
    // The issuer CN of the chain's top certificate, as certbot's and lego's --preferred-chain; null: the CA's default.
    await db.schema.alterTable('certificates').addColumn('preferred_chain', 'text').execute();
  },
};
