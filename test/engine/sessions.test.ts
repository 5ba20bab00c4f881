// Users and sign-in over a real store: passwords hashed with scrypt, sessions
// stored hashed, the lockout after five wrong passwords, a password change or
// a reset ending sessions, one-time passwords that must be replaced.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { closeEngineContext, createEngineContext, type EngineContext } from '../../src/engine/context.ts';
import {
  authenticateSession,
  changePassword,
  LOCKOUT_MS,
  SignInLockedError,
  SignInRefusedError,
  signIn,
  signOut,
} from '../../src/engine/sessions.ts';
import { createSubscription } from '../../src/engine/tenancy.ts';
import { createUser, listUsers, removeUser, resetUser } from '../../src/engine/users.ts';
import { openStore, type Store } from '../../src/store/database.ts';
import { manualClock } from '../rig/clock.ts';
import { tempDir } from '../rig/tmp.ts';

const PASSWORD = 'a long enough password';

describe('users and sessions', () => {
  let store: Store;
  let ctx: EngineContext;
  let subscriptionId: string;
  let remove: () => Promise<void>;
  const clock = manualClock();
  before(async () => {
    const dir = await tempDir();
    remove = dir.remove;
    store = await openStore({ dataDir: dir.path });
    ctx = createEngineContext(store, { clock });
    subscriptionId = (await createSubscription(ctx, 'people')).id;
  });
  after(async () => {
    await closeEngineContext(ctx);
    await store.close();
    await remove();
  });

  test('a user signs in; only scrypt hashes of the password and the session token are stored', async () => {
    const { user } = await createUser(ctx, {
      subscriptionId,
      email: ' Ops@Example.COM ',
      role: 'operator',
      password: PASSWORD,
    });
    assert.equal(user.email, 'ops@example.com');
    const session = await signIn(ctx, 'OPS@example.com', PASSWORD);
    assert.match(session.token, /^cks_[A-Za-z0-9_-]{43}$/);
    const caller = await authenticateSession(ctx, session.token);
    assert.deepEqual(caller?.scopes, ['read', 'write']);
    assert.equal(caller?.user.email, 'ops@example.com');
    assert.equal(caller?.csrfToken, session.csrfToken);
    const rows = JSON.stringify([
      await store.db.selectFrom('users').selectAll().execute(),
      await store.db.selectFrom('sessions').selectAll().execute(),
    ]);
    assert.ok(
      !rows.includes(PASSWORD) && !rows.includes(session.token.slice(4)),
      'no secret is stored in the clear',
    );
    assert.match(rows, /scrypt\$32768\$8\$1\$/);
    await signOut(ctx, caller!);
    assert.equal(await authenticateSession(ctx, session.token), undefined, 'signed out');
  });

  test('five wrong passwords lock the account: the sixth attempt is refused even with the right password, until the lock ends', async () => {
    await createUser(ctx, {
      subscriptionId,
      email: 'guessed@example.com',
      role: 'viewer',
      password: PASSWORD,
    });
    for (let i = 0; i < 5; i++)
      await assert.rejects(signIn(ctx, 'guessed@example.com', `wrong ${i}`), SignInRefusedError);
    await assert.rejects(signIn(ctx, 'guessed@example.com', PASSWORD), (error: SignInLockedError) => {
      assert.ok(error instanceof SignInLockedError);
      assert.equal(error.retryAfterSeconds, LOCKOUT_MS / 1000);
      assert.match(error.message, /too many wrong passwords for this account: try again in 15 minutes/);
      return true;
    });
    assert.ok(
      (await listUsers(ctx, subscriptionId)).find((u) => u.email === 'guessed@example.com')?.lockedUntil,
    );
    clock.advance(LOCKOUT_MS + 1);
    assert.ok((await signIn(ctx, 'guessed@example.com', PASSWORD)).token);
  });

  test('an unknown email and a wrong password get the same answer', async () => {
    const unknown = await signIn(ctx, 'nobody@example.com', PASSWORD).catch((e: Error) => e);
    const wrong = await signIn(ctx, 'ops@example.com', 'not the password').catch((e: Error) => e);
    assert.ok(unknown instanceof SignInRefusedError && wrong instanceof SignInRefusedError);
    assert.equal(unknown.message, wrong.message);
  });

  test('a password change ends the other sessions; a reset ends all and makes a one-time password that must be changed', async () => {
    const first = await signIn(ctx, 'ops@example.com', PASSWORD);
    const second = await signIn(ctx, 'ops@example.com', PASSWORD);
    const caller = (await authenticateSession(ctx, first.token))!;
    await assert.rejects(
      changePassword(ctx, caller, 'not it', 'another long password'),
      /currentPassword: that is not your current password/,
    );
    await assert.rejects(
      changePassword(ctx, caller, PASSWORD, 'short'),
      /newPassword: a password needs at least 12 characters \(this one has 5\)/,
    );
    await changePassword(ctx, caller, PASSWORD, 'another long password');
    assert.ok(await authenticateSession(ctx, first.token), 'the session that changed it stays');
    assert.equal(await authenticateSession(ctx, second.token), undefined, 'the other one ended');

    const { oneTimePassword } = await resetUser(ctx, 'ops@example.com');
    assert.match(oneTimePassword, /^[a-z2-7]{4}(-[a-z2-7]{4}){3}$/);
    assert.equal(await authenticateSession(ctx, first.token), undefined, 'a reset ends every session');
    const fresh = await signIn(ctx, 'ops@example.com', oneTimePassword);
    assert.equal(fresh.user.mustChangePassword, true);
    const person = (await authenticateSession(ctx, fresh.token))!;
    await changePassword(ctx, person, oneTimePassword, 'my very own password');
    assert.equal((await authenticateSession(ctx, fresh.token))?.user.mustChangePassword, false);
  });

  test('sessions expire; removing a user ends their sessions', async () => {
    await createUser(ctx, {
      subscriptionId,
      email: 'leaving@example.com',
      role: 'admin',
      password: PASSWORD,
    });
    const session = await signIn(ctx, 'leaving@example.com', PASSWORD);
    clock.advance(13 * 3600 * 1000);
    assert.equal(await authenticateSession(ctx, session.token), undefined, 'expired after 12 hours');
    const again = await signIn(ctx, 'leaving@example.com', PASSWORD);
    await removeUser(ctx, 'leaving@example.com');
    assert.equal(await authenticateSession(ctx, again.token), undefined);
  });

  test('bad input names the field', async () => {
    await assert.rejects(
      createUser(ctx, { subscriptionId, email: 'not-an-email', role: 'viewer' }),
      /email: "not-an-email" is not an email address/,
    );
    await assert.rejects(
      createUser(ctx, { subscriptionId, email: 'x@example.com', role: 'root' }),
      /role: "root" is not a role; use viewer/,
    );
    await assert.rejects(
      createUser(ctx, { subscriptionId, email: 'x@example.com', role: 'viewer', password: 'eleven char' }),
      /password: a password needs at least 12 characters/,
    );
    await assert.rejects(
      createUser(ctx, { subscriptionId: 'sub_missing', email: 'x@example.com', role: 'viewer' }),
      /no subscription sub_missing/,
    );
    await assert.rejects(
      createUser(ctx, { subscriptionId, email: 'OPS@example.com', role: 'viewer' }),
      /a user with the email ops@example.com exists already/,
    );
    await assert.rejects(
      removeUser(ctx, 'ops@example.com', 'sub_other'),
      /no user ops@example.com in this subscription/,
    );
  });
});
