// certkeep admin user: the people who sign in to the portal of `certkeep serve`.
import type { Command } from 'commander';
import { createUser, listUsers, removeUser, resetUser, type UserView } from '../../engine/index.ts';
import { UsageError } from '../../errors.ts';
import { table } from '../output.ts';
import { withSession } from '../session.ts';

export function registerUsers(admin: Command): void {
  const user = admin.command('user').description('people who sign in to the web portal');

  user
    .command('create')
    .description(
      'a new user; without --password-stdin a one-time password is printed, to be changed at the first sign-in',
    )
    .argument('<email>')
    .requiredOption('--subscription <id>', 'the subscription the user belongs to')
    .requiredOption(
      '--role <role>',
      'viewer (reads) | operator (also changes certificates) | admin (also users, keys, zones, webhooks)',
    )
    .option('--password-stdin', 'read the password from one line of standard input (at least 12 characters)')
    .action(
      async (
        email: string,
        options: { subscription: string; role: string; passwordStdin?: boolean },
        command: Command,
      ) => {
        const password = options.passwordStdin ? await readPasswordLine() : undefined;
        await withSession(command.optsWithGlobals(), async (session) => {
          const created = await createUser(session.engine, {
            subscriptionId: options.subscription,
            email,
            role: options.role,
            password,
          });
          const { oneTimePassword } = created;
          session.output.result(created, [
            `✔ ${created.user.email} (${created.user.role}) in ${created.user.subscriptionId}: ${created.user.id}`,
            ...(oneTimePassword
              ? [
                  `  one-time password (shown once; it must be changed at the first sign-in): ${oneTimePassword}`,
                ]
              : []),
          ]);
        });
      },
    );

  user
    .command('list')
    .description('every user, or those of one subscription')
    .option('--subscription <id>', 'only this subscription')
    .action(async (options: { subscription?: string }, command: Command) => {
      await withSession(command.optsWithGlobals(), async (session) => {
        const users = await listUsers(session.engine, options.subscription);
        session.output.result(
          { users },
          users.length === 0
            ? 'no users yet; add one with certkeep admin user create EMAIL --subscription ID --role admin'
            : table([['ID', 'EMAIL', 'ROLE', 'SUBSCRIPTION', 'LAST SIGN-IN', 'STATUS'], ...users.map(row)]),
        );
      });
    });

  user
    .command('remove')
    .description('remove a user (by email or id); their sessions end at once')
    .argument('<user>')
    .action(async (reference: string, _options, command: Command) => {
      await withSession(command.optsWithGlobals(), async (session) => {
        const removed = await removeUser(session.engine, reference);
        session.output.result(
          { id: removed.id, email: removed.email, removed: true },
          `✔ removed ${removed.email}`,
        );
      });
    });

  user
    .command('reset')
    .description(
      'a new one-time password for a user (by email or id): their sessions end and a lockout is lifted',
    )
    .argument('<user>')
    .action(async (reference: string, _options, command: Command) => {
      await withSession(command.optsWithGlobals(), async (session) => {
        const reset = await resetUser(session.engine, reference);
        session.output.result(reset, [
          `✔ ${reset.user.email}: signed out everywhere`,
          `  one-time password (shown once; it must be changed at the next sign-in): ${reset.oneTimePassword}`,
        ]);
      });
    });
}

function row(user: UserView): string[] {
  const status = user.lockedUntil
    ? `locked until ${user.lockedUntil}`
    : user.mustChangePassword
      ? 'must change password'
      : 'active';
  return [user.id, user.email, user.role, user.subscriptionId, user.lastSignInAt ?? '-', status];
}

/** One line of standard input; the line break that ends it is not part of the password. */
async function readPasswordLine(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('password: ');
  let text = '';
  for await (const chunk of process.stdin) {
    text += chunk;
    if (text.includes('\n')) break;
  }
  const line = text.split('\n')[0].replace(/\r$/, '');
  if (line === '')
    throw new UsageError(
      '--password-stdin: standard input held no password; send it as one line, e.g. printf "%s\\n" "$PASSWORD" | certkeep admin user create …',
      'password',
    );
  return line;
}
