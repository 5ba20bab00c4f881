// certkeep's command line. Exit 0 on success, 1 on failure, 2 on bad usage,
// always with one clear line on stderr (the stack only with --debug); a
// missing command prints the help on stderr and exits 2; a run stopped by a
// signal exits 128 + its number, as shells report it.
import { Command, CommanderError } from 'commander';
import packageJson from '../../package.json' with { type: 'json' };
import { asCertkeepError } from '../engine/index.ts';
import { CertkeepError, type ErrorCategory } from '../errors.ts';
import { registerAdmin } from './commands/admin.ts';
import { registerDemo } from './commands/demo.ts';
import { registerDeploy } from './commands/deploy.ts';
import { registerExport } from './commands/export.ts';
import { registerInspect } from './commands/inspect.ts';
import { registerInstallSystemd } from './commands/install-systemd.ts';
import { registerIssue } from './commands/issue.ts';
import { registerRenew } from './commands/renew.ts';
import { registerServe } from './commands/serve.ts';
import { registerZone } from './commands/zone.ts';
import { withFlagName } from './flags.ts';
import { Interrupted } from './interrupt.ts';
import type { Surfaces } from './surfaces.ts';

/** The exit code for each category of error: 2 for a request that is wrong as given, 1 for the rest. */
const EXIT_CODES: Record<ErrorCategory, number> = {
  'bad-input': 2,
  'not-found': 1,
  conflict: 1,
  forbidden: 1,
  'upstream-failed': 1,
  'rate-limited': 1,
  unavailable: 1,
};

export function buildProgram(surfaces: Surfaces = {}): Command {
  const program = new Command('certkeep')
    .description('TLS certificates from any ACME CA: issued, stored safely, renewed before they expire')
    .option('--data-dir <dir>', 'where certkeep keeps its database and master key (env CERTKEEP_DATA_DIR)')
    .option('--ca <url>', 'ACME directory URL or letsencrypt | letsencrypt-staging | zerossl | google | buypass (env CERTKEEP_CA)')
    .option('--ca-cert <file>', "extra trust anchor for the CA's HTTPS, PEM (env CERTKEEP_CA_CERT)")
    .option('--email <addr>', 'contact address for the ACME account (env CERTKEEP_EMAIL)')
    .option('--resolver <host:port>', 'DNS resolver(s) for DNS-01 lookups, comma-separated (env CERTKEEP_RESOLVER; default: the system)')
    .option('--dns-timeout <seconds>', 'how long DNS-01 waits for every nameserver to serve a record (env CERTKEEP_DNS_TIMEOUT, default 120)')
    .option('--config <file>', 'JSON file with defaults (env CERTKEEP_CONFIG)')
    .option('--json', 'print exactly one JSON document on stdout')
    .option('--debug', 'print stack traces of errors')
    .version(packageJson.version, '-V, --version', 'print the version')
    .exitOverride();
  // Errors are reported as one line by reportError; help asked for by mistake still goes to stderr.
  program.configureOutput({ outputError: () => {} });
  registerIssue(program);
  registerRenew(program);
  registerDeploy(program);
  registerInspect(program);
  registerExport(program);
  registerZone(program);
  registerAdmin(program);
  registerServe(program, surfaces);
  registerInstallSystemd(program);
  registerDemo(program);
  // Run by the entry with its own options (src/certkeep.ts); here for the help only.
  program.command('agent').description('the host agent: deploys this host\'s certificates from certkeep serve (certkeep agent --help)');
  configureAll(program);
  return program;
}

function configureAll(parent: Command): void {
  for (const command of parent.commands) {
    command.exitOverride().configureOutput({ outputError: () => {} });
    configureAll(command);
  }
}

export async function main(argv: string[], surfaces: Surfaces = {}): Promise<number> {
  const program = buildProgram(surfaces);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    const code = reportError(error, argv.includes('--debug') || process.env.CERTKEEP_DEBUG === '1');
    // The stopped run may still have a poll or a DNS wait pending: end now.
    if (error instanceof Interrupted) process.exit(code);
    return code;
  }
}

function reportError(error: unknown, debug: boolean): number {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return 0;
    // A command group (certkeep, zone, admin …) without its subcommand: its help is on stderr already.
    if (error.code === 'commander.help') return 2;
    process.stderr.write(`certkeep: ${error.message.replace(/^error: /, '').replaceAll('\n', ' ')}\n`);
    return 2;
  }
  if (error instanceof Interrupted) {
    process.stderr.write(`certkeep: ${error.message}\n`);
    return error.exitCode;
  }
  const message = error instanceof CertkeepError ? withFlagName(error.message, error.field) : error instanceof Error ? error.message : String(error);
  process.stderr.write(`certkeep: error: ${message}\n`);
  if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  const failure = asCertkeepError(error);
  return failure ? EXIT_CODES[failure.category] : 1;
}
