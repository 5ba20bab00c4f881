// certkeep's command line. Exit 0 on success, 1 on failure, 2 on bad usage,
// always with one clear line on stderr (the stack only with --debug).
import { Command, CommanderError } from 'commander';
import { asCertkeepError } from '../engine/index.ts';
import { CertkeepError, type ErrorCategory } from '../errors.ts';
import { registerAdmin } from './commands/admin.ts';
import { registerDemo } from './commands/demo.ts';
import { registerExport } from './commands/export.ts';
import { registerInspect } from './commands/inspect.ts';
import { registerInstallSystemd } from './commands/install-systemd.ts';
import { registerIssue } from './commands/issue.ts';
import { registerRenew } from './commands/renew.ts';
import { registerServe } from './commands/serve.ts';
import { registerZone } from './commands/zone.ts';
import { withFlagName } from './flags.ts';
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
    .showHelpAfterError('(run certkeep --help for usage)')
    .exitOverride();
  program.configureOutput({ writeErr: () => {} });
  registerIssue(program);
  registerRenew(program);
  registerInspect(program);
  registerExport(program);
  registerZone(program);
  registerAdmin(program);
  registerServe(program, surfaces);
  registerInstallSystemd(program);
  registerDemo(program);
  for (const command of program.commands) command.exitOverride().configureOutput({ writeErr: () => {} });
  return program;
}

export async function main(argv: string[], surfaces: Surfaces = {}): Promise<number> {
  const program = buildProgram(surfaces);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    return reportError(error, argv.includes('--debug') || process.env.CERTKEEP_DEBUG === '1');
  }
}

function reportError(error: unknown, debug: boolean): number {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return 0;
    process.stderr.write(`certkeep: ${error.message.replace(/^error: /, '')}\n`);
    return 2;
  }
  const message = error instanceof CertkeepError ? withFlagName(error.message, error.field) : error instanceof Error ? error.message : String(error);
  process.stderr.write(`certkeep: error: ${message}\n`);
  if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  const failure = asCertkeepError(error);
  return failure ? EXIT_CODES[failure.category] : 1;
}
