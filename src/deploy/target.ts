// A deploy target as the CLI, the engine or the agent describes it, checked once with the field named.
import { isAbsolute, resolve } from 'node:path';
import { parseAddress } from '../address.ts';
import { UsageError } from '../errors.ts';
import { DEPLOY_FORMATS, type DeployFormat, type DeployTarget } from './types.ts';

export const DEFAULT_VERIFY_TIMEOUT_MS = 30_000;
export const DEFAULT_COMMAND_TIMEOUT_MS = 120_000;

export interface DeployTargetInput {
  directory: string;
  format?: string;
  owner?: string;
  deployHook?: string;
  reload?: string;
  verify?: string[];
  verifyTimeoutMs?: number;
  commandTimeoutMs?: number;
}

export function parseDeployTarget(input: DeployTargetInput): DeployTarget {
  return {
    directory: checkDirectory(input.directory),
    format: checkFormat(input.format ?? 'pem'),
    owner: input.owner === undefined ? undefined : checkOwner(input.owner),
    deployHook: checkCommand(input.deployHook, 'deployHook'),
    reload: checkCommand(input.reload, 'reload'),
    verify: (input.verify ?? []).map((text) => {
      parseAddress(text, 'verify');
      return text.trim();
    }),
    verifyTimeoutMs: checkTimeout(input.verifyTimeoutMs ?? DEFAULT_VERIFY_TIMEOUT_MS, 'verifyTimeoutMs'),
    commandTimeoutMs: checkTimeout(input.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS, 'commandTimeoutMs'),
  };
}

function checkDirectory(directory: string): string {
  if (typeof directory !== 'string' || !isAbsolute(directory)) {
    throw new UsageError(
      `directory: "${directory}" must be an absolute path, e.g. /etc/ssl/example.com`,
      'directory',
    );
  }
  const normal = resolve(directory);
  if (normal === '/')
    throw new UsageError('directory: / cannot hold a deployment; name a directory of its own', 'directory');
  return normal;
}

function checkFormat(format: string): DeployFormat {
  if ((DEPLOY_FORMATS as readonly string[]).includes(format)) return format as DeployFormat;
  throw new UsageError(`format: "${format}" is not one of ${DEPLOY_FORMATS.join(', ')}`, 'format');
}

function checkOwner(owner: string): string {
  if (/^[^:\s]+(:[^:\s]+)?$/.test(owner)) return owner;
  throw new UsageError(
    `owner: "${owner}" must be USER or USER:GROUP (names or numeric ids), e.g. www-data:www-data`,
    'owner',
  );
}

function checkCommand(command: string | undefined, field: string): string | undefined {
  if (command === undefined) return undefined;
  if (command.trim() === '')
    throw new UsageError(`${field}: the command is empty; leave it out to run none`, field);
  return command;
}

function checkTimeout(ms: number, field: string): number {
  if (Number.isFinite(ms) && ms > 0) return ms;
  throw new UsageError(`${field}: ${ms} must be a positive number of milliseconds`, field);
}
