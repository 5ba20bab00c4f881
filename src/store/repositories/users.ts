// People who sign in to the portal, and their sessions.
import type { Role } from '../records.ts';
import type { Decoded, DecodedPatch } from './codec.ts';
import type { Db, NewRow, Row, RowPatch } from './db.ts';

// The role column is narrowed here, at the store's edge: only the repositories write it.
/** A user as the store keeps it, its role narrowed (records.ts). */
export type UserRow = Decoded<Row<'users'>, { role: Role }>;
export type NewUserRow = Decoded<NewRow<'users'>, { role: Role }>;
export type UserPatch = DecodedPatch<RowPatch<'users'>, { role: Role }>;
export type SessionRow = Row<'sessions'>;

export async function insertUser(db: Db, row: NewUserRow): Promise<void> {
  await db.insertInto('users').values(row).execute();
}

export async function findUserByEmail(db: Db, email: string): Promise<UserRow | undefined> {
  return (await db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst()) as UserRow | undefined;
}

export async function getUser(db: Db, id: string): Promise<UserRow | undefined> {
  return (await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst()) as UserRow | undefined;
}

/** Every user, or a subscription's, by email. */
export async function listUsers(db: Db, subscriptionId?: string): Promise<UserRow[]> {
  let query = db.selectFrom('users').selectAll();
  if (subscriptionId !== undefined) query = query.where('subscription_id', '=', subscriptionId);
  return (await query.orderBy('subscription_id').orderBy('email').execute()) as UserRow[];
}

export async function updateUser(db: Db, id: string, patch: UserPatch): Promise<void> {
  await db.updateTable('users').set(patch).where('id', '=', id).execute();
}

/** Counts a wrong password; returns how many there have been since the last success. */
export async function countFailedSignIn(db: Db, id: string, now: number): Promise<number> {
  const row = await db
    .updateTable('users')
    .set((eb) => ({ failed_sign_ins: eb('failed_sign_ins', '+', 1), updated_at: now }))
    .where('id', '=', id)
    .returning('failed_sign_ins')
    .executeTakeFirst();
  return row?.failed_sign_ins ?? 0;
}

export async function deleteUser(db: Db, id: string): Promise<void> {
  await db.deleteFrom('users').where('id', '=', id).execute();
}

export async function insertSession(db: Db, row: NewRow<'sessions'>): Promise<void> {
  await db.insertInto('sessions').values(row).execute();
}

/** A live session with its user, in one query. */
export async function findLiveSession(
  db: Db,
  id: string,
  now: number,
): Promise<(UserRow & { session_id: string; expires_at: number }) | undefined> {
  return (await db
    .selectFrom('sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .selectAll('u')
    .select(['s.id as session_id', 's.expires_at'])
    .where('s.id', '=', id)
    .where('s.expires_at', '>', now)
    .executeTakeFirst()) as (UserRow & { session_id: string; expires_at: number }) | undefined;
}

export async function deleteSession(db: Db, id: string): Promise<void> {
  await db.deleteFrom('sessions').where('id', '=', id).execute();
}

/** Ends a user's sessions, all or all but one. */
export async function deleteUserSessions(db: Db, userId: string, except?: string): Promise<void> {
  let query = db.deleteFrom('sessions').where('user_id', '=', userId);
  if (except !== undefined) query = query.where('id', '!=', except);
  await query.execute();
}

/** Sessions past their end; removed now and then so that the table does not grow without bound. */
export async function deleteExpiredSessions(db: Db, now: number): Promise<void> {
  await db.deleteFrom('sessions').where('expires_at', '<=', now).execute();
}
