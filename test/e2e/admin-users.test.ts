// certkeep admin user: create (a password from one line of stdin, or a
// one-time password printed once), list, reset, remove; bad input is one line.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { closeEngineContext, createEngineContext } from '../../src/engine/context.ts';
import { signIn } from '../../src/engine/sessions.ts';
import { openStore } from '../../src/store/database.ts';
import { tempDir } from '../rig/tmp.ts';
import { oneLine, runCli } from './harness.ts';

const CLI = new URL('../../src/main.ts', import.meta.url).pathname;

describe('certkeep admin user', () => {
  let dataDir: string;
  let remove: () => Promise<void>;
  let subscription: string;
  before(async () => {
    ({ path: dataDir, remove } = await tempDir());
    subscription = (await admin(['subscription', 'create', 'people', '--json'])).json().id;
  });
  after(() => remove());
  const admin = (args: string[]) => runCli(['admin', ...args], { CERTKEEP_DATA_DIR: dataDir });
  const withStdin = (args: string[], input: string) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [CLI, 'admin', ...args], {
        env: { ...process.env, CERTKEEP_DATA_DIR: dataDir },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c) => (stdout += c));
      child.stderr.on('data', (c) => (stderr += c));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(input);
    });
  /** Signs in against the data dir's store, as the server would. */
  const canSignIn = async (email: string, password: string) => {
    const store = await openStore({ dataDir });
    const ctx = createEngineContext(store);
    try {
      return (await signIn(ctx, email, password)).user;
    } finally {
      await closeEngineContext(ctx);
      await store.close();
    }
  };

  test('--password-stdin reads one line; the line break is not part of the password', async () => {
    const created = await withStdin(
      [
        'user',
        'create',
        'Admin@Example.com',
        '--subscription',
        subscription,
        '--role',
        'admin',
        '--password-stdin',
        '--json',
      ],
      'two words and more\r\nignored\n',
    );
    assert.equal(created.code, 0, created.stderr);
    const { user } = JSON.parse(created.stdout);
    assert.equal(user.email, 'admin@example.com');
    assert.equal(user.mustChangePassword, false);
    assert.ok(!created.stdout.includes('two words'), 'the password is not printed');
    assert.equal((await canSignIn('admin@example.com', 'two words and more')).role, 'admin');
  });

  test('without --password-stdin a one-time password is printed once; it must be changed at the first sign-in', async () => {
    const created = await admin([
      'user',
      'create',
      'viewer@example.com',
      '--subscription',
      subscription,
      '--role',
      'viewer',
    ]);
    assert.equal(created.code, 0, created.stderr);
    const password = /one-time password \(shown once; it must be changed at the first sign-in\): (\S+)/.exec(
      created.stdout,
    )?.[1];
    assert.ok(password, created.stdout);
    assert.equal((await canSignIn('viewer@example.com', password)).mustChangePassword, true);

    const list = await admin(['user', 'list', '--subscription', subscription]);
    assert.match(list.stdout, /viewer@example\.com\s+viewer\s+sub_\w+\s+\S+\s+must change password/);
    assert.ok(!list.stdout.includes(password));

    const reset = await admin(['user', 'reset', 'viewer@example.com', '--json']);
    assert.equal(reset.code, 0, reset.stderr);
    const fresh = reset.json().oneTimePassword;
    assert.notEqual(fresh, password);
    await assert.rejects(canSignIn('viewer@example.com', password), /not right/);
    assert.ok(await canSignIn('viewer@example.com', fresh));

    assert.equal((await admin(['user', 'remove', 'viewer@example.com'])).code, 0);
    assert.ok(!(await admin(['user', 'list'])).stdout.includes('viewer@example.com'));
  });

  test('bad input → exit 2 (usage) or 1, with one line naming what to change', async () => {
    const role = await admin([
      'user',
      'create',
      'x@example.com',
      '--subscription',
      subscription,
      '--role',
      'root',
    ]);
    assert.equal(role.code, 2);
    assert.match(oneLine(role.stderr), /role: "root" is not a role; use viewer/);
    const short = await withStdin(
      [
        'user',
        'create',
        'x@example.com',
        '--subscription',
        subscription,
        '--role',
        'viewer',
        '--password-stdin',
      ],
      'short\n',
    );
    assert.equal(short.code, 2);
    assert.match(
      oneLine(short.stderr),
      /password: a password needs at least 12 characters \(this one has 5\)/,
    );
    const empty = await withStdin(
      [
        'user',
        'create',
        'x@example.com',
        '--subscription',
        subscription,
        '--role',
        'viewer',
        '--password-stdin',
      ],
      '',
    );
    assert.equal(empty.code, 2);
    assert.match(oneLine(empty.stderr), /standard input held no password/);
    const taken = await admin([
      'user',
      'create',
      'ADMIN@example.com',
      '--subscription',
      subscription,
      '--role',
      'viewer',
    ]);
    assert.equal(taken.code, 1);
    assert.match(oneLine(taken.stderr), /admin@example\.com exists already/);
    const missing = await admin(['user', 'remove', 'nobody@example.com']);
    assert.equal(missing.code, 1);
    assert.match(oneLine(missing.stderr), /no user nobody@example\.com/);
    const noSubscription = await admin(['user', 'create', 'y@example.com', '--role', 'viewer']);
    assert.equal(noSubscription.code, 2);
    assert.match(oneLine(noSubscription.stderr), /--subscription/);
  });
});
