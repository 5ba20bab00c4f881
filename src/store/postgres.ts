// The PostgreSQL connection pool: int8 columns (epoch-millisecond timestamps,
// counts, identity ids) come back as JS numbers, queries run in pg's callback
// form (what they leave behind dies young), and a server that cannot be used is
// reported once, at startup, naming host:port and what to check.
import pg from 'pg';
import { StoreError } from './errors.ts';

const INT8_OID = 20;
const POOL_SIZE = 10;
const CONNECT_TIMEOUT_MS = 10_000;

// Epoch milliseconds and row counts stay far below 2^53, so Number is exact.
const parseInt8 = (value: string): number => Number(value);

const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? parseInt8
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/**
 * A client whose promise-returning query() runs pg's callback form. pg's own
 * promise form gives each query its callback after making it; measured under
 * bench:scale, every query's objects (the query, its result, its rows and field
 * descriptions) then outlive the young-generation collection that follows, so
 * each such collection copied and promoted about 2 MB and the old generation
 * filled up for a mark-compact every few seconds: the pauses behind the slowest
 * GETs. With the callback given at the start, next to nothing survives.
 */
class CallbackQueryClient extends pg.Client {
  // biome-ignore lint/suspicious/noExplicitAny: pg's overloads of query(), passed through unchanged
  override query(config: any, values?: any, callback?: any): any {
    if (typeof config !== 'string' || typeof values === 'function' || callback !== undefined)
      return super.query(config, values, callback);
    return new Promise((resolve, reject) => {
      super.query(config, values, (error: Error | undefined, result: unknown) =>
        error ? reject(error) : resolve(result),
      );
    });
  }
}

/** A pool whose server has answered one login; the URL's password never appears in errors. */
export async function openPostgresPool(url: string): Promise<pg.Pool> {
  const config: pg.PoolConfig = {
    connectionString: url,
    max: POOL_SIZE,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: 'certkeep',
    types,
    Client: CallbackQueryClient,
  };
  const pool = new pg.Pool(config);
  // An idle connection that breaks (server restart, network) is dropped by the
  // pool and replaced on next use; without a listener the error would end the process.
  pool.on('error', () => {});
  try {
    const client = await pool.connect();
    client.release();
    return pool;
  } catch (error) {
    await pool.end().catch(() => {});
    throw describeConnectError(error, config);
  }
}

function describeConnectError(error: unknown, config: pg.PoolConfig): StoreError {
  const target = new pg.Client(config); // not connected: only reads host, port, user and database from the URL
  const where = `PostgreSQL at ${target.host}:${target.port}`;
  const fix = 'in CERTKEEP_DATABASE_URL';
  const code = (error as { code?: string })?.code;
  const message = error instanceof Error ? error.message : String(error);
  switch (code) {
    case 'ECONNREFUSED':
      return new StoreError(
        `cannot reach ${where}: connection refused. Check that the server is running and listening ` +
          `there, and the host and port ${fix}`,
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new StoreError(`cannot reach ${where}: the host name does not resolve. Check the host ${fix}`);
    case '28P01':
    case '28000':
      return new StoreError(
        `${where} refused the login of user "${target.user}": ${message}. Check the user and password ${fix} ` +
          'and the server’s pg_hba.conf',
      );
    case '3D000':
      return new StoreError(
        `${where} has no database "${target.database}". Create it (createdb ${target.database}) ` +
          `or fix the database name ${fix}`,
      );
  }
  if (code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || /timeout/i.test(message)) {
    return new StoreError(
      `cannot reach ${where}: no answer within ${CONNECT_TIMEOUT_MS / 1000} s. Check the host and port ${fix} ` +
        'and that no firewall is in the way',
    );
  }
  return new StoreError(`cannot connect to ${where}: ${message}. Check the server and ${fix}`);
}
