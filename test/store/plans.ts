// A database handle that explains instead of running: each query a repository
// function sends through it is planned by the real store, with the real
// parameter values bound, and its plan kept. A plan that reads a whole table or
// a whole index is a full scan:
// - SQLite (EXPLAIN QUERY PLAN): a `SCAN …` line, with or without an index;
// - PostgreSQL (EXPLAIN, with enable_seqscan off, since on small tables the
//   planner prefers a sequential scan even where an index would serve, and with
//   merge and hash joins off, since it likewise prefers to read a small joined
//   table whole rather than look up each row): a Seq Scan, or an index scan with
//   no Index Cond.
import {
  CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  Kysely,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryResult,
  SqliteIntrospector,
  SqliteQueryCompiler,
  sql,
} from 'kysely';
import type { Store } from '../../src/store/database.ts';
import type { Db } from '../../src/store/repositories/db.ts';
import type { Database } from '../../src/store/schema.ts';

export interface QueryPlan {
  sql: string;
  /** One line per plan node, indented by depth. */
  plan: string;
  /** The plan's nodes that read a whole table or index. */
  fullScans: string[];
}

/** A handle whose queries are explained into `plans` (their result is empty). */
export function explainingDb(store: Store): { db: Db; plans: QueryPlan[] } {
  const plans: QueryPlan[] = [];
  const explain = store.kind === 'postgres' ? explainPostgres : explainSqlite;
  const connection: DatabaseConnection = {
    async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
      plans.push({ sql: query.sql, ...(await explain(store, query)) });
      return { rows: [] };
    },
    streamQuery() {
      throw new Error('explainingDb does not stream');
    },
  };
  const driver: Driver = {
    init: async () => {},
    acquireConnection: async () => connection,
    beginTransaction: async () => {},
    commitTransaction: async () => {},
    rollbackTransaction: async () => {},
    releaseConnection: async () => {},
    destroy: async () => {},
  };
  const postgres = store.kind === 'postgres';
  const dialect: Dialect = {
    createAdapter: () => store.db.getExecutor().adapter,
    createDriver: () => driver,
    createQueryCompiler: () => (postgres ? new PostgresQueryCompiler() : new SqliteQueryCompiler()),
    // biome-ignore lint/suspicious/noExplicitAny: Kysely's Dialect interface takes Kysely<any>
    createIntrospector: (db: Kysely<any>) =>
      postgres ? new PostgresIntrospector(db) : new SqliteIntrospector(db),
  };
  return { db: new Kysely<Database>({ dialect }), plans };
}

interface SqlitePlanRow {
  id: number;
  parent: number;
  detail: string;
}

async function explainSqlite(store: Store, query: CompiledQuery): Promise<Omit<QueryPlan, 'sql'>> {
  const { rows } = await store.db.executeQuery<SqlitePlanRow>(
    CompiledQuery.raw(`EXPLAIN QUERY PLAN ${query.sql}`, [...query.parameters]),
  );
  const depth = new Map<number, number>([[0, -1]]);
  const lines = rows.map((row) => {
    depth.set(row.id, (depth.get(row.parent) ?? -1) + 1);
    return `${'  '.repeat(depth.get(row.id)!)}${row.detail}`;
  });
  return {
    plan: lines.join('\n'),
    fullScans: rows.map((row) => row.detail).filter((detail) => detail.startsWith('SCAN ')),
  };
}

interface PostgresNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  Filter?: string;
  Plans?: PostgresNode[];
}

async function explainPostgres(store: Store, query: CompiledQuery): Promise<Omit<QueryPlan, 'sql'>> {
  const [result] = await store.db.connection().execute(async (db) => {
    await sql`set enable_seqscan = off`.execute(db);
    await sql`set enable_mergejoin = off`.execute(db);
    await sql`set enable_hashjoin = off`.execute(db);
    try {
      const { rows } = await db.executeQuery<{ 'QUERY PLAN': { Plan: PostgresNode }[] }>(
        CompiledQuery.raw(`EXPLAIN (FORMAT JSON) ${query.sql}`, [...query.parameters]),
      );
      return rows[0]['QUERY PLAN'];
    } finally {
      await sql`reset enable_seqscan`.execute(db);
      await sql`reset enable_mergejoin`.execute(db);
      await sql`reset enable_hashjoin`.execute(db);
    }
  });
  const lines: string[] = [];
  const fullScans: string[] = [];
  const walk = (node: PostgresNode, depth: number) => {
    const line = describe(node);
    lines.push(`${'  '.repeat(depth)}${line}`);
    const type = node['Node Type'];
    if (type === 'Seq Scan' || (/Index (Only )?Scan$/.test(type) && !node['Index Cond']))
      fullScans.push(line);
    for (const child of node.Plans ?? []) walk(child, depth + 1);
  };
  walk(result.Plan, 0);
  return { plan: lines.join('\n'), fullScans };
}

function describe(node: PostgresNode): string {
  const on = node['Relation Name'] ? ` on ${node['Relation Name']}` : '';
  const using = node['Index Name'] ? ` using ${node['Index Name']}` : '';
  const condition = node['Index Cond'] ? ` (${node['Index Cond']})` : '';
  return `${node['Node Type']}${using}${on}${condition}`;
}
