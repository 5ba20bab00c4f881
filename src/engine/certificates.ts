// Use cases for certificates as one machine uses them (certkeep issue, renew,
// resume): the certificate and its order are opened by the same functions the
// API and the scheduler use (orders.ts), then the order is driven to its
// certificate in the foreground, as a worker would drive it (runs.ts). Also:
// changing and deleting a certificate, for every surface.
import { UsageError } from '../errors.ts';
import { validateCsrSubject, type CsrSubject } from '../pki/index.ts';
import {
  type CertificateRow,
  deleteCertificateRow,
  findCertificate,
  getCertificate,
  getVersionDates,
  listCertificates,
  updateCertificate,
} from '../store/repositories/certificates.ts';
import { appendEvent } from '../store/repositories/events.ts';
import { certificatesWithOpenOrders, findOpenOrder, type OrderRow } from '../store/repositories/orders.ts';
import type { EngineContext } from './context.ts';
import { type IssuedVersion, OrderInterruptedError, type OrderStep } from './issuance.ts';
import type { EabCredentials } from './issuers.ts';
import { whileClaimedDue } from './leases.ts';
import { mustFindCertificate } from './lookups.ts';
import { OrderInProgressError, setPfxPassword, type StartedOrder, startCertificate, startRenewal } from './orders.ts';
import { isDue } from './planner.ts';
import type { ValidRequest } from './requests.ts';
import { finishOrder } from './runs.ts';
import type { SolverSource } from './solvers.ts';

export interface RunOptions {
  solvers: SolverSource;
  eab?: EabCredentials;
  /** Issue even when the certificate is not due. */
  force?: boolean;
  afterStep?: (step: OrderStep) => void | Promise<void>;
  /** Stops the run (the CLI's Ctrl-C): the order keeps its step, the answers this run placed are removed. */
  signal?: AbortSignal;
}

export type IssueOutcome =
  | { status: 'issued' | 'renewed' | 'resumed'; certificate: CertificateRow; version: IssuedVersion }
  | { status: 'unchanged'; certificate: CertificateRow; reason: string };

/**
 * `certkeep issue`: a new certificate, or a new version of an existing one when
 * its names changed or it is due; resumes an order a killed process left open.
 */
export async function issueCertificate(ctx: EngineContext, request: ValidRequest, options: RunOptions): Promise<IssueOutcome> {
  const existing = await findCertificate(ctx.store.db, request.subscriptionId, request.name);
  if (existing) {
    const open = await findOpenOrder(ctx.store.db, existing.id);
    if (open) return resumeOrder(ctx, existing, open, options);
    if (!options.force && existing.current_version_id && sameIdentifiers(existing, request)) {
      const notDue = await notDueReason(ctx, existing);
      if (notDue) return { status: 'unchanged', certificate: existing, reason: notDue };
    }
  }
  // The solver opens before anything is stored: a port in use leaves the store as it was.
  await options.solvers.solverFor({ subscription_id: request.subscriptionId, challenge_type: request.challengeType, challenge_config: request.challengeConfig });
  const started = await orJoin(ctx, () =>
    startCertificate(ctx, request, { answers: 'certkeep', goal: 'valid', replaceExisting: true, openOrder: 'keep', eab: options.eab }),
  );
  // Another process got there first: look again, as if this run had started after it.
  if (started === 'look again') return issueCertificate(ctx, request, { ...options, force: false });
  const version = await finishOrder(ctx, options.solvers, started.order.id, { ...runOptions(options), key: started.key });
  return { status: existing?.current_version_id ? 'renewed' : 'issued', certificate: await reload(ctx, started.certificate), version };
}

/**
 * `certkeep renew NAME`: a new version when due by the scheduler's rule (or
 * forced), opened as the scheduler opens it; resumes an order left open.
 */
export async function renewCertificate(ctx: EngineContext, subscriptionId: string, name: string, options: RunOptions): Promise<IssueOutcome> {
  const certificate = await mustFindCertificate(ctx, subscriptionId, name);
  const open = await findOpenOrder(ctx.store.db, certificate.id);
  if (open) return resumeOrder(ctx, certificate, open, options);
  const notDue = options.force ? undefined : await notDueReason(ctx, certificate);
  if (notDue) return { status: 'unchanged', certificate, reason: notDue };
  await options.solvers.solverFor(certificate);
  // Due by the scheduler's rule: opened under its claim. Forced, revoked or expired: opened now.
  const started = await orJoin(ctx, () =>
    options.force || !scheduledDue(ctx, certificate)
      ? startRenewal(ctx, subscriptionId, name, { goal: 'valid', eab: options.eab })
      : openDueRenewal(ctx, certificate, options),
  );
  // Another process opened an order meanwhile: look again, and join it.
  if (started === 'look again') return renewCertificate(ctx, subscriptionId, name, { ...options, force: false });
  if (!started) {
    // Another process holds the scheduler's claim, or renewed it meanwhile.
    const now = await reload(ctx, certificate);
    return { status: 'unchanged', certificate: now, reason: (await notDueReason(ctx, now)) ?? 'another certkeep process is renewing it right now' };
  }
  const version = await finishOrder(ctx, options.solvers, started.order.id, { ...runOptions(options), key: started.key });
  return { status: certificate.current_version_id ? 'renewed' : 'issued', certificate: await reload(ctx, certificate), version };
}

/** The names `certkeep renew --all` looks at: every certificate that is not revoked (each renewed when due). */
export async function renewableNames(ctx: EngineContext, subscriptionId: string): Promise<string[]> {
  return (await listCertificates(ctx.store.db, subscriptionId)).filter((c) => c.state !== 'revoked').map((c) => c.name);
}

/** The names `certkeep resume` looks at: certificates with an order a stopped process left open. */
export function namesWithOpenOrders(ctx: EngineContext, subscriptionId: string): Promise<string[]> {
  return certificatesWithOpenOrders(ctx.store.db, subscriptionId);
}

/**
 * The claim the scheduler takes before it opens a due certificate's order, so
 * that this process and a server on the same store open one order between
 * them; when another process opened it meanwhile, that order is resumed.
 */
async function openDueRenewal(ctx: EngineContext, certificate: CertificateRow, options: RunOptions): Promise<StartedOrder | undefined> {
  const claimed = await whileClaimedDue(ctx, certificate.id, () =>
    startRenewal(ctx, certificate.subscription_id, certificate.name, { goal: 'valid', eab: options.eab }),
  );
  if (claimed) return claimed.result;
  const open = await findOpenOrder(ctx.store.db, certificate.id);
  return open && { certificate, order: open };
}

/**
 * Opens an order, or 'look again' when another process stored the certificate
 * or an order for it first (the open order is the lock): the caller then joins
 * that process's order, or finds its result.
 */
async function orJoin<T>(ctx: EngineContext, start: () => Promise<T>): Promise<T | 'look again'> {
  try {
    return await start();
  } catch (error) {
    if (!(error instanceof OrderInProgressError)) throw error;
    ctx.progress(`${error.message}; waiting for it`);
    return 'look again';
  }
}

async function resumeOrder(ctx: EngineContext, certificate: CertificateRow, order: OrderRow, options: RunOptions): Promise<IssueOutcome> {
  ctx.progress(`resuming the order left at step "${order.step}"`);
  try {
    const version = await finishOrder(ctx, options.solvers, order.id, runOptions(options));
    return { status: 'resumed', certificate: await reload(ctx, certificate), version };
  } catch (error) {
    if (error instanceof OrderInterruptedError) throw error;
    // The CA may have judged the order while this process was down (a validation
    // that found the built-in responder gone): one fresh order, as a re-run would.
    if (await findOpenOrder(ctx.store.db, certificate.id)) throw error;
    ctx.progress(`the resumed order failed (${(error as Error).message}); placing a new one`);
    const fresh = await startRenewal(ctx, certificate.subscription_id, certificate.name, { goal: 'valid' });
    const version = await finishOrder(ctx, options.solvers, fresh.order.id, { ...runOptions(options), key: fresh.key });
    return { status: 'resumed', certificate: await reload(ctx, certificate), version };
  }
}

export interface CertificateChanges {
  /** The subject details of the CSRs sent from now on, the open order's included unless it is finalized. */
  csrInfo?: CsrSubject;
  /** The password that protects the PFX; '' removes it. */
  pfxPassword?: string;
}

/** Changes what a certificate's next CSR and its PFX use: details some clients give only when they finalize. */
export async function changeCertificate(ctx: EngineContext, subscriptionId: string, name: string, changes: CertificateChanges): Promise<CertificateRow> {
  const certificate = await mustFindCertificate(ctx, subscriptionId, name);
  if (changes.csrInfo) {
    const problem = validateCsrSubject(changes.csrInfo);
    if (problem) throw new UsageError(`csrInfo.${problem.field}: ${problem.reason}`, `csrInfo.${problem.field}`);
    await updateCertificate(ctx.store.db, certificate.id, { csr_info: changes.csrInfo, updated_at: ctx.clock.now() });
  }
  if (changes.pfxPassword !== undefined) await setPfxPassword(ctx, certificate, changes.pfxPassword);
  return reload(ctx, certificate);
}

/** Deletes the certificate with its versions and orders; its events stay, without the link. */
export async function deleteCertificate(ctx: EngineContext, subscriptionId: string, name: string): Promise<void> {
  const certificate = await mustFindCertificate(ctx, subscriptionId, name);
  const now = ctx.clock.now();
  await ctx.store.db.transaction().execute(async (trx) => {
    await deleteCertificateRow(trx, certificate.id);
    await appendEvent(trx, { subscriptionId, certificateId: null, type: 'certificate.deleted', payload: { name } }, now);
  });
}

/** Due by the scheduler's rule (planner.ts, isDue; the claim the scheduler takes checks the same); it leaves revoked certificates alone. */
function scheduledDue(ctx: EngineContext, certificate: CertificateRow): boolean {
  return certificate.state !== 'revoked' && isDue(certificate.retry_at, certificate.next_renewal_at, ctx.clock.now());
}

/**
 * Why a certificate needs no new version now, or undefined when it does:
 * revoked or expired means due, whatever its plan says; otherwise the
 * scheduler's rule. A certificate never issued waits for its time too.
 */
async function notDueReason(ctx: EngineContext, certificate: CertificateRow): Promise<string | undefined> {
  const now = ctx.clock.now();
  if (certificate.state === 'revoked') return undefined;
  if (certificate.current_version_id) {
    const current = await getVersionDates(ctx.store.db, certificate.current_version_id);
    if (!current || current.not_after <= now) return undefined;
  }
  if (scheduledDue(ctx, certificate)) return undefined;
  const at = certificate.retry_at ?? certificate.next_renewal_at;
  return `not due for renewal until ${at === null ? 'never (auto-renew is off)' : new Date(at).toISOString()}`;
}

function runOptions(options: RunOptions): { afterStep?: RunOptions['afterStep']; signal?: AbortSignal } {
  return { afterStep: options.afterStep, signal: options.signal };
}

function sameIdentifiers(certificate: CertificateRow, request: ValidRequest): boolean {
  const stored = certificate.identifiers.map((i) => i.value).sort();
  const wanted = request.identifiers.map((i) => i.value).sort();
  return stored.length === wanted.length && stored.every((value, index) => value === wanted[index]);
}

async function reload(ctx: EngineContext, certificate: CertificateRow): Promise<CertificateRow> {
  return (await getCertificate(ctx.store.db, certificate.id)) ?? certificate;
}
