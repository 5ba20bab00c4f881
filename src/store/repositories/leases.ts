// Leases with a fencing token, for the rows that are work: an order being run,
// a deploy target being deployed. A holder claims the row (the token goes up),
// keeps the lease alive while it works, and fences its writes with the token,
// so a holder whose lease ran out and was taken over can no longer write.
import { type SqlBool, sql } from 'kysely';
import { OPEN_ORDER } from '../migrations/0009-scale.ts';
import type { Db } from './db.ts';

/** The tables whose rows carry lease_owner, lease_token and lease_until. */
export type LeasedTable = 'orders' | 'deploy_targets';

export interface LeaseHolder {
  lease_owner: string | null;
  lease_token: number;
  lease_until: number | null;
}

/** Takes the row's lease when it is free or expired; the new fencing token, or undefined when another holds it. */
export async function claimLease(
  db: Db,
  table: LeasedTable,
  id: string,
  owner: string,
  now: number,
  leaseMs: number,
): Promise<number | undefined> {
  const row = await taking(db, table, id, owner, now + leaseMs)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
    .returning('lease_token')
    .executeTakeFirst();
  return row?.lease_token;
}

/** Takes over a lease whose holder is known to be dead; undefined when it changed hands meanwhile. */
export async function takeOverLease(
  db: Db,
  table: LeasedTable,
  id: string,
  fromToken: number,
  owner: string,
  now: number,
  leaseMs: number,
): Promise<number | undefined> {
  const row = await taking(db, table, id, owner, now + leaseMs)
    .where('lease_token', '=', fromToken)
    .returning('lease_token')
    .executeTakeFirst();
  return row?.lease_token;
}

/**
 * The update that gives the row's lease to `owner` until `until`, with a new
 * fencing token. A finished order is no work: a runner that read it as open a
 * moment before it finished gets no lease on it (one killed while holding that
 * lease would leave its name on the order for good).
 */
function taking(db: Db, table: LeasedTable, id: string, owner: string, until: number) {
  const update = db
    .updateTable(table)
    .set((eb) => ({ lease_owner: owner, lease_until: until, lease_token: eb('lease_token', '+', 1) }))
    .where('id', '=', id);
  return table === 'orders' ? update.where(sql.raw<SqlBool>(OPEN_ORDER)) : update;
}

/** Keeps a claimed lease alive; false when it was lost. */
export async function extendLease(
  db: Db,
  table: LeasedTable,
  id: string,
  leaseToken: number,
  until: number,
): Promise<boolean> {
  const result = await db
    .updateTable(table)
    .set({ lease_until: until })
    .where('id', '=', id)
    .where('lease_token', '=', leaseToken)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function releaseLease(
  db: Db,
  table: LeasedTable,
  id: string,
  leaseToken: number,
): Promise<void> {
  await db
    .updateTable(table)
    .set({ lease_owner: null, lease_until: null })
    .where('id', '=', id)
    .where('lease_token', '=', leaseToken)
    .execute();
}

/** Who holds the row's lease now; undefined when the row is gone. */
export function leaseHolder(db: Db, table: LeasedTable, id: string): Promise<LeaseHolder | undefined> {
  return db
    .selectFrom(table)
    .select(['lease_owner', 'lease_token', 'lease_until'])
    .where('id', '=', id)
    .executeTakeFirst();
}
