// People who sign in to the portal. Each belongs to one subscription with a
// role that maps onto the API keys' scopes (viewer reads, operator also
// changes certificates, admin also manages the subscription), so a person
// and a key with the same scope may do exactly the same things.
import { ConflictError, NotFoundError, UsageError } from '../errors.ts';
import { newId } from '../store/ids.ts';
import { getSubscription } from '../store/repositories/subscriptions.ts';
import {
  deleteUser,
  deleteUserSessions,
  findUserByEmail,
  getUser,
  insertUser,
  listUsers as listUserRows,
  type UserRow,
  updateUser,
} from '../store/repositories/users.ts';
import type { EngineContext } from './context.ts';
import { checkNewPassword, hashPassword, oneTimePassword } from './passwords.ts';
import { isoTime } from '../time/iso.ts';
import { isRole, type Role } from './callers.ts';

export interface UserView {
  id: string;
  subscriptionId: string;
  email: string;
  role: Role;
  /** Signed in with a one-time password that must be replaced first. */
  mustChangePassword: boolean;
  /** Locked after too many wrong passwords, until this time. */
  lockedUntil: string | null;
  lastSignInAt: string | null;
  createdAt: string;
}

export interface NewUser {
  subscriptionId: string;
  email: string;
  role: string;
  /** Without one, a one-time password is made, to be changed at the first sign-in. */
  password?: string;
}

export async function createUser(
  ctx: EngineContext,
  spec: NewUser,
): Promise<{ user: UserView; oneTimePassword?: string }> {
  const email = normalizeEmail(spec.email);
  const role = checkRole(spec.role);
  if (spec.password !== undefined) checkNewPassword(spec.password, 'password');
  if (!(await getSubscription(ctx.store.db, spec.subscriptionId))) {
    throw new NotFoundError(`no subscription ${spec.subscriptionId}; see certkeep admin subscription list`);
  }
  if (await findUserByEmail(ctx.store.db, email)) {
    throw new ConflictError(
      `a user with the email ${email} exists already (emails are unique across the installation); reset or remove that user instead`,
    );
  }
  const temporary = spec.password === undefined ? oneTimePassword() : undefined;
  const now = ctx.clock.now();
  const row: UserRow = {
    id: newId('usr'),
    subscription_id: spec.subscriptionId,
    email,
    role,
    password_hash: await hashPassword(spec.password ?? temporary!),
    must_change_password: temporary ? 1 : 0,
    failed_sign_ins: 0,
    locked_until: null,
    last_sign_in_at: null,
    created_at: now,
    updated_at: now,
  };
  await insertUser(ctx.store.db, row);
  return { user: userView(row, now), ...(temporary ? { oneTimePassword: temporary } : {}) };
}

/** Every user of the installation, or of one subscription. */
export async function listUsers(ctx: EngineContext, subscriptionId?: string): Promise<UserView[]> {
  const now = ctx.clock.now();
  return (await listUserRows(ctx.store.db, subscriptionId)).map((row) => userView(row, now));
}

/**
 * Removes a user (by id or email) and ends their sessions. With
 * `subscriptionId`, only a user of that subscription: another's is reported as missing.
 */
export async function removeUser(
  ctx: EngineContext,
  reference: string,
  subscriptionId?: string,
): Promise<UserView> {
  const user = await mustFindUser(ctx, reference, subscriptionId);
  await deleteUser(ctx.store.db, user.id);
  return userView(user, ctx.clock.now());
}

/** A new one-time password for a user (by id or email): their sessions end and a lockout is lifted. */
export async function resetUser(
  ctx: EngineContext,
  reference: string,
  subscriptionId?: string,
): Promise<{ user: UserView; oneTimePassword: string }> {
  const user = await mustFindUser(ctx, reference, subscriptionId);
  const temporary = oneTimePassword();
  const patch = {
    password_hash: await hashPassword(temporary),
    must_change_password: 1,
    failed_sign_ins: 0,
    locked_until: null,
    updated_at: ctx.clock.now(),
  };
  await ctx.store.db.transaction().execute(async (trx) => {
    await updateUser(trx, user.id, patch);
    await deleteUserSessions(trx, user.id);
  });
  return { user: userView({ ...user, ...patch }, patch.updated_at), oneTimePassword: temporary };
}

export function userView(row: UserRow, now: number): UserView {
  return {
    id: row.id,
    subscriptionId: row.subscription_id,
    email: row.email,
    role: row.role,
    mustChangePassword: row.must_change_password === 1,
    lockedUntil: row.locked_until !== null && row.locked_until > now ? isoTime(row.locked_until) : null,
    lastSignInAt: row.last_sign_in_at === null ? null : isoTime(row.last_sign_in_at),
    createdAt: isoTime(row.created_at),
  };
}

export function normalizeEmail(email: string): string {
  const normalized = email.trim().toLowerCase();
  if (normalized.length > 254 || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(normalized)) {
    throw new UsageError(`email: "${email}" is not an email address like ops@example.com`, 'email');
  }
  return normalized;
}

function checkRole(role: string): Role {
  if (!isRole(role)) {
    throw new UsageError(
      `role: "${role}" is not a role; use viewer (reads), operator (also creates, renews, revokes and deletes certificates) or admin (also users, keys, zones, webhooks)`,
      'role',
    );
  }
  return role;
}

async function mustFindUser(
  ctx: EngineContext,
  reference: string,
  subscriptionId?: string,
): Promise<UserRow> {
  const user = reference.includes('@')
    ? await findUserByEmail(ctx.store.db, reference.trim().toLowerCase())
    : await getUser(ctx.store.db, reference);
  if (!user || (subscriptionId !== undefined && user.subscription_id !== subscriptionId)) {
    throw new NotFoundError(
      `no user ${reference}${subscriptionId ? ' in this subscription' : ''}; see the list of users`,
    );
  }
  return user;
}
