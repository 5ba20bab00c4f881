// Opens the store: the embedded SQLite file `<dataDir>/certkeep.db` by
// default, or PostgreSQL when a database URL is given (CERTKEEP_DATABASE_URL);
// applies pending migrations; loads the master key and checks it against the
// database.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { type Dialect, Kysely, PostgresDialect } from 'kysely';
import { StoreError } from './errors.ts';
import { verifyMasterKey } from './key-check.ts';
import { loadMasterKey } from './master-key.ts';
import { migrateToLatest } from './migrations/index.ts';
import type { Database } from './schema.ts';
import { SecretBox } from './secret-box.ts';
import { makeDatabaseFilesPrivate } from './private-files.ts';
import { NodeSqliteDialect } from './sqlite-dialect.ts';

export { migrationStatus } from './migrations/index.ts';

export const SQLITE_FILE = 'certkeep.db';
const BUSY_TIMEOUT_MS = 5_000;

export interface Store {
  db: Kysely<Database>;
  kind: 'sqlite' | 'postgres';
  secrets: SecretBox;
  close(): Promise<void>;
}

export interface StoreOptions {
  dataDir: string;
  /** postgres://… selects PostgreSQL (CERTKEEP_DATABASE_URL); absent, the embedded SQLite file. */
  databaseUrl?: string;
  /** Base64 of 32 bytes (CERTKEEP_MASTER_KEY); absent, `<dataDir>/master.key`, created on first run. */
  masterKey?: string;
}

export async function openStore(opts: StoreOptions): Promise<Store> {
  if (opts.databaseUrl) checkPostgresUrl(opts.databaseUrl);
  await ensureDataDir(opts.dataDir);
  const masterKey = await loadMasterKey(opts);
  const secrets = new SecretBox(masterKey.key);
  const kind = opts.databaseUrl ? 'postgres' : 'sqlite';
  const dialect = opts.databaseUrl ? await postgresDialect(opts.databaseUrl) : sqliteDialect(opts.dataDir);
  const db = new Kysely<Database>({ dialect });
  try {
    await migrateToLatest(db);
    await verifyMasterKey(db, secrets, masterKey.source);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  let closing: Promise<void> | undefined;
  return { db, kind, secrets, close: () => (closing ??= db.destroy()) };
}

function checkPostgresUrl(url: string): void {
  if (/^postgres(ql)?:\/\//.test(url)) return;
  // Only the scheme is echoed: the rest of the URL may hold a password.
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0] ?? 'no scheme';
  throw new StoreError(
    `CERTKEEP_DATABASE_URL must be a postgres:// or postgresql:// URL (it has ${scheme}); ` +
      'leave it unset for the embedded SQLite database',
  );
}

async function ensureDataDir(dataDir: string): Promise<void> {
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new StoreError(
      `cannot create the data directory ${dataDir}: ${(error as NodeJS.ErrnoException).code ?? error}. ` +
        'Choose a writable directory (CERTKEEP_DATA_DIR) or fix its permissions',
    );
  }
}

async function postgresDialect(url: string): Promise<Dialect> {
  // pg loads only for PostgreSQL users.
  const { openPostgresPool } = await import('./postgres.ts');
  return new PostgresDialect({ pool: await openPostgresPool(url) });
}

function sqliteDialect(dataDir: string): Dialect {
  const path = join(dataDir, SQLITE_FILE);
  let database: DatabaseSync | undefined;
  try {
    makeDatabaseFilesPrivate(path);
    database = new DatabaseSync(path, { timeout: BUSY_TIMEOUT_MS, enableForeignKeyConstraints: true });
    // WAL: readers and the writer do not block each other; NORMAL is durable
    // across process crashes and loses at most the last commits on power loss.
    // mmap: reads come straight from the OS page cache instead of a read() per
    // page missing from SQLite's 2 MB cache; a lookup among 10,000 certificates
    // takes a third less time. 256 MiB of address space, not of memory.
    database.exec('pragma journal_mode = wal; pragma synchronous = normal; pragma foreign_keys = on; pragma mmap_size = 268435456;');
  } catch (error) {
    if (database?.isOpen) database.close();
    throw new StoreError(
      `cannot open the database ${path}: ${(error as Error).message}. ` +
        'Check that the data directory is writable (CERTKEEP_DATA_DIR) and the file is a certkeep database',
    );
  }
  return new NodeSqliteDialect({ database });
}
