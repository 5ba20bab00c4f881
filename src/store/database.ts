// Opens the store: the embedded SQLite file `<dataDir>/certkeep.db` by
// default, or PostgreSQL when a database URL is given (CERTKEEP_DATABASE_URL);
// applies pending migrations; loads the master key and checks it against the
// database. Only a caller that creates things may create a store: to the
// others a missing or empty store is an error, so that a mistyped data dir or
// a lost database is never mistaken for "no certificates".
import { mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { type Dialect, Kysely, PostgresDialect, sql } from 'kysely';
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
  /** Base64 of 32 bytes (CERTKEEP_MASTER_KEY); absent, `<dataDir>/master.key`, created with a new store. */
  masterKey?: string;
  /**
   * 'create' (default): a new store is made when there is none. 'existing': the
   * store must be there already (commands that only read, renew or revoke).
   */
  mode?: 'create' | 'existing';
  /** What to tell the user to run to create a store, for the 'existing' errors. */
  createHint?: string;
}

export async function openStore(opts: StoreOptions): Promise<Store> {
  if (opts.databaseUrl) checkPostgresUrl(opts.databaseUrl);
  const create = opts.mode !== 'existing';
  if (!opts.databaseUrl) await checkSqliteFiles(opts, create);
  const kind = opts.databaseUrl ? 'postgres' : 'sqlite';
  const dialect = opts.databaseUrl ? await postgresDialect(opts.databaseUrl) : sqliteDialect(opts.dataDir);
  const db = new Kysely<Database>({ dialect });
  try {
    const existed = await holdsCertkeepStore(db, kind);
    if (!existed && !create) throw missingStore(opts, `${postgresTarget(opts.databaseUrl)} holds no certkeep tables`);
    if (!existed && opts.masterKey === undefined) await createDirectory(opts.dataDir);
    const masterKey = await loadMasterKey({ ...opts, mayCreate: !existed, database: existed ? databaseName(opts) : undefined });
    const secrets = new SecretBox(masterKey.key);
    await migrateToLatest(db);
    await verifyMasterKey(db, secrets, masterKey.source);
    let closing: Promise<void> | undefined;
    return { db, kind, secrets, close: () => (closing ??= db.destroy()) };
  } catch (error) {
    await db.destroy();
    throw error;
  }
}

/**
 * SQLite: the data dir and `certkeep.db` must exist unless a store may be
 * created here; a database file of 0 bytes is a lost store, never a new one.
 */
async function checkSqliteFiles(opts: StoreOptions, create: boolean): Promise<void> {
  const path = join(opts.dataDir, SQLITE_FILE);
  const [dir, file] = await Promise.all([statOrUndefined(opts.dataDir), statOrUndefined(path)]);
  if (dir && !dir.isDirectory()) throw new StoreError(`the data directory ${opts.dataDir} is not a directory; check --data-dir / CERTKEEP_DATA_DIR`);
  if (file?.size === 0) {
    throw new StoreError(
      `the database ${path} is empty (0 bytes): the store was lost or truncated. Restore it from a backup; ` +
        'certkeep will not start a new store over it (move the file away to start afresh)',
    );
  }
  if (file || create) {
    if (create) await createDirectory(opts.dataDir);
    return;
  }
  throw missingStore(opts, dir ? `there is no certkeep database ${path}` : `there is no data directory ${opts.dataDir}`);
}

function missingStore(opts: StoreOptions, what: string): StoreError {
  const where = opts.databaseUrl ? 'check CERTKEEP_DATABASE_URL' : 'check --data-dir / CERTKEEP_DATA_DIR';
  return new StoreError(`${what}; ${where}, or create a store first with ${opts.createHint ?? 'certkeep issue -d NAME'}`);
}

/** Whether the database has been set up by certkeep before (a new SQLite file has not). */
async function holdsCertkeepStore(db: Kysely<Database>, kind: 'sqlite' | 'postgres'): Promise<boolean> {
  const query =
    kind === 'sqlite'
      ? sql<{ found: number }>`SELECT count(*) AS found FROM sqlite_master WHERE type = 'table' AND name = 'certkeep_meta'`
      : sql<{ found: number }>`SELECT count(*)::int AS found FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'certkeep_meta'`;
  const { rows } = await query.execute(db);
  return Number(rows[0]?.found ?? 0) > 0;
}

function databaseName(opts: StoreOptions): string {
  return opts.databaseUrl ? postgresTarget(opts.databaseUrl) : join(opts.dataDir, SQLITE_FILE);
}

/** The PostgreSQL database a URL names, without its password. */
function postgresTarget(url: string | undefined): string {
  if (!url) return 'the database';
  try {
    const parsed = new URL(url);
    return `the PostgreSQL database ${parsed.pathname.slice(1) || '(default)'} at ${parsed.hostname}${parsed.port ? `:${parsed.port}` : ''}`;
  } catch {
    return 'the PostgreSQL database';
  }
}

async function statOrUndefined(path: string) {
  try {
    return await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new StoreError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? error}; check --data-dir / CERTKEEP_DATA_DIR and its permissions`);
  }
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

/**
 * mkdir -p, one level at a time: Node's recursive mkdir retries for ever where a
 * parent exists but refuses children (/proc/x), which hung `--data-dir /proc/x`.
 */
async function createDirectory(dataDir: string): Promise<void> {
  try {
    await makeDirectory(dataDir);
  } catch (error) {
    throw new StoreError(
      `cannot create the data directory ${dataDir}: ${(error as NodeJS.ErrnoException).code ?? error}. ` +
        'Choose a writable directory (--data-dir / CERTKEEP_DATA_DIR) or fix its permissions',
    );
  }
}

async function makeDirectory(path: string): Promise<void> {
  try {
    await mkdir(path, { mode: 0o700 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' && (await stat(path)).isDirectory()) return;
    const parent = dirname(path);
    if (code !== 'ENOENT' || parent === path || (await statOrUndefined(parent))) throw error;
    await makeDirectory(parent);
    await mkdir(path, { mode: 0o700 });
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
