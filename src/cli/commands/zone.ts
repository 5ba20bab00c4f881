// certkeep zone add|list|remove|test: the zones DNS-01 writes to.
import type { Command } from 'commander';
import { addZone, listManagedZones, removeZone, testZone, type ZoneSummary } from '../../engine/index.ts';
import { SETTING_FLAGS } from '../flags.ts';
import { table } from '../output.ts';
import { withSession } from '../session.ts';
import { collect } from './options.ts';

export function registerZone(program: Command): void {
  const zone = program.command('zone').description('the DNS zones DNS-01 writes challenge records to');

  const add = zone
    .command('add')
    .description('manage a zone: its provider and credentials (stored encrypted, never shown again)')
    .argument('<zone>', 'the zone, e.g. example.com')
    .requiredOption('--provider <name>', 'rfc2136 | powerdns | exec | delegated')
    .option('--nameserver <host:port>', 'check propagation on this server (repeat); default: the zone’s NS', collect, []);
  for (const [flag, , help] of SETTING_FLAGS) add.option(flag, help);
  add.action(async (name: string, options: Record<string, string | string[]>, command: Command) => {
    const settings: Record<string, string> = {};
    for (const [flag, setting] of SETTING_FLAGS) {
      const key = flag.slice(2, flag.indexOf(' ')).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
      if (typeof options[key] === 'string') settings[setting] = options[key] as string;
    }
    await withSession(command.optsWithGlobals(), async (session) => {
      const summary = await addZone(session.engine, session.subscriptionId, {
        zone: name,
        provider: options.provider as string,
        settings,
        nameservers: options.nameserver as string[],
      });
      session.output.result(summary, [
        `✔ managing ${summary.zone} through ${summary.provider}`,
        ...(summary.delegation ? [`  create this record once at your DNS: ${summary.delegation.record}. CNAME ${summary.delegation.target}.`] : []),
        `  check it with: certkeep zone test ${summary.zone}`,
      ]);
    }, { create: true });
  });

  zone
    .command('list')
    .description('the managed zones (secrets are not shown)')
    .action(async (_options, command: Command) => {
      await withSession(command.optsWithGlobals(), async (session) => {
        const zones = await listManagedZones(session.engine, session.subscriptionId);
        session.output.result(
          { zones },
          zones.length === 0
            ? 'no managed zones; add one with certkeep zone add ZONE --provider …'
            : table([['ZONE', 'PROVIDER', 'SETTINGS'], ...zones.map((z: ZoneSummary) => [z.zone, z.provider, describe(z)])]),
        );
      });
    });

  zone
    .command('remove')
    .description('stop managing a zone (its records at the DNS are left alone)')
    .argument('<zone>')
    .action(async (name: string, _options, command: Command) => {
      await withSession(command.optsWithGlobals(), async (session) => {
        await removeZone(session.engine, session.subscriptionId, name);
        session.output.result({ zone: name, removed: true }, `✔ no longer managing ${name}`);
      });
    });

  zone
    .command('test')
    .description('write a TXT record, wait until every authoritative server serves it, remove it')
    .argument('<zone>')
    .action(async (name: string, _options, command: Command) => {
      await withSession(command.optsWithGlobals(), async (session) => {
        const { fqdn, elapsedMs } = await testZone(session.engine, session.subscriptionId, name, {
          resolvers: session.engine.dns.resolvers,
          timeoutMs: session.engine.dns.propagationTimeoutMs,
        });
        session.output.result(
          { zone: name, record: fqdn, seconds: Number((elapsedMs / 1000).toFixed(3)) },
          `✔ ${name}: wrote ${fqdn}, every nameserver served it, removed it — ${(elapsedMs / 1000).toFixed(3)} s`,
        );
      });
    });
}

function describe(zone: ZoneSummary): string {
  const parts = Object.entries(zone.settings).map(([k, v]) => `${k}=${v}`);
  if (zone.nameservers.length > 0) parts.push(`nameservers=${zone.nameservers.join(',')}`);
  return parts.join(' ');
}
