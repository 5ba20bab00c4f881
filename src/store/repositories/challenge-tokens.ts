import type { Db } from './db.ts';

/** Stores an HTTP-01 answer; storing it again (a resumed order) changes nothing. */
export async function putChallengeToken(db: Db, token: string, orderId: string, keyAuthorization: string, now: number): Promise<void> {
  await db
    .insertInto('challenge_tokens')
    .values({ token, order_id: orderId, key_authorization: keyAuthorization, created_at: now })
    .onConflict((oc) => oc.column('token').doNothing())
    .execute();
}

export async function deleteChallengeToken(db: Db, token: string): Promise<void> {
  await db.deleteFrom('challenge_tokens').where('token', '=', token).execute();
}

export async function findKeyAuthorization(db: Db, token: string): Promise<string | undefined> {
  const row = await db.selectFrom('challenge_tokens').select('key_authorization').where('token', '=', token).executeTakeFirst();
  return row?.key_authorization;
}
