// What this host allows, applied to each target the server assigns: the
// reload and hook are names resolved through the host's own lists, the
// directory must lie under an allowed prefix (symlinks and `..` resolved
// first), and the TLS check connects only to addresses the host allows. A
// target that asks for anything else is refused here, before anything on the
// host is touched, and the reason goes back to the server.
import { realpath } from 'node:fs/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { splitAddress } from '../address.ts';
import type { DeployTargetInput } from '../deploy/index.ts';
import type { AgentOptions } from './options.ts';
import type { Assignment } from './server-client.ts';

export type Resolved = { ok: true; target: DeployTargetInput } | { ok: false; reason: string };

type Policy = Pick<AgentOptions, 'allowReload' | 'allowHook' | 'allowDir' | 'allowVerify'>;

export async function resolveTarget(policy: Policy, assignment: Assignment): Promise<Resolved> {
  const reasons: string[] = [];
  const reload = named(policy.allowReload, assignment.reload, 'reload', '--allow-reload', reasons);
  const deployHook = named(policy.allowHook, assignment.deployHook, 'deploy hook', '--allow-hook', reasons);
  const directory = await allowedDirectory(policy.allowDir, assignment.to, reasons);
  for (const address of assignment.verify) if (!verifyAllowed(policy.allowVerify, address)) reasons.push(verifyRefusal(policy.allowVerify, address));
  if (reasons.length > 0) return { ok: false, reason: `refused by the host: ${reasons.join('; ')}` };
  return {
    ok: true,
    target: { directory: directory as string, format: assignment.format, reload, deployHook, verify: assignment.verify, verifyTimeoutMs: assignment.verifyTimeoutMs },
  };
}

function named(allowed: Map<string, string>, name: string | null, what: string, option: string, reasons: string[]): string | undefined {
  if (name === null) return undefined;
  const command = allowed.get(name);
  if (command === undefined) reasons.push(`the ${what} "${name}" is not one this host allows (${option} ${name}=CMD)`);
  return command;
}

/** The directory with its parent's symlinks and any `..` resolved, when it lies strictly under an allowed prefix. */
async function allowedDirectory(prefixes: string[], to: string, reasons: string[]): Promise<string | undefined> {
  if (!to.startsWith('/')) {
    reasons.push(`the directory ${to} is not absolute`);
    return undefined;
  }
  const real = join(await realPrefix(dirname(resolve(to))), basename(resolve(to)));
  const roots = await Promise.all(prefixes.map(realPrefix));
  if (roots.some((root) => real.startsWith(root.endsWith('/') ? root : `${root}/`))) return real;
  reasons.push(
    prefixes.length === 0
      ? `the directory ${to} is not allowed: this host allows no directory (--allow-dir PREFIX)`
      : `the directory ${to}${real !== to ? ` (${real})` : ''} is outside the directories this host allows (${prefixes.join(', ')})`,
  );
  return undefined;
}

/** The path with the symlinks of its longest existing part resolved. */
async function realPrefix(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    const parent = dirname(path);
    return parent === path ? path : join(await realPrefix(parent), basename(path));
  }
}

function verifyAllowed(allowed: string[], address: string): boolean {
  let host: string;
  let port: number;
  try {
    ({ host, port } = splitAddress(address));
  } catch {
    return false;
  }
  if (allowed.length > 0) {
    return allowed.some((text) => {
      try {
        const permitted = splitAddress(text);
        return permitted.host.toLowerCase() === host.toLowerCase() && permitted.port === port;
      } catch {
        return false;
      }
    });
  }
  return host.toLowerCase() === 'localhost' || ownAddresses().has(host.toLowerCase());
}

function verifyRefusal(allowed: string[], address: string): string {
  return allowed.length > 0
    ? `the TLS check may not connect to ${address} (this host allows ${allowed.join(', ')}; --allow-verify HOST:PORT)`
    : `the TLS check may not connect to ${address}: by default only this host's own addresses (--allow-verify HOST:PORT for others)`;
}

function ownAddresses(): Set<string> {
  const own = new Set(['127.0.0.1', '::1']);
  for (const list of Object.values(networkInterfaces())) for (const entry of list ?? []) own.add(entry.address.toLowerCase());
  return new Set([...own].filter((address) => isIP(address) !== 0));
}
