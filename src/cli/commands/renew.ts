// certkeep renew and resume: made for timers. --json is always {"results":[…]},
// whatever the number of certificates; --quiet prints nothing unless a renewal
// failed; exit 1 when one did.
import type { Command } from 'commander';
import { type IssueOutcome, namesWithOpenOrders, OrderInterruptedError, renewableNames, renewCertificate } from '../../engine/index.ts';
import { UsageError } from '../../errors.ts';
import { type Interruption, interruptible } from '../interrupt.ts';
import { isoOrDash } from '../output.ts';
import { crashSeam, type Session, withSession } from '../session.ts';

interface RenewResult {
  name: string;
  status: IssueOutcome['status'] | 'failed';
  serial?: string;
  notAfter?: string;
  reason?: string;
  error?: string;
}

const QUIET = ['--quiet', 'print nothing unless a renewal failed (for cron and timers)'] as const;

export function registerRenew(program: Command): void {
  program
    .command('renew')
    .description('renew certificates that are due (all with --all); for cron or a systemd timer')
    .argument('[names...]', 'certificates to renew')
    .option('--all', 'every certificate that is due (revoked ones are left alone)')
    .option('--force', 'renew even when not due')
    .option(...QUIET)
    .action(async (names: string[], options: { all?: boolean; force?: boolean; quiet?: boolean }, command: Command) => {
      if (names.length === 0 && !options.all) throw new UsageError('renew: name the certificates to renew, or pass --all', 'names');
      if (names.length > 0 && options.all) throw new UsageError('renew: give names or --all, not both', 'names');
      await withSession(
        command.optsWithGlobals(),
        async (session) => {
          const targets = options.all ? await renewableNames(session.engine, session.subscriptionId) : names;
          report(session, await renewEach(session, targets, options.force === true));
        },
        { quiet: options.quiet },
      );
    });

  program
    .command('resume')
    .description('finish orders that a stopped or killed process left open')
    .option(...QUIET)
    .action(async (options: { quiet?: boolean }, command: Command) => {
      await withSession(
        command.optsWithGlobals(),
        async (session) => {
          const names = await namesWithOpenOrders(session.engine, session.subscriptionId);
          report(session, await renewEach(session, names, false));
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

async function renewOne(session: Session, name: string, force: boolean, { signal, working }: Interruption): Promise<RenewResult> {
  working(name);
  try {
    const outcome = await renewCertificate(session.engine, session.subscriptionId, name, { solvers: session.engine.solvers, force, afterStep: crashSeam(), signal });
    return resultOf(outcome);
  } catch (error) {
    if (error instanceof UsageError || error instanceof OrderInterruptedError || signal.aborted) throw error;
    return { name, status: 'failed', error: (error as Error).message };
  }
}

function resultOf(outcome: IssueOutcome): RenewResult {
  const name = outcome.certificate.name;
  if (outcome.status === 'unchanged') return { name, status: 'unchanged', reason: outcome.reason };
  return { name, status: outcome.status, serial: outcome.version.serial, notAfter: isoOrDash(outcome.version.notAfter) };
}

function report(session: Session, results: RenewResult[]): void {
  const failed = results.filter((r) => r.status === 'failed');
  const counts = (status: string) => results.filter((r) => r.status === status).length;
  const lines = [
    ...results.map((r) => `${r.status === 'failed' ? '✖' : '✔'} ${r.name}: ${r.status}${r.error ? ` — ${r.error}` : r.reason ? ` — ${r.reason}` : ''}`),
    `${results.length} checked: ${counts('renewed') + counts('issued') + counts('resumed')} renewed, ${counts('unchanged')} not due, ${failed.length} failed`,
  ];
  if (failed.length > 0) {
    session.output.failure({ results }, lines);
    process.exitCode = 1;
  } else {
    session.output.result({ results }, lines);
  }
}
