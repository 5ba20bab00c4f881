// Delegated zones' DNS-01 values (dns/providers/delegated), kept in the store so
// that every instance's challenge DNS server answers every order.
import type { Db } from './db.ts';

/** Stores a value at `owner`; storing it again (a resumed order) changes nothing. Values older than `staleBefore` are removed. */
export async function putDelegatedValue(db: Db, subscriptionId: string, owner: string, value: string, now: number, staleBefore: number): Promise<void> {
  await db.deleteFrom('delegated_challenge_values').where('created_at', '<', staleBefore).execute();
  await db
    .insertInto('delegated_challenge_values')
    .values({ owner, value, subscription_id: subscriptionId, created_at: now })
    .onConflict((oc) => oc.columns(['owner', 'value']).doNothing())
    .execute();
}

export async function deleteDelegatedValue(db: Db, owner: string, value: string): Promise<void> {
  await db.deleteFrom('delegated_challenge_values').where('owner', '=', owner).where('value', '=', value).execute();
}

/** The values at `owner` stored since `since`. */
export async function findDelegatedValues(db: Db, owner: string, since: number): Promise<string[]> {
  const rows = await db.selectFrom('delegated_challenge_values').select('value').where('owner', '=', owner).where('created_at', '>=', since).execute();
  return rows.map((row) => row.value);
}
