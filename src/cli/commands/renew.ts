// certkeep renew and resume, made for timers: renew what is due (or what a
// killed process left open), then bring every deploy target of those
// certificates to its current version — a target that failed is tried again at
// every run. --json lists deployments beside renewals; --quiet prints nothing
// unless something failed; exit 1 when a renewal or a deployment failed.
import type { Command } from 'commander';
import { type DeploymentResult, type IssueOutcome, namesWithOpenOrders, renewableNames, renewCertificate } from '../../engine/index.ts';
import { UsageError } from '../../errors.ts';
import { crashSeam, type Session, withSession } from '../session.ts';
import { deploymentLines, deploymentSummary, deployTargets } from './deploy.ts';
import { printOutcome } from './issue.ts';

interface RenewResult {
  name: string;
  status: IssueOutcome['status'] | 'failed';
  serial?: string;
  error?: string;
}

const QUIET = ['--quiet', 'print nothing unless a renewal or a deployment failed (for cron and timers)'] as const;

export function registerRenew(program: Command): void {
  program
    .command('renew')
    .description('renew certificates that are due (all with --all), then deploy them; for cron or a systemd timer')
    .argument('[names...]', 'certificates to renew')
    .option('--all', 'every certificate that is due, and every deploy target of this machine')
    .option('--force', 'renew even when not due')
    .option(...QUIET)
    .action(async (names: string[], options: { all?: boolean; force?: boolean; quiet?: boolean }, command: Command) => {
      if (names.length === 0 && !options.all) throw new UsageError('renew: name the certificates to renew, or pass --all', 'names');
      if (names.length > 0 && options.all) throw new UsageError('renew: give names or --all, not both', 'names');
      await withSession(command.optsWithGlobals(), async (session) => {
        session.output.quiet = options.quiet === true;
        const chosen = options.all ? await renewableNames(session.engine, session.subscriptionId) : names;
        const results = await renewEach(session, chosen, options.force === true, !options.all);
        const deployments = await deployTargets(session, { names: options.all ? undefined : names });
        report(session, results, deployments);
      });
    });

  program
    .command('resume')
    .description('finish orders that a stopped or killed process left open, then deploy them')
    .option(...QUIET)
    .action(async (options: { quiet?: boolean }, command: Command) => {
      await withSession(command.optsWithGlobals(), async (session) => {
        session.output.quiet = options.quiet === true;
        const names = await namesWithOpenOrders(session.engine, session.subscriptionId);
        const results = await renewEach(session, names, false, false);
        report(session, results, names.length === 0 ? [] : await deployTargets(session, { names }));
      });
    });
}

/** `byName`: the certificates were named, and one named alone is reported as `certkeep issue` reports it. */
async function renewEach(session: Session, names: string[], force: boolean, byName: boolean): Promise<{ results: RenewResult[]; single?: IssueOutcome }> {
  const results: RenewResult[] = [];
  let single: IssueOutcome | undefined;
  for (const name of names) {
    try {
      const outcome = await renewCertificate(session.engine, session.subscriptionId, name, { solvers: session.engine.solvers, force, afterStep: crashSeam() });
      if (byName && names.length === 1) single = outcome;
      results.push({ name, status: outcome.status, ...(outcome.status === 'unchanged' ? {} : { serial: outcome.version.serial }) });
    } catch (error) {
      if (error instanceof UsageError) throw error;
      results.push({ name, status: 'failed', error: (error as Error).message });
    }
  }
  return { results, single };
}

function report(session: Session, renewed: { results: RenewResult[]; single?: IssueOutcome }, deployments: DeploymentResult[]): void {
  const { results, single } = renewed;
  // One certificate renewed by name reads as `certkeep issue` does.
  if (single) {
    printOutcome(session, single, deployments);
    return;
  }
  const failed = results.filter((r) => r.status === 'failed').length + deployments.filter((d) => d.status === 'failed').length;
  const counts = (status: string) => results.filter((r) => r.status === status).length;
  const lines = [
    ...results.map((r) => `${r.status === 'failed' ? '✖' : '✔'} ${r.name}: ${r.status}${r.error ? ` — ${r.error}` : ''}`),
    `${results.length} checked: ${counts('renewed') + counts('issued') + counts('resumed')} renewed, ${counts('unchanged')} not due, ${counts('failed')} failed`,
    ...(deployments.length > 0 ? [...deploymentLines(deployments), deploymentSummary(deployments)] : []),
  ];
  if (failed > 0) {
    session.output.failure({ results, deployments }, lines);
    process.exitCode = 1;
  } else {
    session.output.result({ results, deployments }, lines);
  }
}
