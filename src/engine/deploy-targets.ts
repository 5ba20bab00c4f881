// Where a certificate is deployed on this machine, and with which commands.
// Local targets are the operator's: added and removed on this machine's command
// line (certkeep issue --deploy-to, certkeep deploy add), never through the API,
// since their commands run here (DESIGN.md, trust boundaries). Each belongs to
// the machine it was added on, so instances sharing one database run only their
// own machine's commands.
import { access } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { type DeployTarget, type DeployTargetInput, parseDeployTarget } from '../deploy/index.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import { openStore, SQLITE_FILE, type Store, type StoreOptions } from '../store/database.ts';
import { StoreError } from '../store/errors.ts';
import { newId } from '../store/ids.ts';
import { type CertificateRow, getCertificate } from '../store/repositories/certificates.ts';
import {
  type DeploymentWithSerial,
  type DeployTargetRow,
  deleteDeployTarget,
  deploymentsOf,
  findLocalTarget,
  forgetDeployments,
  insertDeployTarget,
  listTargets,
  type TargetOfCertificate,
  updateDeployTarget,
} from '../store/repositories/deploy-targets.ts';
import type { EngineContext } from './context.ts';
import { missingPfxPassword } from './files.ts';
import { mustFindCertificate } from './lookups.ts';
import { isoTime } from '../time/iso.ts';

/** The machine this process runs on: its local targets are the ones it deploys. */
export const THIS_MACHINE = hostname();

/** A target as the operator describes it (the deploy library checks it, naming the field at fault). */
export type DeployTargetSpec = DeployTargetInput;

/** Checks a target's settings before anything is stored or issued; throws a UsageError naming the field. */
export function checkDeployTarget(spec: DeployTargetSpec): DeployTarget {
  return parseDeployTarget(spec);
}

export type TargetChange = 'added' | 'updated' | 'unchanged';

/**
 * Adds a local target to a certificate, or changes the settings of the one at
 * that directory; a target whose settings change is deployed afresh at the next
 * run. A directory that another certificate's target writes to is refused.
 */
export async function addDeployTarget(
  ctx: EngineContext,
  subscriptionId: string,
  name: string,
  spec: DeployTargetSpec,
): Promise<{ target: DeployTargetView; change: TargetChange }> {
  const certificate = await mustFindCertificate(ctx, subscriptionId, name);
  const target = checkDeployTarget(spec);
  if (target.format === 'pfx' && !certificate.pfx_password_enc) throw missingPfxPassword(certificate.name);
  const existing = await findLocalTarget(ctx.store.db, THIS_MACHINE, target.directory);
  if (existing && existing.certificate_id !== certificate.id) throw await directoryTaken(ctx, existing);
  const settings = storedSettings(target);
  const now = ctx.clock.now();
  let change: TargetChange = 'unchanged';
  if (!existing) {
    await insertNew(ctx, certificate, settings, now);
    change = 'added';
  } else if (!sameSettings(existing, settings)) {
    await ctx.store.db.transaction().execute(async (trx) => {
      await updateDeployTarget(trx, existing.id, { ...settings, updated_at: now });
      await forgetDeployments(trx, existing.id);
    });
    change = 'updated';
  }
  const [view] = await listDeployTargets(ctx, subscriptionId, {
    names: [certificate.name],
    directory: target.directory,
  });
  return { target: view, change };
}

/** Removes the certificate's target at `directory` on this machine; the files there stay as they are. */
export async function removeDeployTarget(
  ctx: EngineContext,
  subscriptionId: string,
  name: string,
  directory: string,
): Promise<DeployTargetView> {
  const certificate = await mustFindCertificate(ctx, subscriptionId, name);
  const normal = parseDeployTarget({ directory }).directory;
  const [view] = await listDeployTargets(ctx, subscriptionId, {
    names: [certificate.name],
    directory: normal,
  });
  if (!view) {
    throw new NotFoundError(
      `directory: "${certificate.name}" has no deploy target at ${normal} on this machine (${THIS_MACHINE})`,
      { field: 'directory' },
    );
  }
  await deleteDeployTarget(ctx.store.db, view.id);
  return view;
}

/** How a target is shown: its settings, and what it holds — the serial, whether that was verified and when. */
export interface DeployTargetView {
  id: string;
  certificate: string;
  directory: string;
  format: DeployTarget['format'];
  owner: string | null;
  deployHook: string | null;
  reload: string | null;
  verify: string[];
  verifyTimeoutSeconds: number;
  /** The machine whose certkeep deploys it (local targets). */
  host: string | null;
  /** The agent that deploys it (issue 13); null for a local target. */
  agent: string | null;
  /** deployed: on the certificate's current version; pending: being deployed (or a process died doing so); failed; waiting: not tried yet. */
  status: 'deployed' | 'pending' | 'failed' | 'waiting';
  /** The certificate's current serial; null before its first version. */
  currentSerial: string | null;
  /** The serial of the last version deployed here; null when none was. */
  serial: string | null;
  verified: boolean;
  verifiedAt: string | null;
  deployedAt: string | null;
  /** The current version's attempts here so far. */
  attempts: number;
  /** Why the current version's last attempt failed. */
  error: string | null;
  /** What went wrong while rolling back that attempt, when anything did. */
  rollbackError: string | null;
}

export interface TargetQuery {
  /** Only these certificates' targets. */
  names?: string[];
  /** Only the target at this directory. */
  directory?: string;
  /** Also the local targets of other machines sharing the store (shown; each is deployed by its own machine). */
  everyMachine?: boolean;
}

/** This machine's targets of the subscription's certificates (of `names` when given), by certificate then directory. */
export async function listDeployTargets(
  ctx: EngineContext,
  subscriptionId: string,
  query: TargetQuery = {},
): Promise<DeployTargetView[]> {
  const targets = await localTargets(ctx, subscriptionId, query);
  const deployments = await deploymentsOf(
    ctx.store.db,
    targets.map((target) => target.id),
  );
  return targets.map((target) => targetView(target, deployments));
}

/** This machine's targets of the subscription's certificates (of `names` when given; a name not there is a NotFoundError). */
export async function localTargets(
  ctx: EngineContext,
  subscriptionId: string,
  query: TargetQuery = {},
): Promise<TargetOfCertificate[]> {
  const certificateIds =
    query.names &&
    (await Promise.all(
      query.names.map(async (name) => (await mustFindCertificate(ctx, subscriptionId, name)).id),
    ));
  const host = query.everyMachine ? 'any' : THIS_MACHINE;
  const targets = await listTargets(ctx.store.db, { host, subscriptionId, certificateIds });
  return targets.filter((target) => query.directory === undefined || target.directory === query.directory);
}

export function targetView(target: TargetOfCertificate, deployments: DeploymentWithSerial[]): DeployTargetView {
  const own = deployments.filter((deployment) => deployment.target_id === target.id);
  const current = own.find((deployment) => deployment.version_id === target.current_version_id);
  const held = own.find((deployment) => deployment.status === 'deployed');
  return {
    id: target.id,
    certificate: target.certificate_name,
    directory: target.directory,
    format: target.format,
    owner: target.owner,
    deployHook: target.deploy_hook,
    reload: target.reload,
    verify: target.verify,
    verifyTimeoutSeconds: target.verify_timeout_ms / 1000,
    host: target.host,
    agent: target.agent_id,
    status: current?.status ?? 'waiting',
    currentSerial: target.current_serial,
    serial: held?.serial ?? null,
    verified: held?.verified_at != null,
    verifiedAt: held?.verified_at == null ? null : isoTime(held.verified_at),
    deployedAt: held?.finished_at == null ? null : isoTime(held.finished_at),
    attempts: current?.attempts ?? 0,
    error: current?.status === 'failed' ? current.error : null,
    rollbackError: current?.status === 'failed' ? current.rollback_error : null,
  };
}

export type StoredSettings = Pick<
  DeployTargetRow,
  'directory' | 'format' | 'owner' | 'deploy_hook' | 'reload' | 'verify' | 'verify_timeout_ms'
>;

export function storedSettings(target: DeployTarget): StoredSettings {
  return {
    directory: target.directory,
    format: target.format,
    owner: target.owner ?? null,
    deploy_hook: target.deployHook ?? null,
    reload: target.reload ?? null,
    verify: target.verify,
    verify_timeout_ms: target.verifyTimeoutMs,
  };
}

/** A stored target as the deploy library takes it: the other way round from storedSettings. */
export function targetInput(row: DeployTargetRow): DeployTargetInput {
  return {
    directory: row.directory,
    format: row.format,
    owner: row.owner ?? undefined,
    deployHook: row.deploy_hook ?? undefined,
    reload: row.reload ?? undefined,
    verify: row.verify,
    verifyTimeoutMs: row.verify_timeout_ms,
  };
}

export function sameSettings(row: DeployTargetRow, settings: StoredSettings): boolean {
  return (Object.keys(settings) as (keyof StoredSettings)[]).every(
    (key) => JSON.stringify(row[key]) === JSON.stringify(settings[key]),
  );
}

async function insertNew(
  ctx: EngineContext,
  certificate: CertificateRow,
  settings: StoredSettings,
  now: number,
): Promise<void> {
  try {
    await insertDeployTarget(ctx.store.db, {
      id: newId('dpt'),
      certificate_id: certificate.id,
      agent_id: null,
      host: THIS_MACHINE,
      ...settings,
      created_at: now,
      updated_at: now,
    });
  } catch (error) {
    // Another process added a target at the same directory meanwhile.
    const winner = await findLocalTarget(ctx.store.db, THIS_MACHINE, settings.directory);
    if (!winner) throw error;
    if (winner.certificate_id !== certificate.id) throw await directoryTaken(ctx, winner);
  }
}

async function directoryTaken(ctx: EngineContext, holder: DeployTargetRow): Promise<ConflictError> {
  const other = (await getCertificate(ctx.store.db, holder.certificate_id))?.name ?? holder.certificate_id;
  return new ConflictError(
    `directory: ${holder.directory} already receives certificate "${other}" on this machine; remove that target first (deploy remove ${other} --to ${holder.directory})`,
    { field: 'directory' },
  );
}

/**
 * Where this machine's deployments write — each target directory's parent,
 * which holds the directory's symlink and its versions — read from the store
 * when there is one (none is made): what a sandbox around `renew --all` and
 * `serve` must leave writable.
 */
export async function localDeployParents(config: StoreOptions): Promise<string[]> {
  if (
    !config.databaseUrl &&
    !(await access(join(config.dataDir, SQLITE_FILE)).then(
      () => true,
      () => false,
    ))
  )
    return [];
  let store: Store;
  try {
    store = await openStore({ ...config, mode: 'existing' });
  } catch (error) {
    // A database not set up yet holds no targets; the units are written all the same.
    if (config.databaseUrl && error instanceof StoreError) return [];
    throw error;
  }
  try {
    const targets = await listTargets(store.db, { host: THIS_MACHINE });
    return [...new Set(targets.map((target) => dirname(target.directory)))].sort();
  } finally {
    await store.close();
  }
}
