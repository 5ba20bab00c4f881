import type { Db, NewRow, Row } from './db.ts';

export type ApiKeyRow = Row<'api_keys'>;

/** Keys not revoked that carry this public prefix (normally one). */
export function activeKeysByPrefix(db: Db, prefix: string): Promise<ApiKeyRow[]> {
  return db.selectFrom('api_keys').selectAll().where('prefix', '=', prefix).where('revoked_at', 'is', null).execute();
}

export function getApiKey(db: Db, id: string): Promise<ApiKeyRow | undefined> {
  return db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
}

export function listApiKeys(db: Db, subscriptionId: string): Promise<ApiKeyRow[]> {
  return db.selectFrom('api_keys').selectAll().where('subscription_id', '=', subscriptionId).orderBy('created_at').execute();
}

export async function insertApiKey(db: Db, row: NewRow<'api_keys'>): Promise<void> {
  await db.insertInto('api_keys').values(row).execute();
}

/** Changes whenever a key is revoked (or a revoked key removed): how other processes notice a revocation. */
export async function revocationMark(db: Db): Promise<string> {
  const row = await db
    .selectFrom('api_keys')
    .select((eb) => [eb.fn.count('revoked_at').as('revoked'), eb.fn.max('revoked_at').as('latest')])
    .executeTakeFirst();
  return `${row?.revoked ?? 0}:${row?.latest ?? ''}`;
}

export async function revokeApiKey(db: Db, id: string, now: number): Promise<void> {
  await db.updateTable('api_keys').set({ revoked_at: now }).where('id', '=', id).execute();
}
