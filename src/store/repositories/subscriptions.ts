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

/** Where the subscription's notifications are mailed ([] for nowhere); undefined when there is no such subscription. */
export async function getNotifyEmails(db: Db, id: string): Promise<string[] | undefined> {
  const row = await db.selectFrom('subscriptions').select('notify_emails').where('id', '=', id).executeTakeFirst();
  return row ? (JSON.parse(row.notify_emails) as string[]) : undefined;
}

/** Replaces the recipients; false when there is no such subscription. */
export async function setNotifyEmails(db: Db, id: string, emails: string[]): Promise<boolean> {
  const result = await db
    .updateTable('subscriptions')
    .set({ notify_emails: JSON.stringify(emails) })
    .where('id', '=', id)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
