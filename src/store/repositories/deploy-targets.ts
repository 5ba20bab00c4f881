// Deploy targets: where a certificate's versions go, on which machine, with
// which commands; and their deployments, one row per version and target,
// written pending before the files are touched and then with the outcome.
import type { DeploymentFields, DeployTargetFields } from '../records.ts';
import { type Decoded, type DecodedPatch, decodeJson, encodeJson } from './codec.ts';
import { compiledOnce } from './compiled.ts';
import type { Db, NewRow, Row, RowPatch } from './db.ts';

/** A target as the store keeps it: its verify addresses decoded, its format narrowed (records.ts). */
export type DeployTargetRow = Decoded<Row<'deploy_targets'>, DeployTargetFields>;
export type NewDeployTarget = Decoded<
  Omit<NewRow<'deploy_targets'>, 'lease_owner' | 'lease_token' | 'lease_until'>,
  DeployTargetFields
>;
export type DeployTargetPatch = DecodedPatch<RowPatch<'deploy_targets'>, DeployTargetFields>;
export type DeploymentRow = Decoded<Row<'deployments'>, DeploymentFields>;

const JSON_COLUMNS = ['verify'];

function decoded(row: Row<'deploy_targets'>): DeployTargetRow {
  return decodeJson<DeployTargetRow>(row, JSON_COLUMNS);
}

export async function insertDeployTarget(db: Db, target: NewDeployTarget): Promise<void> {
  await db
    .insertInto('deploy_targets')
    .values(encodeJson<NewRow<'deploy_targets'>>(target, JSON_COLUMNS))
    .execute();
}

export async function updateDeployTarget(db: Db, id: string, patch: DeployTargetPatch): Promise<void> {
  await db
    .updateTable('deploy_targets')
    .set(encodeJson<RowPatch<'deploy_targets'>>(patch, JSON_COLUMNS))
    .where('id', '=', id)
    .execute();
}

export async function deleteDeployTarget(db: Db, id: string): Promise<void> {
  await db.deleteFrom('deploy_targets').where('id', '=', id).execute();
}

export async function getDeployTarget(db: Db, id: string): Promise<DeployTargetRow | undefined> {
  const row = await db.selectFrom('deploy_targets').selectAll().where('id', '=', id).executeTakeFirst();
  return row && decoded(row);
}

/** The local target that writes to `directory` on `host`, whichever certificate it is for. */
export async function findLocalTarget(
  db: Db,
  host: string,
  directory: string,
): Promise<DeployTargetRow | undefined> {
  const row = await db
    .selectFrom('deploy_targets')
    .selectAll()
    .where('agent_id', 'is', null)
    .where('host', '=', host)
    .where('directory', '=', directory)
    .executeTakeFirst();
  return row && decoded(row);
}

/** A target with the certificate it is for: its name and current version. */
export type TargetOfCertificate = DeployTargetRow & {
  certificate_name: string;
  subscription_id: string;
  current_version_id: string | null;
  /** The current version's serial; null before the first version. */
  current_serial: string | null;
};

export interface TargetFilter {
  /** Local targets of this machine only; 'any': local targets of every machine. */
  host?: string | 'any';
  subscriptionId?: string;
  certificateIds?: string[];
  /** The targets of this agent only. */
  agentId?: string;
}

/** Targets (of one machine, subscription or set of certificates) with their certificates, by certificate name then directory. */
export async function listTargets(db: Db, filter: TargetFilter): Promise<TargetOfCertificate[]> {
  let query = db
    .selectFrom('deploy_targets as t')
    .innerJoin('certificates as c', 'c.id', 't.certificate_id')
    .leftJoin('certificate_versions as v', 'v.id', 'c.current_version_id')
    .selectAll('t')
    .select([
      'c.name as certificate_name',
      'c.subscription_id',
      'c.current_version_id',
      'v.serial as current_serial',
    ])
    .where('c.state', '!=', 'deleted')
    .orderBy('c.name')
    .orderBy('t.directory');
  if (filter.host !== undefined) query = query.where('t.agent_id', 'is', null);
  if (filter.host !== undefined && filter.host !== 'any') query = query.where('t.host', '=', filter.host);
  if (filter.subscriptionId !== undefined)
    query = query.where('c.subscription_id', '=', filter.subscriptionId);
  if (filter.agentId !== undefined) query = query.where('t.agent_id', '=', filter.agentId);
  if (filter.certificateIds !== undefined) {
    if (filter.certificateIds.length === 0) return [];
    query = query.where('c.id', 'in', filter.certificateIds);
  }
  return (await query.execute()).map((row) => decodeJson<TargetOfCertificate>(row, JSON_COLUMNS));
}

/** Targets (t) with their certificate (c) and the deployment (d) of its current version there, if any. */
function withCurrentDeployment(db: Db) {
  return db
    .selectFrom('deploy_targets as t')
    .innerJoin('certificates as c', 'c.id', 't.certificate_id')
    .leftJoin('deployments as d', (join) =>
      join.onRef('d.target_id', '=', 't.id').onRef('d.version_id', '=', 'c.current_version_id'),
    );
}

/** As withCurrentDeployment, those whose current version is not deployed there: never tried, pending, or failed. */
function notOnCurrentVersion(db: Db) {
  return withCurrentDeployment(db).where((eb) => eb.or([eb('d.status', 'is', null), eb('d.status', '!=', 'deployed')]));
}

/** A local target of `host` whose certificate's current version is not deployed there yet, with how that went so far. */
export type UndeployedTarget = Omit<TargetOfCertificate, 'current_serial'> & {
  current_version_id: string;
  /** The current version's deployment at this target: null when never tried. */
  status: DeploymentRow['status'] | null;
  attempts: number | null;
  finished_at: number | null;
};

/** Local targets of `host` not yet on their certificate's current version (never tried, pending, or failed). */
export async function undeployedLocalTargets(
  db: Db,
  host: string,
  limit: number,
): Promise<UndeployedTarget[]> {
  const rows = await notOnCurrentVersion(db)
    .selectAll('t')
    .select([
      'c.name as certificate_name',
      'c.subscription_id',
      'c.current_version_id',
      'd.status',
      'd.attempts',
      'd.finished_at',
    ])
    .where('t.agent_id', 'is', null)
    .where('t.host', '=', host)
    .where('c.state', 'not in', ['deleted', 'revoked'])
    .where('c.current_version_id', 'is not', null)
    .orderBy('t.updated_at')
    .limit(limit)
    .execute();
  return rows.map((row) => decodeJson<UndeployedTarget>(row, JSON_COLUMNS));
}

export async function findDeployment(
  db: Db,
  targetId: string,
  versionId: string,
): Promise<DeploymentRow | undefined> {
  return (await db
    .selectFrom('deployments')
    .selectAll()
    .where('target_id', '=', targetId)
    .where('version_id', '=', versionId)
    .executeTakeFirst()) as DeploymentRow | undefined;
}

/**
 * The certificate's targets, oldest first, each with its agent's host and the
 * current version's serial and deployment there (status null: not tried yet).
 * Read on every GET of a certificate, so compiled once.
 */
export const targetStandings = compiledOnce((db: Db, certificateId: string) =>
  withCurrentDeployment(db)
    .leftJoin('certificate_versions as v', 'v.id', 'c.current_version_id')
    .leftJoin('agents as a', 'a.id', 't.agent_id')
    .select(['t.id', 't.agent_id', 't.host', 't.directory', 'a.host as agent_host'])
    .select(['v.serial', 'd.status', 'd.verified_at', 'd.error'])
    .where('t.certificate_id', '=', certificateId)
    .orderBy('t.created_at'),
);

/** A deployment with the serial of its version. */
export type DeploymentWithSerial = DeploymentRow & { serial: string };

/** Every deployment of the targets, newest first. */
export async function deploymentsOf(db: Db, targetIds: string[]): Promise<DeploymentWithSerial[]> {
  if (targetIds.length === 0) return [];
  return (await db
    .selectFrom('deployments as d')
    .innerJoin('certificate_versions as v', 'v.id', 'd.version_id')
    .selectAll('d')
    .select('v.serial')
    .where('d.target_id', 'in', targetIds)
    .orderBy('d.started_at', 'desc')
    .execute()) as DeploymentWithSerial[];
}

/**
 * Records that the version is about to go to the target (pending, one more
 * attempt), before anything on the host is touched; fenced by the target's
 * lease, false when the lease was lost.
 */
export async function startDeployment(
  db: Db,
  row: { id: string; target_id: string; version_id: string; now: number; fence: number },
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    if (!(await holdsTarget(trx, row.target_id, row.fence))) return false;
    const existing = await findDeployment(trx, row.target_id, row.version_id);
    const fresh = {
      status: 'pending',
      stage: null,
      error: null,
      rollback_error: null,
      verified_at: null,
      started_at: row.now,
      finished_at: null,
    } as const;
    if (existing) {
      await trx
        .updateTable('deployments')
        .set({ ...fresh, attempts: existing.attempts + 1 })
        .where('id', '=', existing.id)
        .execute();
    } else {
      await trx
        .insertInto('deployments')
        .values({
          id: row.id,
          target_id: row.target_id,
          version_id: row.version_id,
          attempts: 1,
          created_at: row.now,
          ...fresh,
        })
        .execute();
    }
    return true;
  });
}

export type DeploymentOutcome = Pick<
  DeploymentRow,
  'status' | 'stage' | 'error' | 'rollback_error' | 'verified_at' | 'finished_at'
>;

/** Stores how the deployment ended, fenced by the target's lease; false when the lease was lost (nothing written). */
export async function finishDeployment(
  db: Db,
  targetId: string,
  versionId: string,
  fence: number,
  outcome: DeploymentOutcome,
): Promise<boolean> {
  const result = await db
    .updateTable('deployments')
    .set(outcome)
    .where(
      'target_id',
      'in',
      db
        .selectFrom('deploy_targets')
        .select('id')
        .where('id', '=', targetId)
        .where('lease_token', '=', fence),
    )
    .where('version_id', '=', versionId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Forgets what was deployed to the target, so that the next run deploys again (its settings changed). */
export async function forgetDeployments(db: Db, targetId: string): Promise<void> {
  await db.deleteFrom('deployments').where('target_id', '=', targetId).execute();
}

async function holdsTarget(db: Db, targetId: string, fence: number): Promise<boolean> {
  const row = await db
    .selectFrom('deploy_targets')
    .select('id')
    .where('id', '=', targetId)
    .where('lease_token', '=', fence)
    .executeTakeFirst();
  return row !== undefined;
}

/** The target of `agentId` that writes to `directory`, whichever certificate it is for. */
export async function findAgentTarget(
  db: Db,
  agentId: string,
  directory: string,
): Promise<DeployTargetRow | undefined> {
  const row = await db
    .selectFrom('deploy_targets')
    .selectAll()
    .where('agent_id', '=', agentId)
    .where('directory', '=', directory)
    .executeTakeFirst();
  return row && decoded(row);
}

/** A target not on its certificate's current version, with what is needed to say so (deployment.overdue). */
export interface OverdueTarget {
  id: string;
  agent_id: string | null;
  host: string | null;
  directory: string;
  agent_host: string | null;
  certificate_id: string;
  name: string;
  subscription_id: string;
  version_id: string;
  serial: string;
  stored_at: number;
  status: string | null;
  error: string | null;
}

/**
 * Targets whose current version became due there in the window (`from`, `to`]
 * — the version stored then, or the target made then for an older version —
 * and that are not on it yet, nor already told overdue for it. Read a page at a
 * time from two index ranges (versions stored, targets made in the window) and
 * then by key, so a pass costs what changed in the window, never the whole
 * fleet of targets.
 */
export async function overdueTargets(db: Db, from: number, to: number, pageSize = 500): Promise<OverdueTarget[]> {
  const found = new Map<string, OverdueTarget>();
  for (const driver of ['certificate_versions', 'deploy_targets'] as const) {
    // Keyset pages over (created_at, id), the index range of the window.
    let last: { created_at: number; id: string } | undefined;
    for (;;) {
      const after = last;
      const page = await db
        .selectFrom(driver)
        .select(['id', 'created_at'])
        .where('created_at', '<=', to)
        .where((eb) =>
          after
            ? eb.or([eb('created_at', '>', after.created_at), eb.and([eb('created_at', '=', after.created_at), eb('id', '>', after.id)])])
            : eb('created_at', '>', from),
        )
        .orderBy('created_at')
        .orderBy('id')
        .limit(pageSize)
        .execute();
      const ids = page.map((row) => row.id);
      if (ids.length > 0) {
        for (const row of await undeployedBy(db, driver === 'certificate_versions' ? { versionIds: ids } : { targetIds: ids }, to)) {
          found.set(row.id, row);
        }
      }
      if (page.length < pageSize) break;
      last = page[page.length - 1];
    }
  }
  return [...found.values()];
}

/** Of the given versions' targets, or the given targets, those not on their current version, due by `to`. */
function undeployedBy(db: Db, among: { versionIds: string[] } | { targetIds: string[] }, to: number): Promise<OverdueTarget[]> {
  let query = notOnCurrentVersion(db)
    .innerJoin('certificate_versions as v', 'v.id', 'c.current_version_id')
    .leftJoin('agents as a', 'a.id', 't.agent_id')
    .select([
      't.id',
      't.agent_id',
      't.host',
      't.directory',
      'a.host as agent_host',
      'c.id as certificate_id',
      'c.name',
      'c.subscription_id',
      'v.id as version_id',
      'v.serial',
      'v.created_at as stored_at',
      'd.status',
      'd.error',
    ])
    .where('v.created_at', '<=', to)
    .where('t.created_at', '<=', to)
    .where('c.state', 'not in', ['deleted', 'revoked'])
    .where((eb) => eb.or([eb('t.overdue_version_id', 'is', null), eb('t.overdue_version_id', '!=', eb.ref('v.id'))]));
  query =
    'versionIds' in among
      ? query.where('v.id', 'in', among.versionIds).whereRef('c.id', '=', 'v.certificate_id')
      : query.where('t.id', 'in', among.targetIds);
  return query.execute();
}

/** Marks the target told overdue for `versionId`; false when another pass did it first. */
export async function markTargetOverdue(db: Db, id: string, versionId: string): Promise<boolean> {
  const claimed = await db
    .updateTable('deploy_targets')
    .set({ overdue_version_id: versionId })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('overdue_version_id', 'is', null), eb('overdue_version_id', '!=', versionId)]))
    .executeTakeFirst();
  return Number(claimed.numUpdatedRows) === 1;
}
