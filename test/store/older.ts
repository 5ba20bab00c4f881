// A database as an older certkeep left it: the migrations up to a given one
// applied, no later one, and no store opened over it yet. Tests of a later
// migration write the rows that version wrote, then open the store.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Kysely, PostgresDialect } from 'kysely';
import { SQLITE_FILE, type StoreOptions } from '../../src/store/database.ts';
import { migrateTo } from '../../src/store/migrations/index.ts';
import { openPostgresPool } from '../../src/store/postgres.ts';
import type { Database } from '../../src/store/schema.ts';
import { NodeSqliteDialect } from '../../src/store/sqlite-dialect.ts';

export async function olderDatabase(options: StoreOptions, lastMigration: string): Promise<Kysely<Database>> {
  let dialect: PostgresDialect | NodeSqliteDialect;
  if (options.databaseUrl) {
    dialect = new PostgresDialect({ pool: await openPostgresPool(options.databaseUrl) });
  } else {
    await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
    dialect = new NodeSqliteDialect({ database: new DatabaseSync(join(options.dataDir, SQLITE_FILE)) });
  }
  const db = new Kysely<Database>({ dialect });
  await migrateTo(db, lastMigration);
  return db;
}
