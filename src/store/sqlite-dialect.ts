// A Kysely dialect over Node's built-in node:sqlite (DatabaseSync). Kysely's own
// SqliteDialect expects better-sqlite3's API, so this driver talks to
// node:sqlite directly:
// - one connection, handed out by a FIFO mutex: a transaction holds it from
//   BEGIN to COMMIT, so transactions in this process never interleave;
// - write transactions start with BEGIN IMMEDIATE, taking SQLite's one write
//   lock up front, so another process waits (busy_timeout) instead of failing
//   with SQLITE_BUSY when a read lock cannot be upgraded;
// - prepared statements are cached by SQL text (preparing costs more than running);
// - rows come back as plain objects, as from pg (node:sqlite builds
//   null-prototype objects; building them from arrays is cheaper still).
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import {
  type CompiledQuery,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type TransactionSettings,
} from 'kysely';
import { StoreError } from './errors.ts';

export interface NodeSqliteDialectOptions {
  /** An open database; the dialect closes it on destroy. */
  database: DatabaseSync;
  /** How many prepared statements to keep; the oldest is finalized past this. */
  statementCacheSize?: number;
  /** How long a query waits for the connection before failing (see Mutex). */
  lockTimeoutMs?: number;
}

export class NodeSqliteDialect implements Dialect {
  #options: NodeSqliteDialectOptions;

  constructor(options: NodeSqliteDialectOptions) {
    this.#options = options;
  }

  createDriver(): Driver {
    return new NodeSqliteDriver(this.#options);
  }

  createAdapter(): DialectAdapter {
    return new NodeSqliteAdapter();
  }

  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }

  // biome-ignore lint/suspicious/noExplicitAny: Kysely's Dialect interface takes Kysely<any>
  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}

/** SQLite runs DDL inside transactions, so migrations apply all or nothing. */
class NodeSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class NodeSqliteDriver implements Driver {
  #connection: NodeSqliteConnection;
  #database: DatabaseSync;
  #mutex: Mutex;

  constructor(options: NodeSqliteDialectOptions) {
    this.#database = options.database;
    this.#mutex = new Mutex(options.lockTimeoutMs ?? 30_000);
    this.#connection = new NodeSqliteConnection(options.database, options.statementCacheSize ?? 500);
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#mutex.lock();
    return this.#connection;
  }

  async releaseConnection(): Promise<void> {
    this.#mutex.unlock();
  }

  async beginTransaction(_connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    this.#connection.exec(settings.accessMode === 'read only' ? 'begin deferred' : 'begin immediate');
  }

  async commitTransaction(): Promise<void> {
    this.#connection.exec('commit');
  }

  async rollbackTransaction(): Promise<void> {
    // SQLite ends a transaction by itself on some errors (SQLITE_FULL, SQLITE_IOERR);
    // a second ROLLBACK would then fail and hide the error that caused it.
    if (this.#database.isTransaction) this.#connection.exec('rollback');
  }

  async savepoint(_connection: DatabaseConnection, name: string): Promise<void> {
    this.#connection.exec(`savepoint ${quoteName(name)}`);
  }

  async rollbackToSavepoint(_connection: DatabaseConnection, name: string): Promise<void> {
    this.#connection.exec(`rollback to ${quoteName(name)}`);
  }

  async releaseSavepoint(_connection: DatabaseConnection, name: string): Promise<void> {
    this.#connection.exec(`release ${quoteName(name)}`);
  }

  async destroy(): Promise<void> {
    this.#connection.clear();
    if (this.#database.isOpen) this.#database.close();
  }
}

interface CachedStatement {
  statement: StatementSync;
  /** Column names when the statement returns rows (SELECT, RETURNING, some PRAGMAs), else undefined. */
  columns: string[] | undefined;
}

class NodeSqliteConnection implements DatabaseConnection {
  #database: DatabaseSync;
  #cache = new Map<string, CachedStatement>();
  #cacheSize: number;

  constructor(database: DatabaseSync, cacheSize: number) {
    this.#database = database;
    this.#cacheSize = cacheSize;
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const { statement, columns } = this.#prepare(query.sql);
    const parameters = query.parameters as SQLInputValue[];
    if (columns)
      return { rows: toObjects(statement.all(...parameters) as unknown as unknown[][], columns) as R[] };
    const { changes, lastInsertRowid } = statement.run(...parameters);
    if (SCHEMA_CHANGE.test(query.sql)) this.#cache.clear(); // cached column lists may be stale now
    return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
  }

  async *streamQuery<R>(query: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    const { statement, columns } = this.#prepare(query.sql);
    if (!columns) throw new Error('only statements that return rows can be streamed');
    for (const row of statement.iterate(...(query.parameters as SQLInputValue[]))) {
      yield { rows: toObjects([row as unknown as unknown[]], columns) as R[] };
    }
  }

  exec(sql: string): void {
    this.#database.exec(sql);
  }

  clear(): void {
    this.#cache.clear();
  }

  #prepare(sql: string): CachedStatement {
    const cached = this.#cache.get(sql);
    if (cached) return cached;
    const statement = this.#database.prepare(sql);
    statement.setReturnArrays(true);
    const names = statement.columns().map((column) => column.name);
    const entry = { statement, columns: names.length > 0 ? names : undefined };
    if (this.#cache.size >= this.#cacheSize) this.#cache.delete(this.#cache.keys().next().value as string);
    this.#cache.set(sql, entry);
    return entry;
  }
}

const SCHEMA_CHANGE = /^\s*(create|alter|drop)\s/i;

function toObjects(rows: unknown[][], columns: string[]): Record<string, unknown>[] {
  const objects = new Array<Record<string, unknown>>(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    const object: Record<string, unknown> = {};
    for (let c = 0; c < columns.length; c++) object[columns[c]] = row[c];
    objects[r] = object;
  }
  return objects;
}

function quoteName(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * A FIFO lock: waiters get the connection in the order they asked for it. A
 * waiter gives up after `timeoutMs`: the usual cause of a long wait is code
 * inside a transaction querying through the store's `db` instead of its
 * transaction object, which waits for itself forever; failing that query
 * rolls the transaction back and frees the connection.
 */
class Mutex {
  #locked = false;
  #waiters: Array<() => void> = [];
  #timeoutMs: number;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  lock(): Promise<void> {
    if (!this.#locked) {
      this.#locked = true;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const waiter = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(
          new StoreError(
            `waited ${this.#timeoutMs} ms for the SQLite connection, which a transaction holds. ` +
              'Inside db.transaction().execute(), query through the transaction object, not the store’s db',
          ),
        );
      }, this.#timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  unlock(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#locked = false;
  }
}
