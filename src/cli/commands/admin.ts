// certkeep admin: tenants (subscriptions) and their API keys, for `certkeep serve`.
import type { Command } from 'commander';
import { createApiKey, createSubscription, listSubscriptions, revokeApiKey } from '../../engine/tenancy.ts';
import { table } from '../output.ts';
import { withSession } from '../session.ts';

export function registerAdmin(program: Command): void {
  const admin = program.command('admin').description('subscriptions (tenants) and API keys for the server');
  const subscription = admin.command('subscription').description('tenants of the server');
  const apikey = admin.command('apikey').description('API keys of a subscription');

  subscription
    .command('create')
    .description('a new subscription and its first (write) API key, shown once')
    .argument('<name>')
    .action(async (name: string, _options, command: Command) => {
      await withSession(command.optsWithGlobals(), async (session) => {
        const created = await createSubscription(session.ctx, name);
        session.output.result({ id: created.id, name: created.name, apiKey: created.key.apiKey, keyId: created.key.id }, [
          `✔ subscription ${created.name}: ${created.id}`,
          `  API key (shown once, keep it safe): ${created.key.apiKey}`,
        ]);
      });
    });

  subscription
    .command('list')
    .description('every subscription')
    .action(async (_options, command: Command) => {
      await withSession(command.optsWithGlobals(), async (session) => {
        const subscriptions = await listSubscriptions(session.ctx);
        session.output.result(
          { subscriptions },
          table([['ID', 'NAME', 'KEYS', 'CREATED'], ...subscriptions.map((s) => [s.id, s.name, String(s.activeKeys), s.createdAt])]),
        );
      });
    });

  apikey
    .command('create')
    .description('another API key for a subscription, shown once')
    .requiredOption('--subscription <id>', 'the subscription')
    .option('--scope <scope>', 'read | write (write may also read)', 'write')
    .action(async (options: { subscription: string; scope: string }, command: Command) => {
      await withSession(command.optsWithGlobals(), async (session) => {
        const key = await createApiKey(session.ctx, options.subscription, options.scope);
        session.output.result(key, [`✔ API key ${key.id} (${key.scopes.join(', ')}) for ${key.subscriptionId}`, `  ${key.apiKey}  (shown once)`]);
      });
    });

  apikey
    .command('revoke')
    .description('revoke an API key at once')
    .argument('<keyId>')
    .action(async (keyId: string, _options, command: Command) => {
      await withSession(command.optsWithGlobals(), async (session) => {
        await revokeApiKey(session.ctx, keyId);
        session.output.result({ id: keyId, revoked: true }, `✔ revoked ${keyId}`);
      });
    });
}
