import { type Decoded, decodeJson } from './codec.ts';
import type { Db, NewRow, Row } from './db.ts';
import { addSubscriptionNumber } from './numbers.ts';

/** The subscription the CLI works in when no tenant is named. */
export const DEFAULT_SUBSCRIPTION_ID = 'default';

/** A subscription with its notification recipients decoded. */
export type SubscriptionRow = Decoded<Row<'subscriptions'>, { notify_emails: string[] }>;

const JSON_COLUMNS = ['notify_emails'];

function decoded(row: Row<'subscriptions'>): SubscriptionRow {
  return decodeJson<SubscriptionRow>(row, JSON_COLUMNS);
}

export async function ensureSubscription(db: Db, id: string, name: string, now: number): Promise<SubscriptionRow> {
  const existing = await getSubscription(db, id);
  if (existing) return existing;
  const row = { id, name, created_at: now, notify_emails: '[]' };
  await db.transaction().execute(async (trx) => {
    await trx.insertInto('subscriptions').values(row).onConflict((c) => c.column('id').doNothing()).execute();
    await trx.insertInto('subscription_numbers').values({ subscription_id: id }).onConflict((c) => c.column('subscription_id').doNothing()).execute();
  });
  return decoded(row);
}

export async function getSubscription(db: Db, id: string): Promise<SubscriptionRow | undefined> {
  const row = await db.selectFrom('subscriptions').selectAll().where('id', '=', id).executeTakeFirst();
  return row && decoded(row);
}

export async function listSubscriptions(db: Db): Promise<SubscriptionRow[]> {
  return (await db.selectFrom('subscriptions').selectAll().orderBy('created_at').execute()).map(decoded);
}

/** A new subscription, with no notification recipients, and its number (numbers.ts): call it in a transaction. */
export async function insertSubscription(db: Db, row: Omit<NewRow<'subscriptions'>, 'notify_emails'>): Promise<void> {
  await db.insertInto('subscriptions').values(row).execute();
  await addSubscriptionNumber(db, row.id);
}

/** Where the subscription's notifications are mailed ([] for nowhere); undefined when there is no such subscription. */
export async function getNotifyEmails(db: Db, id: string): Promise<string[] | undefined> {
  const row = await db.selectFrom('subscriptions').select('notify_emails').where('id', '=', id).executeTakeFirst();
  return row ? decodeJson<{ notify_emails: string[] }>(row, JSON_COLUMNS).notify_emails : undefined;
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
