// certkeep admin agent: host agents of the server, and the targets assigned to
// them. A target's --reload and --deploy-hook are names each agent resolves
// through its own --allow-reload and --allow-hook: what runs on a host is
// decided on that host.
import type { Command } from 'commander';
import {
  addAgentTarget,
  type AgentTargetView,
  createAgent,
  findAgentView,
  listAgentViews,
  removeAgent,
  removeAgentTarget,
  rotateAgentToken,
} from '../../engine/index.ts';
import { table } from '../output.ts';
import { withSession } from '../session.ts';
import { collect } from './options.ts';

export function registerAgents(admin: Command): void {
  const agent = admin.command('agent').description('host agents: each web server pulls its certificates and reports back');

  agent
    .command('create')
    .description("enrol a host's agent; its token is shown once (certkeep agent --token)")
    .argument('<host>', "the host's name, shown with its deployments")
    .requiredOption('--subscription <id>', 'the subscription whose certificates it may be assigned')
    .action(async (host: string, options: { subscription: string }, command: Command) => {
      await withSession(command.optsWithGlobals(), async (session) => {
        const created = await createAgent(session.engine, options.subscription, host);
        session.output.result({ id: created.id, token: created.token }, [
          `✔ agent ${created.id} for ${created.host}`,
          `  token (shown once, keep it safe): ${created.token}`,
          `  on ${created.host}: certkeep agent --server URL --token TOKEN --allow-dir /etc/ssl --allow-reload nginx='nginx -s reload'`,
        ]);
      });
    });

  agent
    .command('list')
    .description('every agent, when it was last seen and what it serves')
    .action(async (_options, command: Command) => {
      await withSession(command.optsWithGlobals(), async (session) => {
        const agents = await listAgentViews(session.engine);
        session.output.result(
          { agents },
          table([
            ['ID', 'HOST', 'SUBSCRIPTION', 'LAST SEEN', 'TARGETS'],
            ...agents.map((a) => [a.id, a.host, a.subscriptionId, a.lastSeenAt ?? 'never', servesText(a.targets)]),
          ]),
        );
      });
    });

  agent
    .command('remove')
    .description('remove an agent: its token is refused at once, its targets go (the files on its host stay)')
    .argument('<id>')
    .action(async (id: string, _options, command: Command) => {
      await withSession(command.optsWithGlobals(), async (session) => {
        await removeAgent(session.engine, id);
        session.output.result({ id, removed: true }, `✔ removed agent ${id}`);
      });
    });

  agent
    .command('rotate')
    .description('a new token for an agent, shown once; the old one is refused at once')
    .argument('<id>')
    .action(async (id: string, _options, command: Command) => {
      await withSession(command.optsWithGlobals(), async (session) => {
        const rotated = await rotateAgentToken(session.engine, id);
        session.output.result({ id: rotated.id, token: rotated.token }, [
          `✔ new token for agent ${rotated.id} (${rotated.host}); the old one no longer works`,
          `  ${rotated.token}  (shown once)`,
        ]);
      });
    });

  registerTargets(agent);
}

function registerTargets(agent: Command): void {
  const target = agent.command('target').description("what an agent deploys, and where on its host");

  target
    .command('add')
    .description("assign a certificate to a directory on the agent's host (or change the target already there)")
    .argument('<agent>', 'the agent id')
    .argument('<certificate>', "the certificate's name")
    .requiredOption('--to <dir>', "the directory on the agent's host; must lie under one of its --allow-dir")
    .option('--format <format>', 'pem (cert.pem, chain.pem, fullchain.pem, privkey.pem) | combined | pfx', 'pem')
    .option('--reload <name>', "a reload the agent's host names with --allow-reload NAME=CMD")
    .option('--deploy-hook <name>', "a hook the agent's host names with --allow-hook NAME=CMD")
    .option('--verify <host:port>', 'an address that must serve the new serial (repeatable; the agent connects only where its host allows)', collect, [])
    .action(async (agentId: string, certificate: string, options: { to: string; format: string; reload?: string; deployHook?: string; verify: string[] }, command: Command) => {
      await withSession(command.optsWithGlobals(), async (session) => {
        const owner = await findAgentView(session.engine, agentId);
        const view = await addAgentTarget(session.engine, owner.subscriptionId, agentId, { certificate, ...options });
        session.output.result(view, `✔ ${view.certificate} → ${owner.host}:${view.directory} (${view.id})`);
      });
    });

  target
    .command('list')
    .description("an agent's targets and where each deployment stands")
    .argument('<agent>', 'the agent id')
    .action(async (agentId: string, _options, command: Command) => {
      await withSession(command.optsWithGlobals(), async (session) => {
        const { targets } = await findAgentView(session.engine, agentId);
        session.output.result(
          { targets },
          table([
            ['ID', 'CERTIFICATE', 'TO', 'FORMAT', 'RELOAD', 'STATUS', 'SERIAL', 'ERROR'],
            ...targets.map((t) => [t.id, t.certificate, t.directory, t.format, t.reload ?? '-', t.status, t.serial ?? '-', t.error ?? '']),
          ]),
        );
      });
    });

  target
    .command('remove')
    .description('stop deploying there: the agent stops managing the directory and leaves its files')
    .argument('<agent>', 'the agent id')
    .argument('<target>', 'the target id')
    .action(async (agentId: string, targetId: string, _options, command: Command) => {
      await withSession(command.optsWithGlobals(), async (session) => {
        const owner = await findAgentView(session.engine, agentId);
        await removeAgentTarget(session.engine, owner.subscriptionId, agentId, targetId);
        session.output.result({ agent: agentId, target: targetId, removed: true }, `✔ removed target ${targetId} of agent ${agentId}`);
      });
    });
}

function servesText(targets: AgentTargetView[]): string {
  if (targets.length === 0) return 'none';
  return targets.map((t) => `${t.certificate} (${t.status})`).join(', ');
}
