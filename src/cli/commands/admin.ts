// certkeep admin: tenants (subscriptions) and their API keys, for `certkeep serve`.
import type { Command } from 'commander';
import { createApiKey, createSubscription, listSubscriptions, revokeApiKey } from '../../engine/index.ts';
import { UsageError } from '../../errors.ts';
import { notificationRecipients, setNotificationRecipients } from '../../notify/recipients.ts';
import { table } from '../output.ts';
import { withSession } from '../session.ts';
import { collect } from './options.ts';
import { registerUsers } from './users.ts';
import { registerAgents } from './agents.ts';

export function registerAdmin(program: Command): void {
  const admin = program.command('admin').description('subscriptions (tenants), API keys, portal users and host agents for the server');
  const subscription = admin.command('subscription').description('tenants of the server');
  const apikey = admin.command('apikey').description('API keys of a subscription');

  subscription
    .command('create')
    .description('a new subscription and its first (write) API key, shown once')
    .argument('<name>')
    .action(async (name: string, _options, command: Command) => {
      await withSession(command.optsWithGlobals(), async (session) => {
        const created = await createSubscription(session.engine, name);
        session.output.result({ id: created.id, name: created.name, apiKey: created.key.apiKey, keyId: created.key.id }, [
          `✔ subscription ${created.name}: ${created.id}`,
          `  admin API key (shown once, keep it safe): ${created.key.apiKey}`,
          `  portal users: certkeep admin user create EMAIL --subscription ${created.id} --role admin`,
        ]);
      }, { create: true });
    });

  subscription
    .command('list')
    .description('every subscription')
    .action(async (_options, command: Command) => {
      await withSession(command.optsWithGlobals(), async (session) => {
        const subscriptions = await listSubscriptions(session.engine);
        session.output.result(
          { subscriptions },
          table([['ID', 'NAME', 'KEYS', 'CREATED'], ...subscriptions.map((s) => [s.id, s.name, String(s.activeKeys), s.createdAt])]),
        );
      });
    });

  subscription
    .command('notify')
    .description('who gets notification mail for a subscription: replaces the list, or shows it when no address is given')
    .argument('<id>', 'the subscription')
    .option('--email <address>', 'a recipient; repeat it (or separate with commas) for more, at most 20')
    .option('--none', 'no mail for this subscription')
    .action(async (id: string, options: { none?: boolean }, command: Command) => {
      const emails = emailsGiven(command);
      if (options.none && emails.length > 0) throw new UsageError('--none and --email exclude each other', 'email');
      await withSession(command.optsWithGlobals(), async (session) => {
        const change = options.none || emails.length > 0;
        const result = change
          ? await setNotificationRecipients(session.engine, id, emails, '--email')
          : await notificationRecipients(session.engine, id);
        session.output.result(
          { id, emails: result },
          result.length > 0 ? `${change ? '✔ ' : ''}${id} notifies ${result.join(', ')}` : `${change ? '✔ ' : ''}${id} sends no mail`,
        );
      });
    });

  apikey
    .command('create')
    .description('another API key for a subscription, shown once')
    .requiredOption('--subscription <id>', 'the subscription')
    .option('--scope <scope>', 'read | write (also changes certificates, downloads keys) | admin (also zones, webhooks, keys, users)', 'write')
    .option('--label <text>', 'what the key is for, shown in the portal')
    .action(async (options: { subscription: string; scope: string; label?: string }, command: Command) => {
      await withSession(command.optsWithGlobals(), async (session) => {
        const key = await createApiKey(session.engine, options.subscription, options.scope, options.label);
        session.output.result(key, [`✔ API key ${key.id} (${key.scopes.join(', ')}) for ${key.subscriptionId}`, `  ${key.apiKey}  (shown once)`]);
      });
    });

  apikey
    .command('revoke')
    .description('revoke an API key: refused at once here, and within a second by running servers')
    .argument('<keyId>')
    .action(async (keyId: string, _options, command: Command) => {
      await withSession(command.optsWithGlobals(), async (session) => {
        await revokeApiKey(session.engine, keyId);
        session.output.result({ id: keyId, revoked: true }, `✔ revoked ${keyId}`);
      });
    });

  registerUsers(admin);
  registerAgents(admin);
}

/**
 * The --email values given after the subcommand. The program's global --email
 * (the ACME account contact) takes every --email commander sees, so they are
 * read from the arguments as typed.
 */
function emailsGiven(command: Command): string[] {
  let root = command;
  while (root.parent) root = root.parent;
  const args = (root as unknown as { rawArgs: string[] }).rawArgs;
  const start = args.indexOf(command.name(), args.indexOf(command.parent?.name() ?? ''));
  let emails: string[] = [];
  for (let i = start + 1; i < args.length; i++) {
    if (args[i] === '--') break;
    if (args[i] === '--email' && i + 1 < args.length) emails = collect(args[++i], emails);
    else if (args[i].startsWith('--email=')) emails = collect(args[i].slice('--email='.length), emails);
  }
  return emails;
}
