// Option parsing shared by several commands.
import type { Command } from 'commander';
import { checkDeployTarget, DEFAULT_VERIFY_TIMEOUT_MS, type DeployTargetSpec, type EabCredentials } from '../../engine/index.ts';
import { CertkeepError, UsageError } from '../../errors.ts';

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((v) => v.trim()).filter(Boolean)];
}

/** A whole-number option within its bounds, or a usage error naming the option. */
export function wholeNumber(text: string, option: string, min: number, max = 1000): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`${option}: "${text}" must be a whole number from ${min} to ${max}`, option.slice(2));
  }
  return value;
}

/** A port option's value (--http-port, --tls-port); undefined when it was not given. */
export function portFrom(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`${option}: "${value}" is not a port number (1-65535)`, option.slice(2));
  }
  return port;
}

export function eabFrom(options: { eabKid?: string; eabHmacKey?: string }): EabCredentials | undefined {
  if (!options.eabKid && !options.eabHmacKey) return undefined;
  if (!options.eabKid || !options.eabHmacKey) throw new UsageError('--eab-kid and --eab-hmac-key go together: give both', 'eab');
  return { kid: options.eabKid, hmacKey: options.eabHmacKey };
}

/** The flags that describe a deploy target, shared by `issue --deploy-to` and `deploy add --to`. */
export function withTargetOptions(command: Command): Command {
  return command
    .option('--format <format>', `pem: cert.pem, chain.pem, fullchain.pem, privkey.pem (certbot's names) | combined: NAME.pem, full chain then key (HAProxy) | pfx: NAME.pfx under the PFX password`, 'pem')
    .option('--reload <cmd>', 'run by /bin/sh -c once the files are in place (after the hook), and again on rollback, e.g. "nginx -t && nginx -s reload"')
    .option('--deploy-hook <cmd>', "run by /bin/sh -c once the files are in place, with certbot's RENEWED_LINEAGE and lego's LEGO_CERT_PATH… set")
    .option('--verify <host:port>', 'wait until this address serves the new serial for every name (TLS, SNI); repeat for more', collect)
    .option('--verify-timeout <seconds>', `how long --verify waits for the new serial (default ${DEFAULT_VERIFY_TIMEOUT_MS / 1000})`)
    .option('--owner <user[:group]>', 'owner of the files (names or numeric ids)')
    .option('--pfx-password <password>', "the PFX password, stored with the certificate (encrypted): for --format pfx and certkeep export");
}

export interface TargetFlags {
  format?: string;
  reload?: string;
  deployHook?: string;
  verify?: string[];
  verifyTimeout?: string;
  owner?: string;
  pfxPassword?: string;
}

/** The target the flags describe, written to `directory`; checked at once, so that a bad flag stops the command before anything happens. */
export function targetFrom(directory: string, flags: TargetFlags, directoryFlag: string): DeployTargetSpec {
  const spec: DeployTargetSpec = {
    directory,
    format: flags.format,
    owner: flags.owner,
    deployHook: flags.deployHook,
    reload: flags.reload,
    verify: flags.verify,
    verifyTimeoutMs: verifyTimeoutFrom(flags.verifyTimeout),
  };
  try {
    checkDeployTarget(spec);
  } catch (error) {
    throw namingDirectoryFlag(error, directoryFlag);
  }
  return spec;
}

/** The directory has a flag of its own in each command (--deploy-to, --to): an error about it names that flag. */
export function namingDirectoryFlag(error: unknown, flag: string): unknown {
  if (!(error instanceof CertkeepError) || error.field !== 'directory') return error;
  return new CertkeepError(error.category, error.message.replace(/^directory/, flag), { field: flag.slice(2) });
}

function verifyTimeoutFrom(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) {
    throw new UsageError(`--verify-timeout: "${value}" must be a number of seconds from 1 to 3600`, 'verifyTimeout');
  }
  return seconds * 1000;
}
