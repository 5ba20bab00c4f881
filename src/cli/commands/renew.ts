import type { Command } from 'commander';
import { type IssueOutcome, namesWithOpenOrders, renewableNames, renewCertificate } from '../../engine/index.ts';
import { UsageError } from '../../errors.ts';
import { printOutcome } from './issue.ts';
import { crashSeam, type Session, withSession } from '../session.ts';

interface RenewResult {
  name: string;
  status: IssueOutcome['status'] | 'failed';
  error?: string;
}

export function registerRenew(program: Command): void {
  program
    .command('renew')
    .description('renew certificates that are due (all with --all); for cron or a systemd timer')
    .argument('[names...]', 'certificates to renew')
    .option('--all', 'every certificate that is due')
    .option('--force', 'renew even when not due')
    .action(async (names: string[], options, command: Command) => {
      if (names.length === 0 && !options.all) throw new UsageError('renew: name the certificates to renew, or pass --all', 'names');
      if (names.length > 0 && options.all) throw new UsageError('renew: give names or --all, not both', 'names');
      await withSession(command.optsWithGlobals(), async (session) => {
        const targets = options.all ? await renewableNames(session.engine, session.subscriptionId) : names;
        const results = await renewEach(session, targets, options.force === true);
        report(session, results);
      });
    });

  program
    .command('resume')
    .description('finish orders that a stopped or killed process left open')
    .action(async (_options, command: Command) => {
      await withSession(command.optsWithGlobals(), async (session) => {
        const names = await namesWithOpenOrders(session.engine, session.subscriptionId);
        const results = await renewEach(session, names, false);
        report(session, results);
      });
    });
}

async function renewEach(session: Session, names: string[], force: boolean): Promise<RenewResult[]> {
  const results: RenewResult[] = [];
  for (const name of names) {
    try {
      const outcome = await renewCertificate(session.engine, session.subscriptionId, name, { solvers: session.engine.solvers, force, afterStep: crashSeam() });
      if (names.length === 1) printOutcome(session, outcome);
      results.push({ name, status: outcome.status });
    } catch (error) {
      if (error instanceof UsageError) throw error;
      results.push({ name, status: 'failed', error: (error as Error).message });
    }
  }
  return results;
}

function report(session: Session, results: RenewResult[]): void {
  const failed = results.filter((r) => r.status === 'failed');
  if (results.length !== 1 || failed.length > 0) {
    const counts = (status: string) => results.filter((r) => r.status === status).length;
    session.output.result({ results }, [
      ...results.map((r) => `${r.status === 'failed' ? '✖' : '✔'} ${r.name}: ${r.status}${r.error ? ` — ${r.error}` : ''}`),
      `${results.length} checked: ${counts('renewed') + counts('issued') + counts('resumed')} renewed, ${counts('unchanged')} not due, ${failed.length} failed`,
    ]);
  }
  if (failed.length > 0) process.exitCode = 1;
}
