// Deployment as a durable use case: a target is brought to its certificate's
// current version under the target's lease; the deployment is recorded pending
// before anything on the host is touched, the deploy library does the work
// (files, hook, reload, verify, rollback), and the outcome is stored with its
// event (deployment.succeeded / deployment.failed) in one transaction. A
// process killed meanwhile leaves the deployment pending: the next run, here or
// in the server, deploys it again and the library finishes or undoes what the
// killed one left on disk. A target that failed is tried again at every run.
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type DeployFailure,
  type DeployOutcome,
  type DeployStep,
  deploy,
  readDeployment,
} from '../deploy/index.ts';
import { newId } from '../store/ids.ts';
import {
  type CertificateRow,
  getCertificate,
  getVersion,
  type VersionRow,
} from '../store/repositories/certificates.ts';
import type { Db } from '../store/repositories/db.ts';
import {
  type DeploymentOutcome,
  type DeployTargetRow,
  findDeployment,
  finishDeployment,
  getDeployTarget,
  startDeployment,
  undeployedLocalTargets,
} from '../store/repositories/deploy-targets.ts';
import { appendEvent } from '../store/repositories/events.ts';
import { leaseHolder } from '../store/repositories/leases.ts';
import type { EngineContext } from './context.ts';
import { localTargets, type TargetQuery, targetInput, THIS_MACHINE } from './deploy-targets.ts';
import { deploymentBundle } from './files.ts';
import { withLease } from './leases.ts';
import { isoTime } from '../time/iso.ts';

/** What one target's run came to. */
export interface DeploymentResult {
  certificate: string;
  directory: string;
  target: string;
  /** deployed: now; unchanged: it was on the current version already; waiting: the certificate has no version yet; failed. */
  status: 'deployed' | 'unchanged' | 'waiting' | 'failed';
  /** The version's serial this run was about (the current one). */
  serial: string | null;
  verifiedAt: string | null;
  attempts: number;
  stage?: DeployFailure['stage'];
  /** One line: what failed, and what the rollback did. */
  error?: string;
  /** The files are back on the previous version. */
  rolledBack?: boolean;
  /** What went wrong while rolling back, when anything did. */
  rollbackError?: string;
}

export interface DeployRunOptions {
  /** Called at each step of a deployment (progress; the crash tests stop a process at a step). */
  onStep?: (step: DeployStep) => void;
  /**
   * How long to wait while another process deploys the same target (then its
   * outcome is looked at); 0: skip the target (the server's deployer).
   */
  waitMs?: number;
}

/** How long the CLI waits for another process that is deploying the same target. */
export const WAIT_FOR_OTHER_DEPLOYMENT_MS = 15 * 60_000;
/** A failed target is retried by the server after a minute, then after twice as long each time, at most hourly. */
const FIRST_RETRY_MS = 60_000;
const MAX_RETRY_MS = 3_600_000;
/** Local targets the server's deployer looks at per pass, and deploys at once. */
const PASS_BATCH = 100;
const CONCURRENT_DEPLOYMENTS = 4;

/**
 * Brings this machine's targets of the subscription's certificates (of `names`,
 * else all) to their current versions, one after the other: `certkeep renew
 * --all`, `certkeep deploy run`, `certkeep issue --deploy-to`.
 */
export async function deployLocalTargets(
  ctx: EngineContext,
  subscriptionId: string,
  options: DeployRunOptions & TargetQuery = {},
): Promise<DeploymentResult[]> {
  const targets = await localTargets(ctx, subscriptionId, options);
  const results: DeploymentResult[] = [];
  for (const target of targets) {
    const result = await bringToCurrent(ctx, target.id, { waitMs: WAIT_FOR_OTHER_DEPLOYMENT_MS, ...options });
    if (result) results.push(result);
  }
  return results;
}

/**
 * The server's deployer: this machine's targets not on their current version —
 * new versions, deployments a killed process left pending, and failed ones once
 * their retry time has come — each deployed unless another process is at it.
 */
export async function deployDueTargets(
  ctx: EngineContext,
  options: Pick<DeployRunOptions, 'onStep'> = {},
): Promise<DeploymentResult[]> {
  const now = ctx.clock.now();
  const due = (await undeployedLocalTargets(ctx.store.db, THIS_MACHINE, PASS_BATCH)).filter(
    (target) =>
      target.status !== 'failed' || deploymentRetryAt(target.finished_at ?? 0, target.attempts ?? 1) <= now,
  );
  const results: DeploymentResult[] = [];
  for (let i = 0; i < due.length; i += CONCURRENT_DEPLOYMENTS) {
    const batch = due.slice(i, i + CONCURRENT_DEPLOYMENTS);
    const done = await Promise.all(
      batch.map((target) => bringToCurrent(ctx, target.id, { ...options, waitMs: 0 })),
    );
    results.push(...done.filter((result) => result !== undefined));
  }
  return results;
}

/** When the server tries a failed target again: a minute after the first failure, doubling, at most hourly. */
export function deploymentRetryAt(finishedAt: number, attempts: number): number {
  return finishedAt + Math.min(FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1), MAX_RETRY_MS);
}

/** One target to its current version under its lease; undefined when it is gone, or busy elsewhere and not waited for. */
async function bringToCurrent(
  ctx: EngineContext,
  targetId: string,
  options: DeployRunOptions,
): Promise<DeploymentResult | undefined> {
  const deadline = Date.now() + (options.waitMs ?? 0);
  for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
    const held = await withLease(ctx, 'deploy_targets', targetId, (fence) =>
      deployCurrent(ctx, targetId, fence, options),
    );
    if (held) return held.result;
    if (Date.now() >= deadline) return options.waitMs ? busyElsewhere(ctx, targetId) : undefined;
    if (delay === 50) ctx.progress('another certkeep process is deploying to this target; waiting for it');
    await sleep(delay);
  }
}

async function deployCurrent(
  ctx: EngineContext,
  targetId: string,
  fence: number,
  options: DeployRunOptions,
): Promise<DeploymentResult | undefined> {
  const db = ctx.store.db;
  const target = await getDeployTarget(db, targetId);
  const certificate = target && (await getCertificate(db, target.certificate_id));
  if (!target || !certificate || certificate.state === 'deleted' || certificate.state === 'revoked')
    return undefined;
  const version = certificate.current_version_id
    ? await getVersion(db, certificate.current_version_id)
    : undefined;
  if (!version)
    return { ...about(certificate, target), status: 'waiting', serial: null, verifiedAt: null, attempts: 0 };
  const earlier = await findDeployment(db, target.id, version.id);
  if (earlier?.status === 'deployed') {
    return {
      ...about(certificate, target),
      status: 'unchanged',
      serial: version.serial,
      verifiedAt: optionalTime(earlier.verified_at),
      attempts: earlier.attempts,
    };
  }
  const started = await startDeployment(db, {
    id: newId('dpl'),
    target_id: target.id,
    version_id: version.id,
    now: ctx.clock.now(),
    fence,
  });
  if (!started) return undefined;
  const attempts = (earlier?.attempts ?? 0) + 1;
  ctx.progress(`deploying ${certificate.name} (serial ${version.serial}) to ${target.directory}`);
  const outcome = await attemptDeployment(ctx, target, certificate, version, options);
  await recordOutcome(ctx, target, certificate, version, fence, outcome, attempts);
  return resultOf(certificate, target, outcome, attempts);
}

/** The deploy library's outcome; whatever stops it before it starts (no key, no PFX password, bad input) is a failure at `prepare`. */
async function attemptDeployment(
  ctx: EngineContext,
  target: DeployTargetRow,
  certificate: CertificateRow,
  version: VersionRow,
  options: DeployRunOptions,
): Promise<DeployOutcome> {
  try {
    const finished = await finishedBeforeKill(target, version);
    if (finished) return finished;
    const bundle = await deploymentBundle(ctx, certificate, version, target.format);
    return await deploy(targetInput(target), bundle, { onProgress: options.onStep });
  } catch (error) {
    return {
      status: 'failed',
      directory: target.directory,
      versionId: version.id,
      serial: version.serial,
      stage: 'prepare',
      reason: (error as Error).message,
      rolledBack: false,
    };
  }
}

/**
 * A process killed after the deploy library finished, before it stored the
 * outcome, leaves the version complete (and verified, where the target
 * verifies) in the directory's manifest: that deployment stands.
 */
async function finishedBeforeKill(
  target: DeployTargetRow,
  version: VersionRow,
): Promise<DeployOutcome | undefined> {
  const held = await readDeployment(target.directory).catch(() => undefined);
  if (held?.versionId !== version.id || !held.completedAt || held.completedAt.getTime() < target.updated_at)
    return undefined;
  if (target.verify.length > 0 && !held.verifiedAt) return undefined;
  return {
    status: 'deployed',
    directory: target.directory,
    versionId: version.id,
    serial: version.serial,
    verifiedAt: held.verifiedAt,
  };
}

async function recordOutcome(
  ctx: EngineContext,
  target: DeployTargetRow,
  certificate: CertificateRow,
  version: VersionRow,
  fence: number,
  outcome: DeployOutcome,
  attempts: number,
): Promise<void> {
  const now = ctx.clock.now();
  await ctx.store.db.transaction().execute(async (trx) => {
    const stored = await finishDeployment(trx, target.id, version.id, fence, storedOutcome(outcome, now));
    // The lease was lost to another process: its outcome is the one that counts.
    if (!stored) return;
    await appendDeploymentEvent(trx, { certificate, target, version, attempts }, outcome, now);
  });
}

/** A deployment's outcome as its row keeps it. */
export function storedOutcome(outcome: DeployOutcome, now: number): DeploymentOutcome {
  const failed = outcome.status === 'failed';
  return {
    status: outcome.status,
    stage: failed ? outcome.stage : null,
    error: failed ? outcome.reason : null,
    rollback_error: failed ? (outcome.rollbackFailure ?? null) : null,
    verified_at: failed ? null : (outcome.verifiedAt?.getTime() ?? null),
    finished_at: now,
  };
}

/** deployment.succeeded or deployment.failed, for this machine's deployments and agents' alike (an agent's names it and its host). */
export async function appendDeploymentEvent(
  db: Db,
  about: {
    certificate: CertificateRow;
    target: DeployTargetRow;
    version: Pick<VersionRow, 'id' | 'serial'>;
    attempts: number;
    agent?: { id: string; host: string };
  },
  outcome: DeployOutcome,
  now: number,
): Promise<void> {
  const { certificate, target, version } = about;
  const failed = outcome.status === 'failed';
  await appendEvent(
    db,
    {
      subscriptionId: certificate.subscription_id,
      certificateId: certificate.id,
      type: failed ? 'deployment.failed' : 'deployment.succeeded',
      payload: {
        name: certificate.name,
        target: target.id,
        directory: target.directory,
        ...(about.agent ? { agent: about.agent.id, host: about.agent.host } : { host: target.host }),
        serial: version.serial,
        versionId: version.id,
        attempts: about.attempts,
        ...(failed
          ? {
              stage: outcome.stage,
              error: outcome.reason,
              rolledBack: outcome.rolledBack,
              rollbackError: outcome.rollbackFailure ?? null,
            }
          : { verifiedAt: outcome.verifiedAt ? outcome.verifiedAt.toISOString() : null }),
      },
    },
    now,
  );
}

function resultOf(
  certificate: CertificateRow,
  target: DeployTargetRow,
  outcome: DeployOutcome,
  attempts: number,
): DeploymentResult {
  const base = { ...about(certificate, target), serial: outcome.serial, attempts };
  if (outcome.status === 'deployed')
    return {
      ...base,
      status: 'deployed',
      verifiedAt: outcome.verifiedAt ? isoTime(outcome.verifiedAt.getTime()) : null,
    };
  return {
    ...base,
    status: 'failed',
    verifiedAt: null,
    stage: outcome.stage,
    error: outcome.reason,
    rolledBack: outcome.rolledBack,
    ...(outcome.rollbackFailure ? { rollbackError: outcome.rollbackFailure } : {}),
  };
}

/** Still busy after the wait: reported as a failure of this run, naming who holds the target. */
async function busyElsewhere(ctx: EngineContext, targetId: string): Promise<DeploymentResult | undefined> {
  const target = await getDeployTarget(ctx.store.db, targetId);
  const certificate = target && (await getCertificate(ctx.store.db, target.certificate_id));
  if (!target || !certificate) return undefined;
  const owner = (await leaseHolder(ctx.store.db, 'deploy_targets', targetId))?.lease_owner;
  const holder = owner ? `another certkeep process (${owner})` : 'another certkeep process';
  return {
    ...about(certificate, target),
    status: 'failed',
    serial: null,
    verifiedAt: null,
    attempts: 0,
    stage: 'prepare',
    error: `${holder} has been deploying to ${target.directory} for longer than ${WAIT_FOR_OTHER_DEPLOYMENT_MS / 60_000} minutes; try again later`,
  };
}

function about(
  certificate: CertificateRow,
  target: DeployTargetRow,
): Pick<DeploymentResult, 'certificate' | 'directory' | 'target'> {
  return { certificate: certificate.name, directory: target.directory, target: target.id };
}

function optionalTime(ms: number | null): string | null {
  return ms === null ? null : isoTime(ms);
}
