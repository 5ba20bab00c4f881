// What differs between SQLite and PostgreSQL in a migration: column types for
// epoch-millisecond timestamps and autoincrement ids, and STRICT tables.
import { type ColumnDataType, type CreateTableBuilder, type Kysely, PostgresAdapter, sql } from 'kysely';

export type DialectKind = 'sqlite' | 'postgres';

// biome-ignore lint/suspicious/noExplicitAny: migrations work on any schema
export function dialectKind(db: Kysely<any>): DialectKind {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/** Epoch milliseconds outgrow int4 (2^31 ms is 25 days), so PostgreSQL needs bigint; SQLite integers are 64-bit. */
export function timestampType(kind: DialectKind): ColumnDataType {
  return kind === 'postgres' ? 'bigint' : 'integer';
}

// biome-ignore lint/suspicious/noExplicitAny: migrations work on any schema
export function createTable(db: Kysely<any>, name: string): CreateTableBuilder<string, never> {
  const builder = db.schema.createTable(name);
  // STRICT makes SQLite reject a value of the wrong type, as PostgreSQL does,
  // so a bug that writes '123' or 1.5 into an integer column shows up on both.
  return dialectKind(db) === 'sqlite' ? builder.modifyEnd(sql`strict`) : builder;
}

/** A generated, increasing integer primary key (events, audit_log). */
// biome-ignore lint/suspicious/noExplicitAny: migrations work on any schema
export function withSerialId(db: Kysely<any>, table: CreateTableBuilder<string, never>) {
  return dialectKind(db) === 'postgres'
    ? table.addColumn('id', 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    : // AUTOINCREMENT: ids are never reused, even after the newest row is deleted.
      table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
}
