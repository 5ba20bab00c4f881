import type { Scope } from '../records.ts';
import { type Decoded, decodeJson, encodeJson } from './codec.ts';
import type { Db, NewRow, Row } from './db.ts';

export type ApiKeyRow = Decoded<Row<'api_keys'>, { scopes: Scope[] }>;
export type NewApiKey = Decoded<NewRow<'api_keys'>, { scopes: Scope[] }>;

const JSON_COLUMNS = ['scopes'];

function decoded(row: Row<'api_keys'>): ApiKeyRow {
  return decodeJson<ApiKeyRow>(row, JSON_COLUMNS);
}

/** Keys not revoked that carry this public prefix (normally one). */
export async function activeKeysByPrefix(db: Db, prefix: string): Promise<ApiKeyRow[]> {
  return (await db.selectFrom('api_keys').selectAll().where('prefix', '=', prefix).where('revoked_at', 'is', null).execute()).map(decoded);
}

export async function getApiKey(db: Db, id: string): Promise<ApiKeyRow | undefined> {
  const row = await db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
  return row && decoded(row);
}

export async function listApiKeys(db: Db, subscriptionId: string): Promise<ApiKeyRow[]> {
  return (await db.selectFrom('api_keys').selectAll().where('subscription_id', '=', subscriptionId).orderBy('created_at').execute()).map(decoded);
}

export async function insertApiKey(db: Db, key: NewApiKey): Promise<void> {
  await db.insertInto('api_keys').values(encodeJson<NewRow<'api_keys'>>(key, JSON_COLUMNS)).execute();
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
