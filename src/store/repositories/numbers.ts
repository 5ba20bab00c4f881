// The integer ids the compatibility APIs hand out (migration 0007): one number
// per subscription and per certificate, given when the row is made (in the
// same transaction) and looked up both ways.
import type { Db } from './db.ts';

export async function addSubscriptionNumber(db: Db, subscriptionId: string): Promise<void> {
  await db.insertInto('subscription_numbers').values({ subscription_id: subscriptionId }).execute();
}

export async function addCertificateNumber(db: Db, certificateId: string): Promise<void> {
  await db.insertInto('certificate_numbers').values({ certificate_id: certificateId }).execute();
}

export async function subscriptionNumber(db: Db, subscriptionId: string): Promise<number | undefined> {
  const row = await db.selectFrom('subscription_numbers').select('number').where('subscription_id', '=', subscriptionId).executeTakeFirst();
  return row?.number;
}

export async function subscriptionOfNumber(db: Db, number: number): Promise<string | undefined> {
  const row = await db.selectFrom('subscription_numbers').select('subscription_id').where('number', '=', number).executeTakeFirst();
  return row?.subscription_id;
}

/** The numbers of these certificates, by certificate id. */
export async function certificateNumbers(db: Db, certificateIds: readonly string[]): Promise<Map<string, number>> {
  if (certificateIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('certificate_numbers')
    .select(['certificate_id', 'number'])
    .where('certificate_id', 'in', [...certificateIds])
    .execute();
  return new Map(rows.map((row) => [row.certificate_id, row.number]));
}

/** The numbers of a subscription's certificates, by certificate id, in one query. */
export async function certificateNumbersOf(db: Db, subscriptionId: string): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('certificate_numbers as n')
    .innerJoin('certificates as c', 'c.id', 'n.certificate_id')
    .select(['n.certificate_id', 'n.number'])
    .where('c.subscription_id', '=', subscriptionId)
    .execute();
  return new Map(rows.map((row) => [row.certificate_id, row.number]));
}

/** The id of the subscription's certificate with that number. */
export async function certificateOfNumber(db: Db, subscriptionId: string, number: number): Promise<string | undefined> {
  const row = await db
    .selectFrom('certificate_numbers as n')
    .innerJoin('certificates as c', 'c.id', 'n.certificate_id')
    .select('c.id')
    .where('n.number', '=', number)
    .where('c.subscription_id', '=', subscriptionId)
    .where('c.state', '!=', 'deleted')
    .executeTakeFirst();
  return row?.id;
}
