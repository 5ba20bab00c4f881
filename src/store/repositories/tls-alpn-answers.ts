import type { Db } from './db.ts';

export interface TlsAlpnAnswer {
  token: string;
  identifier: string;
  orderId: string;
  keyAuthorization: string;
}

/** Stores a TLS-ALPN-01 answer; storing it again (a resumed order) changes nothing. */
export async function putTlsAlpnAnswer(db: Db, answer: TlsAlpnAnswer, now: number): Promise<void> {
  await db
    .insertInto('tls_alpn_answers')
    .values({ token: answer.token, identifier: answer.identifier, order_id: answer.orderId, key_authorization: answer.keyAuthorization, created_at: now })
    .onConflict((oc) => oc.column('token').doNothing())
    .execute();
}

export async function deleteTlsAlpnAnswer(db: Db, token: string): Promise<void> {
  await db.deleteFrom('tls_alpn_answers').where('token', '=', token).execute();
}

/**
 * The key authorization to present for `identifier`. The SNI names only the
 * identifier, so two orders validating the same name at once cannot both be
 * answered: the newest answer wins.
 */
export async function findTlsAlpnKeyAuthorization(db: Db, identifier: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('tls_alpn_answers')
    .select('key_authorization')
    .where('identifier', '=', identifier)
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.key_authorization;
}
