// certkeep renew and resume, made for timers: renew what is due (or what a
// killed process left open), then bring every deploy target of those
// certificates to its current version — a target that failed is tried again at
// every run. --json is always {"results":[…],"deployments":[…]}, whatever the
// number of certificates; --quiet prints nothing unless something failed; exit
// 1 when a renewal or a deployment failed.
import type { Command } from 'commander';
import {
  type DeploymentResult,
  type IssueOutcome,
  namesWithOpenOrders,
  OrderInterruptedError,
  renewableNames,
  renewCertificate,
} from '../../engine/index.ts';
import { NotFoundError, UsageError } from '../../errors.ts';
import { type Interruption, interruptible } from '../interrupt.ts';
import { isoOrDash } from '../output.ts';
import { crashSeam, type Session, withSession } from '../session.ts';
import { deploymentLines, deploymentSummary, deployTargets } from './deploy.ts';

interface RenewResult {
  name: string;
  status: IssueOutcome['status'] | 'failed';
  serial?: string;
  notAfter?: string;
  reason?: string;
  error?: string;
  /** No certificate of that name: it has no targets either (not printed). */
  missing?: boolean;
}

const QUIET = [
  '--quiet',
  'print nothing unless a renewal or a deployment failed (for cron and timers)',
] as const;

export function registerRenew(program: Command): void {
  program
    .command('renew')
    .description(
      'renew certificates that are due (all with --all), then deploy them; for cron or a systemd timer',
    )
    .argument('[names...]', 'certificates to renew')
    .option(
      '--all',
      'every certificate that is due (revoked ones are left alone), and every deploy target of this machine',
    )
    .option('--force', 'renew even when not due')
    .option(...QUIET)
    .action(
      async (
        names: string[],
        options: { all?: boolean; force?: boolean; quiet?: boolean },
        command: Command,
      ) => {
        if (names.length === 0 && !options.all)
          throw new UsageError('renew: name the certificates to renew, or pass --all', 'names');
        if (names.length > 0 && options.all)
          throw new UsageError('renew: give names or --all, not both', 'names');
        await withSession(
          command.optsWithGlobals(),
          async (session) => {
            const chosen = options.all ? await renewableNames(session.engine, session.subscriptionId) : names;
            const results = await renewEach(session, chosen, options.force === true);
            // Every target of this machine with --all; else those of the named certificates that exist.
            const stored = options.all ? undefined : results.filter((r) => !r.missing).map((r) => r.name);
            const deployments = stored?.length === 0 ? [] : await deployTargets(session, { names: stored });
            report(session, results, deployments);
          },
          { quiet: options.quiet },
        );
      },
    );

  program
    .command('resume')
    .description('finish orders that a stopped or killed process left open, then deploy them')
    .option(...QUIET)
    .action(async (options: { quiet?: boolean }, command: Command) => {
      await withSession(
        command.optsWithGlobals(),
        async (session) => {
          const names = await namesWithOpenOrders(session.engine, session.subscriptionId);
          const results = await renewEach(session, names, false);
          report(session, results, names.length === 0 ? [] : await deployTargets(session, { names }));
        },
        { quiet: options.quiet },
      );
    });
}

function renewEach(session: Session, names: string[], force: boolean): Promise<RenewResult[]> {
  return interruptible(async (interruption) => {
    const results: RenewResult[] = [];
    for (const name of names) results.push(await renewOne(session, name, force, interruption));
    return results;
  });
}

async function renewOne(
  session: Session,
  name: string,
  force: boolean,
  { signal, working }: Interruption,
): Promise<RenewResult> {
  working(name);
  try {
    const outcome = await renewCertificate(session.engine, session.subscriptionId, name, {
      solvers: session.engine.solvers,
      force,
      afterStep: crashSeam(),
      signal,
    });
    return resultOf(outcome);
  } catch (error) {
    if (error instanceof UsageError || error instanceof OrderInterruptedError || signal.aborted) throw error;
    return { name, status: 'failed', error: (error as Error).message, ...(error instanceof NotFoundError ? { missing: true } : {}) };
  }
}

function resultOf(outcome: IssueOutcome): RenewResult {
  const name = outcome.certificate.name;
  if (outcome.status === 'unchanged') return { name, status: 'unchanged', reason: outcome.reason };
  return {
    name,
    status: outcome.status,
    serial: outcome.version.serial,
    notAfter: isoOrDash(outcome.version.notAfter),
  };
}

function report(session: Session, results: RenewResult[], deployments: DeploymentResult[]): void {
  const failed =
    results.filter((r) => r.status === 'failed').length +
    deployments.filter((d) => d.status === 'failed').length;
  const counts = (status: string) => results.filter((r) => r.status === status).length;
  const lines = [
    ...results.map(
      (r) =>
        `${r.status === 'failed' ? '✖' : '✔'} ${r.name}: ${r.status}${r.error ? ` — ${r.error}` : r.reason ? ` — ${r.reason}` : ''}`,
    ),
    `${results.length} checked: ${counts('renewed') + counts('issued') + counts('resumed')} renewed, ${counts('unchanged')} not due, ${counts('failed')} failed`,
    ...(deployments.length > 0 ? [...deploymentLines(deployments), deploymentSummary(deployments)] : []),
  ];
  const document = { results: results.map(({ missing: _, ...result }) => result), deployments };
  if (failed > 0) {
    session.output.failure(document, lines);
    process.exitCode = 1;
  } else {
    session.output.result(document, lines);
  }
}
