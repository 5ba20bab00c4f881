import type { Db, NewRow, Row } from './db.ts';

/** The subscription the CLI works in when no tenant is named. */
export const DEFAULT_SUBSCRIPTION_ID = 'default';

export async function ensureSubscription(db: Db, id: string, name: string, now: number): Promise<Row<'subscriptions'>> {
  const existing = await db.selectFrom('subscriptions').selectAll().where('id', '=', id).executeTakeFirst();
  if (existing) return existing;
  const row = { id, name, created_at: now, notify_emails: '[]' };
  await db.insertInto('subscriptions').values(row).onConflict((c) => c.column('id').doNothing()).execute();
  return row;
}

export function getSubscription(db: Db, id: string): Promise<Row<'subscriptions'> | undefined> {
  return db.selectFrom('subscriptions').selectAll().where('id', '=', id).executeTakeFirst();
}

export function listSubscriptions(db: Db): Promise<Row<'subscriptions'>[]> {
  return db.selectFrom('subscriptions').selectAll().orderBy('created_at').execute();
}

export async function insertSubscription(db: Db, row: NewRow<'subscriptions'>): Promise<void> {
  await db.insertInto('subscriptions').values(row).execute();
}
