// Signing in to the portal. The cookie holds a random token; the store keeps
// its SHA-256, so a copy of the database opens no session. Each session has a
// CSRF token derived from its own token (an HMAC no other site can compute),
// which every change made with the cookie must carry. After five wrong
// passwords an account refuses sign-ins for a while, whatever is typed.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ConflictError, UsageError } from '../errors.ts';
import {
  countFailedSignIn,
  deleteExpiredSessions,
  deleteSession,
  deleteUserSessions,
  findLiveSession,
  findUserByEmail,
  getUser,
  insertSession,
  updateUser,
} from '../store/repositories/users.ts';
import type { EngineContext } from './context.ts';
import { checkNewPassword, hashPassword, NO_USER_HASH, verifyPassword } from './passwords.ts';
import { scopesOfRole, type UserCaller } from './callers.ts';
import { type UserView, userView } from './users.ts';

export const SESSION_LIFETIME_MS = 12 * 60 * 60 * 1000;
/** Wrong passwords in a row before an account is locked. */
export const LOCKOUT_AFTER = 5;
export const LOCKOUT_MS = 15 * 60 * 1000;

export interface StartedSession {
  /** The cookie's value; shown once. */
  token: string;
  csrfToken: string;
  expiresAt: number;
  user: UserView;
}

/** The password was wrong or the email unknown: one answer for both, so that emails cannot be probed. */
export class SignInRefusedError extends Error {
  constructor() {
    super('the email or the password is not right; try again, or ask an admin to reset your password');
    this.name = 'SignInRefusedError';
  }
}

/** Too many wrong passwords: no sign-in until the lock ends. */
export class SignInLockedError extends Error {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    super(
      `too many wrong passwords for this account: try again in ${Math.ceil(retryAfterSeconds / 60)} minutes, or ask an admin to reset your password`,
    );
    this.name = 'SignInLockedError';
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export async function signIn(ctx: EngineContext, email: string, password: string): Promise<StartedSession> {
  const now = ctx.clock.now();
  const user = await findUserByEmail(ctx.store.db, email.trim().toLowerCase());
  if (user?.locked_until != null && user.locked_until > now)
    throw new SignInLockedError(Math.ceil((user.locked_until - now) / 1000));
  const matches = await verifyPassword(password, user?.password_hash ?? NO_USER_HASH);
  if (!user) throw new SignInRefusedError();
  if (!matches) {
    const failures = await countFailedSignIn(ctx.store.db, user.id, now);
    if (failures >= LOCKOUT_AFTER)
      await updateUser(ctx.store.db, user.id, { locked_until: now + LOCKOUT_MS, failed_sign_ins: 0 });
    throw new SignInRefusedError();
  }
  const token = `cks_${randomBytes(32).toString('base64url')}`;
  const expiresAt = now + SESSION_LIFETIME_MS;
  await ctx.store.db.transaction().execute(async (trx) => {
    await insertSession(trx, {
      id: sessionId(token),
      user_id: user.id,
      created_at: now,
      expires_at: expiresAt,
    });
    await updateUser(trx, user.id, { failed_sign_ins: 0, locked_until: null, last_sign_in_at: now });
  });
  // Now and then, not on every request: sessions past their end are only dead weight.
  if (Math.random() < 0.05) await deleteExpiredSessions(ctx.store.db, now);
  return {
    token,
    csrfToken: csrfTokenOf(token),
    expiresAt,
    user: userView({ ...user, last_sign_in_at: now }, now),
  };
}

/** The person a session cookie belongs to, or undefined for a malformed, unknown, ended or expired one. */
export async function authenticateSession(
  ctx: EngineContext,
  token: string,
): Promise<UserCaller | undefined> {
  if (!/^cks_[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
  const row = await findLiveSession(ctx.store.db, sessionId(token), ctx.clock.now());
  if (!row) return undefined;
  const { role } = row;
  return {
    subscriptionId: row.subscription_id,
    scopes: scopesOfRole(role),
    user: { id: row.id, email: row.email, role, mustChangePassword: row.must_change_password === 1 },
    sessionId: row.session_id,
    csrfToken: csrfTokenOf(token),
  };
}

/** Whether a change request carries its session's CSRF token. */
export function csrfTokenMatches(caller: UserCaller, presented: string | undefined): boolean {
  if (!presented) return false;
  const expected = Buffer.from(caller.csrfToken);
  const given = Buffer.from(presented);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export async function signOut(ctx: EngineContext, caller: UserCaller): Promise<void> {
  await deleteSession(ctx.store.db, caller.sessionId);
}

/** Replaces the signed-in person's password; every other session of theirs ends. */
export async function changePassword(
  ctx: EngineContext,
  caller: UserCaller,
  current: string,
  next: string,
): Promise<void> {
  const user = await getUser(ctx.store.db, caller.user.id);
  if (!user) throw new ConflictError('this user was removed; sign in again');
  if (!(await verifyPassword(current, user.password_hash))) {
    throw new UsageError('currentPassword: that is not your current password', 'currentPassword');
  }
  checkNewPassword(next, 'newPassword');
  if (next === current)
    throw new UsageError('newPassword: choose a password other than the current one', 'newPassword');
  const patch = {
    password_hash: await hashPassword(next),
    must_change_password: 0,
    updated_at: ctx.clock.now(),
  };
  await ctx.store.db.transaction().execute(async (trx) => {
    await updateUser(trx, user.id, patch);
    await deleteUserSessions(trx, user.id, caller.sessionId);
  });
}

function sessionId(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function csrfTokenOf(token: string): string {
  return createHmac('sha256', token).update('certkeep csrf').digest('base64url');
}
