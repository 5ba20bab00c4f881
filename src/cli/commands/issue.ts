import type { Command } from 'commander';
import {
  addDeployTarget,
  type ChallengeConfig,
  changeCertificate,
  type DeploymentResult,
  type DeployTargetSpec,
  issueCertificate,
  type IssueOutcome,
  validateRequest,
} from '../../engine/index.ts';
import { UsageError } from '../../errors.ts';
import { interruptible } from '../interrupt.ts';
import { isoOrDash } from '../output.ts';
import { crashSeam, type Session, withSession } from '../session.ts';
import { deploymentLines, deployTargets } from './deploy.ts';
import {
  collect,
  eabFrom,
  namingDirectoryFlag,
  portFrom,
  type TargetFlags,
  targetFrom,
  withTargetOptions,
} from './options.ts';

export function registerIssue(program: Command): void {
  const issue = program
    .command('issue')
    .description(
      'get a certificate for one or more names (certbot certonly, lego run), and deploy it with --deploy-to',
    )
    .option(
      '-d, --domain <name>',
      'a name for the certificate; repeat for more (wildcards need dns-01)',
      collect,
      [],
    )
    .option('--name <cert>', 'the name certkeep keeps it under (default: the first -d)')
    .option('--challenge <type>', 'http-01 | dns-01 | tls-alpn-01', 'http-01')
    .option('--http-port <n>', 'port of the built-in HTTP-01 responder (default 80)')
    .option('--http-host <addr>', 'address the HTTP-01 responder listens on (default all)')
    .option('--webroot <dir>', "answer HTTP-01 through your web server's document root instead")
    .option('--tls-port <n>', 'port of the built-in TLS-ALPN-01 responder (default 443, where CAs connect)')
    .option('--key-type <type>', 'ec-p256 | ec-p384 | rsa-2048 | rsa-3072 | rsa-4096', 'ec-p256')
    .option('--profile <name>', "the CA's certificate profile (when the CA offers profiles)")
    .option(
      '--preferred-chain <issuer>',
      'of the chains the CA offers, take the one whose top certificate was issued by this CN, e.g. "ISRG Root X1"',
    )
    .option(
      '--renew-before <when>',
      'renew this long before expiry (30d, 12h) or at this share of the lifetime left (33%)',
    )
    .option('--eab-kid <kid>', 'External Account Binding key id (ZeroSSL, Google, …)')
    .option('--eab-hmac-key <key>', 'External Account Binding HMAC key, base64url')
    .option('--force', 'issue a new version even when the current one is not due')
    .option(
      '--deploy-to <dir>',
      'deploy the certificate to this directory now and after each renewal (see certkeep deploy add)',
    );
  withTargetOptions(issue).action(async (options, command: Command) => {
    // A deploy flag that is wrong stops the command before any order is placed.
    const target =
      options.deployTo === undefined ? undefined : targetFrom(options.deployTo, options, '--deploy-to');
    if (!target) refuseTargetFlagsWithoutDirectory(command);
    await withSession(
      command.optsWithGlobals(),
      async (session) => {
        const request = validateRequest({
          subscriptionId: session.subscriptionId,
          name: options.name,
          names: options.domain,
          challengeType: options.challenge,
          challengeConfig: challengeConfig(options),
          preferredChain: options.preferredChain,
          keyType: options.keyType,
          issuers: [session.engine.issuer],
          profile: options.profile,
          renewalPolicy: { autoRenew: true, renewBefore: options.renewBefore },
        });
        const outcome = await interruptible(({ signal, working }) => {
          working(request.name);
          return issueCertificate(session.engine, request, {
            solvers: session.engine.solvers,
            eab: eabFrom(options),
            force: options.force,
            afterStep: crashSeam(),
            signal,
          });
        });
        const deployments = await deployIssued(session, outcome, target, options);
        printOutcome(session, outcome, deployments);
      },
      { create: true },
    );
  });
}

/** The target given with the certificate is stored, then every target of the certificate brought to its current version. */
async function deployIssued(
  session: Session,
  outcome: IssueOutcome,
  target: DeployTargetSpec | undefined,
  flags: TargetFlags,
): Promise<DeploymentResult[]> {
  const name = outcome.certificate.name;
  if (flags.pfxPassword !== undefined)
    await changeCertificate(session.engine, session.subscriptionId, name, { pfxPassword: flags.pfxPassword });
  if (target)
    await addDeployTarget(session.engine, session.subscriptionId, name, target).catch((error) =>
      Promise.reject(namingDirectoryFlag(error, '--deploy-to')),
    );
  return deployTargets(session, { names: [name] });
}

/** The target's flags mean nothing without --deploy-to: saying so beats ignoring them. */
function refuseTargetFlagsWithoutDirectory(command: Command): void {
  const given = ['reload', 'deployHook', 'verify', 'verifyTimeout', 'owner', 'format'].filter(
    (key) => command.getOptionValueSource(key) === 'cli',
  );
  if (given.length > 0) {
    const flag = command.options.find((option) => option.attributeName() === given[0])?.long ?? given[0];
    throw new UsageError(
      `${flag} describes a deploy target: give the directory with --deploy-to DIR`,
      'deployTo',
    );
  }
}

function challengeConfig(options: {
  challenge: string;
  httpPort?: string;
  httpHost?: string;
  webroot?: string;
  tlsPort?: string;
}): ChallengeConfig {
  if (options.challenge === 'tls-alpn-01') {
    const http = options.webroot
      ? '--webroot'
      : options.httpPort
        ? '--http-port'
        : options.httpHost
          ? '--http-host'
          : undefined;
    if (http)
      throw new UsageError(
        `${http} is for HTTP-01; TLS-ALPN-01 answers on --tls-port (default 443)`,
        http.slice(2),
      );
    return { tlsPort: portFrom(options.tlsPort, '--tls-port') };
  }
  if (options.tlsPort) throw new UsageError('--tls-port is for --challenge tls-alpn-01', 'tls-port');
  if (options.webroot && options.httpPort)
    throw new UsageError(
      '--webroot and --http-port exclude each other: pick one way to answer HTTP-01',
      'webroot',
    );
  if (options.webroot) return { webroot: options.webroot };
  return {
    httpPort: portFrom(options.httpPort, '--http-port'),
    ...(options.httpHost ? { httpHost: options.httpHost } : {}),
  };
}

export function printOutcome(
  session: Session,
  outcome: IssueOutcome,
  deployments: DeploymentResult[] = [],
): void {
  const { certificate } = outcome;
  const names = certificate.identifiers.map((i) => i.value);
  const failed = deployments.some((deployment) => deployment.status === 'failed');
  const deployed = deploymentLines(deployments).map((line) => `  ${line}`);
  if (outcome.status === 'unchanged') {
    report(
      session,
      failed,
      { name: certificate.name, status: 'unchanged', names, reason: outcome.reason, deployments },
      [
        `${certificate.name}: kept the current certificate — ${outcome.reason} (use --force to issue anyway)`,
        ...deployed,
      ],
    );
    return;
  }
  const { version } = outcome;
  report(
    session,
    failed,
    {
      name: certificate.name,
      status: outcome.status,
      names,
      serial: version.serial,
      notBefore: new Date(version.notBefore).toISOString(),
      notAfter: new Date(version.notAfter).toISOString(),
      nextRenewalAt: certificate.next_renewal_at ? new Date(certificate.next_renewal_at).toISOString() : null,
      deployments,
    },
    [
      `✔ ${outcome.status} ${certificate.name} (${names.join(', ')})`,
      `  serial ${version.serial}, valid until ${isoOrDash(version.notAfter)}, renewal from ${isoOrDash(certificate.next_renewal_at)}`,
      ...(deployed.length > 0
        ? deployed
        : [
            `  deploy it with: certkeep deploy add ${certificate.name} --to DIR --reload CMD --verify HOST:PORT`,
          ]),
    ],
  );
}

/** A deployment that failed makes the command fail (exit 1), naming the target, even though the certificate was issued. */
function report(session: Session, failed: boolean, document: object, lines: string[]): void {
  if (failed) {
    session.output.failure(document, lines);
    process.exitCode = 1;
  } else {
    session.output.result(document, lines);
  }
}
