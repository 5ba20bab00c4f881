import type { Db, NewRow, Row } from './db.ts';

export function findAccount(db: Db, subscriptionId: string, caUrl: string, contact: string): Promise<Row<'acme_accounts'> | undefined> {
  return db
    .selectFrom('acme_accounts')
    .selectAll()
    .where('subscription_id', '=', subscriptionId)
    .where('ca_url', '=', caUrl)
    .where('contact', '=', contact)
    .executeTakeFirst();
}

export function getAccount(db: Db, id: string): Promise<Row<'acme_accounts'> | undefined> {
  return db.selectFrom('acme_accounts').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function insertAccount(db: Db, row: NewRow<'acme_accounts'>): Promise<void> {
  await db.insertInto('acme_accounts').values(row).execute();
}

/** The CA gave the account's key a new URL (it had forgotten the old one). */
export async function updateAccountUrl(db: Db, id: string, accountUrl: string): Promise<void> {
  await db.updateTable('acme_accounts').set({ account_url: accountUrl }).where('id', '=', id).execute();
}
