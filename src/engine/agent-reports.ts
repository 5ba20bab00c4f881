// What agents report, and what the server makes of it: each deployment an
// agent attempts is stored in the same deployments table as this machine's
// (pending before it touches the host, then its outcome) with the same events
// (deployment.succeeded, deployment.failed), and a target still not on its
// certificate's current version long after it was issued raises
// deployment.overdue once — for agents' targets and local ones alike.
import { NotFoundError, UsageError } from '../errors.ts';
import type { DeployOutcome, DeployStage } from '../deploy/index.ts';
import { newId } from '../store/ids.ts';
import { findCertificateWithDates, getCertificate, getVersion, type VersionRow } from '../store/repositories/certificates.ts';
import { findDeployment, getDeployTarget, markTargetOverdue, overdueTargets, targetStandings } from '../store/repositories/deploy-targets.ts';
import { appendEvent } from '../store/repositories/events.ts';
import { isoTime } from '../time/iso.ts';
import type { AgentCaller } from './agents.ts';
import type { EngineContext } from './context.ts';
import { appendDeploymentEvent, storedOutcome } from './deployments.ts';
import { mustFindCertificate } from './lookups.ts';
import { type CertificateSummary, summarize } from './views.ts';

/** One deployment as the agent reports it. */
export interface DeploymentReport {
  target: string;
  versionId: string;
  /** pending: about to touch the host; deployed or failed: the outcome. */
  status: 'pending' | 'deployed' | 'failed';
  stage?: DeployStage;
  /** One line: what failed (or was refused on the host), and what the rollback did. */
  error?: string;
  rollbackError?: string;
  rolledBack?: boolean;
  /** When the new serial was seen served; absent when the target verifies nothing. */
  verifiedAt?: string;
}

const STAGES: readonly DeployStage[] = ['prepare', 'files', 'hook', 'reload', 'verify'];
const MAX_ERROR = 2000;

/** Stores the report; an outcome that changes the deployment's status raises its event (a repeated report raises none). */
export async function reportDeployment(ctx: EngineContext, caller: AgentCaller, report: DeploymentReport): Promise<void> {
  const db = ctx.store.db;
  const target = await getDeployTarget(db, report.target);
  if (!target || target.agent_id !== caller.agentId) {
    throw new NotFoundError(`target: this agent has no target ${report.target}; it may have been removed`, { field: 'target' });
  }
  const certificate = await getCertificate(db, target.certificate_id);
  const version = await getVersion(db, report.versionId);
  if (!certificate || !version || version.certificate_id !== certificate.id) {
    throw new NotFoundError(`versionId: ${report.versionId} is not a version of the target's certificate`, { field: 'versionId' });
  }
  if (report.stage !== undefined && !STAGES.includes(report.stage)) {
    throw new UsageError(`stage: "${report.stage}" is not one of ${STAGES.join(', ')}`, 'stage');
  }
  const now = ctx.clock.now();
  const verifiedAt = report.verifiedAt === undefined ? null : Date.parse(report.verifiedAt);
  if (Number.isNaN(verifiedAt)) throw new UsageError(`verifiedAt: "${report.verifiedAt}" is not a time`, 'verifiedAt');
  await db.transaction().execute(async (trx) => {
    const earlier = await findDeployment(trx, target.id, version.id);
    if (report.status === 'pending') {
      if (earlier?.status === 'pending') return;
      const fresh = { status: 'pending', stage: null, error: null, rollback_error: null, verified_at: null, started_at: now, finished_at: null } as const;
      if (earlier) await trx.updateTable('deployments').set({ ...fresh, attempts: earlier.attempts + 1 }).where('id', '=', earlier.id).execute();
      else await trx.insertInto('deployments').values({ id: newId('dpl'), target_id: target.id, version_id: version.id, attempts: 1, created_at: now, ...fresh }).execute();
      return;
    }
    const outcome = outcomeOf(report, target.directory, version, verifiedAt);
    const row = storedOutcome(outcome, now);
    if (earlier && earlier.status === row.status && earlier.error === row.error) return;
    if (earlier) await trx.updateTable('deployments').set(row).where('id', '=', earlier.id).execute();
    else await trx.insertInto('deployments').values({ id: newId('dpl'), target_id: target.id, version_id: version.id, attempts: 1, created_at: now, started_at: now, ...row }).execute();
    const agent = { id: caller.agentId, host: caller.host };
    await appendDeploymentEvent(trx, { certificate, target, version, attempts: earlier?.attempts ?? 1, agent }, outcome, now);
  });
  ctx.notifyChange();
}

/** The report as the deploy library would have said it, so that it is stored and told as this machine's are. */
function outcomeOf(report: DeploymentReport, directory: string, version: Pick<VersionRow, 'id' | 'serial'>, verifiedAt: number | null): DeployOutcome {
  const about = { directory, versionId: version.id, serial: version.serial };
  if (report.status === 'deployed') return { status: 'deployed', ...about, verifiedAt: verifiedAt === null ? undefined : new Date(verifiedAt) };
  return {
    status: 'failed',
    ...about,
    stage: report.stage ?? 'prepare',
    reason: (report.error ?? 'the agent reported a failure without a reason').slice(0, MAX_ERROR),
    rolledBack: report.rolledBack ?? false,
    rollbackFailure: report.rollbackError?.slice(0, MAX_ERROR),
  };
}

/** How a certificate's deployments are shown: one line per target, about the current version (or the last one there). */
export interface CertificateDeployment {
  /** The agent that deploys it; null for a target of certkeep itself on `host`. */
  agent: string | null;
  host: string | null;
  target: string;
  directory: string;
  serial: string | null;
  status: 'pending' | 'deployed' | 'failed';
  verifiedAt: string | null;
  error: string | null;
}

/** Where each of the certificate's targets stands: the current version's deployment there (pending until it is reported). */
export async function certificateDeployments(ctx: EngineContext, subscriptionId: string, name: string): Promise<CertificateDeployment[]> {
  return deploymentsOfCertificate(ctx, (await mustFindCertificate(ctx, subscriptionId, name)).id);
}

/** A certificate's summary and its deployments, by name, in two queries compiled once (the API's hottest read); undefined when there is none. */
export async function findCertificateWithDeployments(
  ctx: EngineContext,
  subscriptionId: string,
  name: string,
): Promise<(CertificateSummary & { deployments: CertificateDeployment[] }) | undefined> {
  const row = await findCertificateWithDates(ctx.store.db, subscriptionId, name);
  return row && { ...summarize(row), deployments: await deploymentsOfCertificate(ctx, row.id) };
}

async function deploymentsOfCertificate(ctx: EngineContext, certificateId: string): Promise<CertificateDeployment[]> {
  return (await targetStandings(ctx.store.db, certificateId)).map((row) => ({
    agent: row.agent_id,
    host: row.agent_host ?? row.host,
    target: row.id,
    directory: row.directory,
    serial: row.serial ?? null,
    status: row.status === 'deployed' || row.status === 'failed' ? row.status : 'pending',
    verifiedAt: row.verified_at == null ? null : isoTime(row.verified_at),
    error: row.status === 'failed' ? (row.error ?? null) : null,
  }));
}

/**
 * How far back a pass looks when it is not told where the last one ended (a
 * server starting): what became overdue longer ago while no server ran is not
 * raised (the deployment still shows pending or failed). Kept short because a
 * start reads every version stored in it — a sixth of a fleet of 6-day
 * certificates per day.
 */
const OVERDUE_LOOKBACK_MS = 2 * 3_600_000;

/**
 * Raises deployment.overdue for each target still not on its certificate's
 * current version `overdueMs` after that version was stored (or the target
 * made, if later), once per target and version. `since`: the moment up to
 * which an earlier pass looked (versions and targets that became due after it
 * are read). Returns how many it raised and up to when it looked.
 */
export async function raiseOverdueDeployments(ctx: EngineContext, overdueMs: number, since?: number): Promise<number> {
  return (await overduePass(ctx, overdueMs, since)).raised;
}

/** One look for overdue targets; `lookedUpTo` is the next pass's `since`. */
export async function overduePass(ctx: EngineContext, overdueMs: number, since?: number): Promise<{ raised: number; lookedUpTo: number }> {
  const now = ctx.clock.now();
  const db = ctx.store.db;
  const dueBy = now - overdueMs;
  const late = await overdueTargets(db, since ?? dueBy - OVERDUE_LOOKBACK_MS, dueBy);
  let raised = 0;
  for (const row of late) {
    await db.transaction().execute(async (trx) => {
      if (!(await markTargetOverdue(trx, row.id, row.version_id))) return;
      raised++;
      await appendEvent(
        trx,
        {
          subscriptionId: row.subscription_id,
          certificateId: row.certificate_id,
          type: 'deployment.overdue',
          payload: {
            name: row.name,
            target: row.id,
            directory: row.directory,
            agent: row.agent_id,
            host: row.agent_host ?? row.host,
            serial: row.serial,
            versionId: row.version_id,
            storedAt: isoTime(row.stored_at),
            status: row.status ?? 'pending',
            error: row.status === 'failed' ? row.error : null,
            overdueMinutes: Math.round(overdueMs / 60_000),
          },
        },
        now,
      );
    });
  }
  if (raised > 0) ctx.notifyChange();
  return { raised, lookedUpTo: dueBy };
}
