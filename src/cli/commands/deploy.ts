// certkeep deploy add|list|remove|run: where this machine's certificates are
// deployed, with which commands, and bringing them there. The targets and
// their commands are the operator's, given here on this machine's command line.
import type { Command } from 'commander';
import {
  addDeployTarget,
  changeCertificate,
  type DeploymentResult,
  type DeployTargetView,
  deployLocalTargets,
  listDeployTargets,
  removeDeployTarget,
  THIS_MACHINE,
} from '../../engine/index.ts';
import { UsageError } from '../../errors.ts';
import { table } from '../output.ts';
import { deployCrashSeam, type Session, withSession } from '../session.ts';
import { type TargetFlags, targetFrom, withTargetOptions } from './options.ts';

export function registerDeploy(program: Command): void {
  const deploy = program
    .command('deploy')
    .description(
      "this machine's deploy targets: where each certificate's files go, reloaded and verified as served",
    );

  withTargetOptions(
    deploy
      .command('add')
      .description('deploy a certificate to a directory from now on (at once, and after each renewal)')
      .argument('<name>', 'the certificate')
      .requiredOption(
        '--to <dir>',
        'the directory the web server reads (becomes a symlink to the current version)',
      ),
  ).action(async (name: string, options: TargetFlags & { to: string }, command: Command) => {
    const spec = targetFrom(options.to, options, '--to');
    await withSession(command.optsWithGlobals(), async (session) => {
      if (options.pfxPassword !== undefined)
        await changeCertificate(session.engine, session.subscriptionId, name, {
          pfxPassword: options.pfxPassword,
        });
      const { target, change } = await addDeployTarget(session.engine, session.subscriptionId, name, spec);
      const results = await deployTargets(session, { names: [name], directory: target.directory });
      reportDeployments(session, results, { target: target.id, change }, [
        `${change === 'unchanged' ? '✔ kept' : `✔ ${change}`} deploy target ${name} → ${target.directory}`,
      ]);
    });
  });

  deploy
    .command('list')
    .description(
      'deploy targets, with the serial each holds and when it was verified (those of other machines sharing the store too)',
    )
    .argument('[name]', 'only this certificate')
    .action(async (name: string | undefined, _options, command: Command) => {
      await withSession(command.optsWithGlobals(), async (session) => {
        const targets = await listDeployTargets(session.engine, session.subscriptionId, {
          names: name === undefined ? undefined : [name],
        });
        session.output.result(
          { targets },
          targets.length === 0
            ? 'no deploy targets yet; add one with: certkeep deploy add NAME --to DIR --reload CMD --verify HOST:PORT'
            : targetLines(targets),
        );
      });
    });

  deploy
    .command('remove')
    .description('stop deploying a certificate to a directory (the files there stay as they are)')
    .argument('<name>', 'the certificate')
    .requiredOption('--to <dir>', 'the directory of the target')
    .action(async (name: string, options: { to: string }, command: Command) => {
      await withSession(command.optsWithGlobals(), async (session) => {
        const target = await removeDeployTarget(session.engine, session.subscriptionId, name, options.to);
        session.output.result(
          { removed: target },
          `✔ removed deploy target ${name} → ${target.directory}; the files there stay as they are`,
        );
      });
    });

  deploy
    .command('run')
    .description("bring deploy targets to their certificates' current versions (failed ones are tried again)")
    .argument('[names...]', 'the certificates whose targets to deploy')
    .option('--all', 'every deploy target of this machine')
    .action(async (names: string[], options: { all?: boolean }, command: Command) => {
      if (names.length === 0 && !options.all)
        throw new UsageError('deploy run: name the certificates to deploy, or pass --all', 'names');
      if (names.length > 0 && options.all)
        throw new UsageError('deploy run: give names or --all, not both', 'names');
      await withSession(command.optsWithGlobals(), async (session) => {
        const results = await deployTargets(session, { names: options.all ? undefined : names });
        reportDeployments(session, results, {}, results.length === 0 ? ['no deploy targets to run'] : []);
      });
    });
}

/** Brings this machine's targets (of `names`, at `directory`) to the current version, with the crash tests' seam. */
export function deployTargets(
  session: Session,
  which: { names?: string[]; directory?: string } = {},
): Promise<DeploymentResult[]> {
  return deployLocalTargets(session.engine, session.subscriptionId, { ...which, onStep: deployCrashSeam() });
}

/** One line per deployment: the certificate, the target, and what happened (the whole story for a failure). */
export function deploymentLines(results: DeploymentResult[]): string[] {
  return results.map(
    (result) =>
      `${result.status === 'failed' ? '✖' : '✔'} ${result.certificate} → ${result.directory}: ${outcomeText(result)}`,
  );
}

function outcomeText(result: DeploymentResult): string {
  const verified = result.verifiedAt ? `, verified served at ${result.verifiedAt}` : '';
  if (result.status === 'deployed') return `deployed serial ${result.serial}${verified}`;
  if (result.status === 'unchanged') return `up to date (serial ${result.serial}${verified})`;
  if (result.status === 'waiting') return 'nothing to deploy yet (the certificate has no version)';
  return `deployment failed — ${result.error}`;
}

/** How many deployments went which way, for a summary line. */
export function deploymentSummary(results: DeploymentResult[]): string {
  const count = (status: DeploymentResult['status']) =>
    results.filter((result) => result.status === status).length;
  return `${results.length} deploy ${results.length === 1 ? 'target' : 'targets'}: ${count('deployed')} deployed, ${count('unchanged')} up to date, ${count('failed')} failed`;
}

/** The results as lines (or `document` and them as JSON); exit 1 when a deployment failed. */
function reportDeployments(
  session: Session,
  results: DeploymentResult[],
  document: object,
  head: string[],
): void {
  const lines = [
    ...head,
    ...deploymentLines(results),
    ...(results.length > 1 ? [deploymentSummary(results)] : []),
  ];
  if (results.some((result) => result.status === 'failed')) {
    session.output.failure({ ...document, deployments: results }, lines);
    process.exitCode = 1;
  } else {
    session.output.result({ ...document, deployments: results }, lines);
  }
}

/** A target in one or two lines: where, what it holds, verified when; its error when its last attempt failed. */
export function targetLines(targets: DeployTargetView[]): string[] {
  const elsewhere = targets.filter((target) => target.host !== THIS_MACHINE);
  const host = (target: DeployTargetView) => (elsewhere.length > 0 ? [target.host ?? '-'] : []);
  return [
    ...table([
      [
        'CERTIFICATE',
        'DIRECTORY',
        ...(elsewhere.length > 0 ? ['MACHINE'] : []),
        'FORMAT',
        'STATUS',
        'SERIAL',
        'VERIFIED',
      ],
      ...targets.map((target) => [
        target.certificate,
        target.directory,
        ...host(target),
        target.format,
        target.status,
        target.serial ?? '-',
        target.verifiedAt ?? (target.serial ? 'no' : '-'),
      ]),
    ]),
    ...targets
      .filter((target) => target.error)
      .map((target) => `✖ ${target.certificate} → ${target.directory}: ${target.error}`),
    ...(elsewhere.length > 0
      ? [
          `targets of another machine than this one (${THIS_MACHINE}) are deployed by certkeep on that machine, not here`,
        ]
      : []),
  ];
}
