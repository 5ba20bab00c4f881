// Queries compiled once. Kysely builds and compiles a query on every call; on
// the API's hottest read (GET /certificates/{name}) that cost as much as
// SQLite's own work (bench:api). A query written with compiledOnce is built
// and compiled once per database handle, with placeholders for its arguments;
// each call puts the arguments in their places and runs the same SQL (which
// the SQLite driver keeps prepared).
//
// The query's shape must not depend on the arguments: they are passed only as
// values, and each is a single scalar (no lists for `in`). Kysely plugins'
// transformQuery does not see these queries (there are none in the store).
import { type Compilable, type CompiledQuery, createQueryId } from 'kysely';
import type { Db } from './db.ts';

interface Compiled<R> {
  query: CompiledQuery<R>;
  /** For each parameter of the SQL, the index of the argument that fills it, or -1 for a constant. */
  slots: number[];
}

export function compiledOnce<A extends unknown[], R>(build: (db: Db, ...args: A) => Compilable<R>): (db: Db, ...args: A) => Promise<R[]> {
  const compiled = new WeakMap<Db, Compiled<R>>();
  return async (db, ...args) => {
    let entry = compiled.get(db);
    if (!entry) {
      entry = compile(db, build, args.length);
      compiled.set(db, entry);
    }
    const parameters = entry.query.parameters.slice();
    for (let i = 0; i < parameters.length; i++) if (entry.slots[i] >= 0) parameters[i] = args[entry.slots[i]];
    return (await db.executeQuery<R>({ ...entry.query, queryId: createQueryId(), parameters })).rows;
  };
}

function compile<A extends unknown[], R>(db: Db, build: (db: Db, ...args: A) => Compilable<R>, count: number): Compiled<R> {
  const placeholders = Array.from({ length: count }, (_, i) => `\u0000compiledOnce argument ${i}\u0000`);
  const query = build(db, ...(placeholders as A)).compile();
  const slots = query.parameters.map((parameter) => placeholders.indexOf(parameter as string));
  const unused = placeholders.findIndex((_, i) => !slots.includes(i));
  if (unused >= 0) throw new Error(`compiledOnce: argument ${unused} is not a parameter of ${query.sql}`);
  return { query, slots };
}
