import type { Command } from 'commander';
import { type ChallengeConfig, issueCertificate, type IssueOutcome, validateRequest } from '../../engine/index.ts';
import { UsageError } from '../../errors.ts';
import { interruptible } from '../interrupt.ts';
import { isoOrDash } from '../output.ts';
import { crashSeam, type Session, withSession } from '../session.ts';
import { collect, eabFrom, portFrom } from './options.ts';

export function registerIssue(program: Command): void {
  program
    .command('issue')
    .description('get a certificate for one or more names (certbot certonly, lego run)')
    .option('-d, --domain <name>', 'a name for the certificate; repeat for more (wildcards need dns-01)', collect, [])
    .option('--name <cert>', 'the name certkeep keeps it under (default: the first -d)')
    .option('--challenge <type>', 'http-01 | dns-01 | tls-alpn-01', 'http-01')
    .option('--http-port <n>', 'port of the built-in HTTP-01 responder (default 80)')
    .option('--http-host <addr>', 'address the HTTP-01 responder listens on (default all)')
    .option('--webroot <dir>', "answer HTTP-01 through your web server's document root instead")
    .option('--tls-port <n>', 'port of the built-in TLS-ALPN-01 responder (default 443, where CAs connect)')
    .option('--key-type <type>', 'ec-p256 | ec-p384 | rsa-2048 | rsa-3072 | rsa-4096', 'ec-p256')
    .option('--profile <name>', "the CA's certificate profile (when the CA offers profiles)")
    .option('--preferred-chain <issuer>', 'of the chains the CA offers, take the one whose top certificate was issued by this CN, e.g. "ISRG Root X1"')
    .option('--renew-before <when>', 'renew this long before expiry (30d, 12h) or at this share of the lifetime left (33%)')
    .option('--eab-kid <kid>', 'External Account Binding key id (ZeroSSL, Google, …)')
    .option('--eab-hmac-key <key>', 'External Account Binding HMAC key, base64url')
    .option('--force', 'issue a new version even when the current one is not due')
    .action(async (options, command: Command) => {
      await withSession(command.optsWithGlobals(), async (session) => {
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
          return issueCertificate(session.engine, request, { solvers: session.engine.solvers, eab: eabFrom(options), force: options.force, afterStep: crashSeam(), signal });
        });
        printOutcome(session, outcome);
      }, { create: true });
    });
}

function challengeConfig(options: { challenge: string; httpPort?: string; httpHost?: string; webroot?: string; tlsPort?: string }): ChallengeConfig {
  if (options.challenge === 'tls-alpn-01') {
    const http = options.webroot ? '--webroot' : options.httpPort ? '--http-port' : options.httpHost ? '--http-host' : undefined;
    if (http) throw new UsageError(`${http} is for HTTP-01; TLS-ALPN-01 answers on --tls-port (default 443)`, http.slice(2));
    return { tlsPort: portFrom(options.tlsPort, '--tls-port') };
  }
  if (options.tlsPort) throw new UsageError('--tls-port is for --challenge tls-alpn-01', 'tls-port');
  if (options.webroot && options.httpPort) throw new UsageError('--webroot and --http-port exclude each other: pick one way to answer HTTP-01', 'webroot');
  if (options.webroot) return { webroot: options.webroot };
  return { httpPort: portFrom(options.httpPort, '--http-port'), ...(options.httpHost ? { httpHost: options.httpHost } : {}) };
}

export function printOutcome(session: Session, outcome: IssueOutcome): void {
  const { certificate } = outcome;
  const names = certificate.identifiers.map((i) => i.value);
  if (outcome.status === 'unchanged') {
    session.output.result(
      { name: certificate.name, status: 'unchanged', names, reason: outcome.reason },
      `${certificate.name}: kept the current certificate — ${outcome.reason} (use --force to issue anyway)`,
    );
    return;
  }
  const { version } = outcome;
  session.output.result(
    {
      name: certificate.name,
      status: outcome.status,
      names,
      serial: version.serial,
      notBefore: new Date(version.notBefore).toISOString(),
      notAfter: new Date(version.notAfter).toISOString(),
      nextRenewalAt: certificate.next_renewal_at ? new Date(certificate.next_renewal_at).toISOString() : null,
    },
    [
      `✔ ${outcome.status} ${certificate.name} (${names.join(', ')})`,
      `  serial ${version.serial}, valid until ${isoOrDash(version.notAfter)}, renewal from ${isoOrDash(certificate.next_renewal_at)}`,
      `  write the files with: certkeep export ${certificate.name} --out DIR`,
    ],
  );
}
