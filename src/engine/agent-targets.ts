// An agent's targets: assigned centrally (the API, `certkeep admin agent
// target`), deployed on the agent's host. A target's reload and deploy hook
// are names the agent resolves through its own configuration, never commands
// (DESIGN.md, trust boundaries); its directory must lie under one of the
// agent's allowed directories, which the agent checks. What the agent reads of
// them (assignments) carries the current version, never a key: it fetches the
// files of an assigned certificate separately (agentBundle).
import { createHash } from 'node:crypto';
import type { DeployFormat } from '../deploy/index.ts';
import { ConflictError, NotFoundError, UsageError } from '../errors.ts';
import { markAgentChanged, type AgentRow } from '../store/repositories/agents.ts';
import { getCertificate, getVersion } from '../store/repositories/certificates.ts';
import {
  deleteDeployTarget,
  deploymentsOf,
  findAgentTarget,
  forgetDeployments,
  insertDeployTarget,
  listTargets,
  type TargetOfCertificate,
  updateDeployTarget,
} from '../store/repositories/deploy-targets.ts';
import { newId } from '../store/ids.ts';
import type { VersionBundle } from '../deploy/index.ts';
import type { AgentCaller } from './agents.ts';
import { mustFindAgent } from './agents.ts';
import type { EngineContext } from './context.ts';
import { checkDeployTarget, sameSettings, storedSettings, type DeployTargetView, targetView } from './deploy-targets.ts';
import { deploymentBundle, missingPfxPassword } from './files.ts';
import { mustFindCertificate } from './lookups.ts';

/** A target as the server assigns it to an agent. */
export interface AgentTargetSpec {
  certificate: string;
  /** The directory on the agent's host; must lie under one of the agent's --allow-dir. */
  to: string;
  format?: string;
  /** A name the agent resolves through its --allow-reload NAME=CMD. */
  reload?: string;
  /** A name the agent resolves through its --allow-hook NAME=CMD. */
  deployHook?: string;
  /** HOST:PORT the agent checks serve the new serial; it connects only where its host allows. */
  verify?: string[];
}

export type AgentTargetView = DeployTargetView;

/** What the agent reads of a target: where, how, and the certificate's current version (no key). */
export interface Assignment {
  id: string;
  certificate: string;
  names: string[];
  to: string;
  format: DeployFormat;
  reload: string | null;
  deployHook: string | null;
  verify: string[];
  verifyTimeoutMs: number;
  /** The version to deploy; null before the first one, or when the certificate was revoked. */
  version: { id: string; serial: string } | null;
}

export interface Assignments {
  targets: Assignment[];
  /** Changes whenever anything in `targets` does: the agent's long poll sends it back. */
  digest: string;
}

const COMMAND_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** Assigns a certificate to a directory on the agent's host, or changes the target already at that directory. */
export async function addAgentTarget(
  ctx: EngineContext,
  subscriptionId: string,
  agentId: string,
  spec: AgentTargetSpec,
): Promise<AgentTargetView> {
  const agent = await mustFindAgent(ctx, agentId, subscriptionId);
  const certificate = await mustFindCertificate(ctx, subscriptionId, spec.certificate);
  const target = checkAssignment(spec);
  if (target.format === 'pfx' && !certificate.pfx_password_enc) throw missingPfxPassword(certificate.name);
  const settings = storedSettings(target);
  const now = ctx.clock.now();
  const existing = await findAgentTarget(ctx.store.db, agent.id, target.directory);
  if (existing && existing.certificate_id !== certificate.id) {
    const other = (await getCertificate(ctx.store.db, existing.certificate_id))?.name ?? existing.certificate_id;
    throw new ConflictError(
      `to: ${target.directory} on ${agent.host} already receives certificate "${other}"; remove that target first (${existing.id})`,
      { field: 'to' },
    );
  }
  await ctx.store.db.transaction().execute(async (trx) => {
    if (!existing) {
      await insertDeployTarget(trx, {
        id: newId('dpt'),
        certificate_id: certificate.id,
        agent_id: agent.id,
        host: null,
        ...settings,
        created_at: now,
        updated_at: now,
      });
    } else if (!sameSettings(existing, settings)) {
      await updateDeployTarget(trx, existing.id, { ...settings, updated_at: now });
      await forgetDeployments(trx, existing.id);
    }
    await markAgentChanged(trx, agent.id, now);
  });
  ctx.notifyChange();
  const views = await listAgentTargets(ctx, agent);
  const view = views.find((candidate) => candidate.directory === target.directory);
  if (!view) throw new NotFoundError(`to: the target at ${target.directory} was removed meanwhile`, { field: 'to' });
  return view;
}

/** Stops deploying there: the agent stops managing the directory and leaves its files. */
export async function removeAgentTarget(
  ctx: EngineContext,
  subscriptionId: string,
  agentId: string,
  targetId: string,
): Promise<void> {
  const agent = await mustFindAgent(ctx, agentId, subscriptionId);
  const targets = await listAgentTargets(ctx, agent);
  if (!targets.some((target) => target.id === targetId)) {
    throw new NotFoundError(`target: agent ${agent.id} has no target ${targetId}`, { field: 'target' });
  }
  await ctx.store.db.transaction().execute(async (trx) => {
    await deleteDeployTarget(trx, targetId);
    await markAgentChanged(trx, agent.id, ctx.clock.now());
  });
  ctx.notifyChange();
}

/** The agent's targets with where each deployment stands, by certificate then directory. */
export async function listAgentTargets(ctx: EngineContext, agent: Pick<AgentRow, 'id'>): Promise<AgentTargetView[]> {
  const targets = await listTargets(ctx.store.db, { agentId: agent.id });
  const deployments = await deploymentsOf(ctx.store.db, targets.map((target) => target.id));
  return targets.map((target) => targetView(target, deployments));
}

export async function listAgentTargetsOf(ctx: EngineContext, subscriptionId: string, agentId: string): Promise<AgentTargetView[]> {
  return listAgentTargets(ctx, await mustFindAgent(ctx, agentId, subscriptionId));
}

/** What the agent deploys, as it reads it with its token. */
export async function agentAssignments(ctx: EngineContext, caller: AgentCaller): Promise<Assignments> {
  const rows = await listTargets(ctx.store.db, { agentId: caller.agentId, subscriptionId: caller.subscriptionId });
  const targets = await Promise.all(rows.map((row) => assignment(ctx, row)));
  return { targets, digest: createHash('sha256').update(JSON.stringify(targets)).digest('base64url').slice(0, 22) };
}

async function assignment(ctx: EngineContext, row: TargetOfCertificate): Promise<Assignment> {
  const certificate = await getCertificate(ctx.store.db, row.certificate_id);
  const live = certificate && certificate.state !== 'revoked' && row.current_version_id && row.current_serial;
  return {
    id: row.id,
    certificate: row.certificate_name,
    names: certificate?.identifiers.map((identifier) => identifier.value) ?? [],
    to: row.directory,
    format: row.format,
    reload: row.reload,
    deployHook: row.deploy_hook,
    verify: row.verify,
    verifyTimeoutMs: row.verify_timeout_ms,
    version: live ? { id: row.current_version_id as string, serial: row.current_serial as string } : null,
  };
}

/**
 * The current version of a certificate assigned to the agent, key included
 * (and its PKCS#12 when one of the agent's targets for it takes pfx). A
 * certificate not assigned to the agent is reported exactly like a missing one.
 */
export async function agentBundle(ctx: EngineContext, caller: AgentCaller, name: string): Promise<VersionBundle> {
  const { targets } = await agentAssignments(ctx, caller);
  const assigned = targets.filter((target) => target.certificate === name.toLowerCase() || target.certificate === name);
  const version = assigned.find((target) => target.version)?.version;
  if (assigned.length === 0 || !version) {
    throw new NotFoundError(`certificate: no certificate named "${name}" is assigned to this agent${assigned.length > 0 ? ' with a version yet' : ''}`, { field: 'certificate' });
  }
  const certificate = await mustFindCertificate(ctx, caller.subscriptionId, assigned[0].certificate);
  const stored = await getVersion(ctx.store.db, version.id);
  if (!stored) throw new NotFoundError(`certificate: "${name}" has no version ${version.id} any more`, { field: 'certificate' });
  const format = assigned.some((target) => target.format === 'pfx') ? 'pfx' : 'pem';
  return deploymentBundle(ctx, certificate, stored, format);
}

function checkAssignment(spec: AgentTargetSpec) {
  const names = {
    reload: commandName(spec.reload, 'reload', '--allow-reload'),
    deployHook: commandName(spec.deployHook, 'deployHook', '--allow-hook'),
  };
  try {
    return checkDeployTarget({ directory: spec.to, format: spec.format, verify: spec.verify, ...names });
  } catch (error) {
    // The deploy library calls it directory; an agent's target calls it `to`.
    if (error instanceof UsageError && error.field === 'directory') throw new UsageError(`to${error.message.slice('directory'.length)}`, 'to');
    throw error;
  }
}

function commandName(name: string | undefined, field: string, option: string): string | undefined {
  if (name === undefined || name === '') return undefined;
  if (COMMAND_NAME.test(name)) return name;
  throw new UsageError(
    `${field}: "${name}" is not a name; the agent's host decides what runs there (${option} NAME=CMD on the agent), so give the NAME, e.g. nginx`,
    field,
  );
}
