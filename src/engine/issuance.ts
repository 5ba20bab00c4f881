// Issuance as a durable state machine (DESIGN.md, "Issuance, step by step").
// Every step writes its result to the store before the next step talks to the
// CA, so a process killed at any point resumes the same ACME order:
//
//   new → placed → provisioned → responded → ready → finalized → valid
//                                                        ↘ invalid / failed
//
// An order runs towards its goal (orders.goal): 'valid' when certkeep answers
// the challenges itself, 'placed' while a client places the answers from the
// returned tokens, then 'ready' or 'valid' once it asks for validation. Where
// several runners may exist (the server's workers), each holds the order's
// lease and every write is fenced by the lease token.
import type { KeyObject } from 'node:crypto';
import type { AcmeAuthorization, AcmeChallenge, AcmeClient, AcmeOrder } from '../acme/index.ts';
import type { Db } from '../store/repositories/db.ts';
import { AcmeError, AcmeNetworkError, AcmeNotFoundError, AcmeProblemError, AcmeRateLimitError, AcmeTimeoutError } from '../acme/index.ts';
import type { ChallengeSolver, ChallengeTask } from '../challenges/solver.ts';
import { createCsr, type Identifier, parseCertificate, parseCsr, privateKeyFromPem } from '../pki/index.ts';
import type { AuthorizationRecord, OrderStep } from '../store/records.ts';
import { newId } from '../store/ids.ts';
import { type CertificateRow, findVersionOfOrder, getCertificate, getVersionDates, insertVersion, makeVersionCurrent, updateCertificate } from '../store/repositories/certificates.ts';
import { retireSuperseded } from '../store/repositories/retention.ts';
import { appendEvent } from '../store/repositories/events.ts';
import { fencedUpdateOrder, getOrder, type OrderPatch, type OrderRow, updateOrder } from '../store/repositories/orders.ts';
import type { ReadyAccount } from './accounts.ts';
import { deactivatePending } from './authorizations.ts';
import { downloadPreferredChain } from './chains.ts';
import type { EngineContext } from './context.ts';
import { ConflictError, UpstreamError } from '../errors.ts';
import { mustGetCertificate, mustGetOrder } from './lookups.ts';
import { FAILURES_PER_ISSUER, plannedRenewal, retryTime, severity } from './planner.ts';

export type { AuthorizationRecord, OrderGoal, OrderStep } from '../store/records.ts';

/** The steps in the order they are taken, for comparing where an order stands with its goal. */
export const STEP_ORDER: readonly OrderStep[] = ['new', 'placed', 'provisioned', 'responded', 'ready', 'finalized', 'valid'];

export function stepReached(step: OrderStep, goal: OrderStep): boolean {
  return STEP_ORDER.indexOf(step) >= STEP_ORDER.indexOf(goal);
}

export interface RunOrderOptions {
  solver: ChallengeSolver;
  /** Seam for crash tests: called after a step is stored, before the next begins. */
  afterStep?: (step: OrderStep) => void | Promise<void>;
  /** The lease token this runner holds: a write after another runner took the order over fails. */
  fence?: number;
  /**
   * Stops the run at once, even inside a step (the CLI's Ctrl-C): the order keeps
   * the step it has stored, and the answers this run placed are removed.
   */
  signal?: AbortSignal;
  /** The order's new key as this process made it a moment ago (orders.ts): spares decrypting and parsing the stored copy. */
  key?: FreshKey;
  /** The order's certificate, as the caller read it just before the run (spares reading it again). */
  certificate?: CertificateRow;
}

/** A certificate key generated for an order, in memory and as the PEM stored (encrypted) with the order. */
export interface FreshKey {
  pem: string;
  object: KeyObject;
}

export interface IssuedVersion {
  versionId: string;
  serial: string;
  notBefore: number;
  notAfter: number;
}

// Validation and signing are never instant: looking at once mostly costs a request.
const AFTER_RESPONSE_MS = 15;
const AFTER_FINALIZE_MS = 10;

export const orderKeyAad = (orderId: string) => `order:${orderId}:key`;
export const versionKeyAad = (versionId: string) => `version:${versionId}:key`;

/** What one run of an order keeps in memory between its steps; the store stays the truth. */
interface Run {
  ctx: EngineContext;
  client: AcmeClient;
  solver: ChallengeSolver;
  certificate: CertificateRow;
  order: OrderRow;
  /** Answers put in place by this process (or being put), taken away when the run ends. */
  presented: ChallengeTask[];
  /** The solver calls placing them, awaited before they are taken away. */
  presenting: Promise<unknown>[];
  /** Set when the run was stopped from outside: no more answers are placed. */
  stopped: boolean;
  /** The authorizations of an order placed in this run, known before the order is stored. */
  placedAuthorizations?: string[];
  keyPem?: string;
  key?: KeyObject;
  fence?: number;
}

/** Drives one order from wherever it stands to its goal (orders.goal); returns the stored row. */
export async function advanceOrder(ctx: EngineContext, orderId: string, account: ReadyAccount, options: RunOrderOptions): Promise<OrderRow> {
  const order = await mustGetOrder(ctx, orderId);
  const run: Run = {
    ctx,
    client: account.client,
    solver: options.solver,
    certificate: options.certificate ?? (await mustGetCertificate(ctx, order.certificate_id)),
    order,
    presented: [],
    presenting: [],
    stopped: false,
    keyPem: options.key?.pem,
    key: options.key?.object,
    fence: options.fence,
  };
  try {
    for (;;) {
      const { step } = run.order;
      if (step === 'invalid' || step === 'failed') throw new ConflictError(`order ${run.order.order_url} is ${step}: ${run.order.error}`);
      if (step === 'valid' || step === 'deployed' || stepReached(step, run.order.goal)) return run.order;
      await untilStopped(run, STEPS[step](run), options.signal);
      await options.afterStep?.(run.order.step);
    }
  } catch (error) {
    if (!(error instanceof LeaseLostError || error instanceof OrderInterruptedError)) {
      await recordFailure(ctx, orderId, error);
      await deactivateIfEnded(run);
    }
    throw error;
  } finally {
    await cleanupAll(run);
  }
}

/** Another runner took the order over (this one's lease expired): stop without writing. */
export class LeaseLostError extends Error {
  constructor(orderId: string) {
    super(`order ${orderId} was taken over by another worker`);
    this.name = 'LeaseLostError';
  }
}

/** The run was stopped from outside (a signal): the order is kept at `step`, for certkeep resume or a worker. */
export class OrderInterruptedError extends Error {
  readonly step: OrderStep;
  constructor(step: OrderStep) {
    super(`stopped; the order is kept at step "${step}"`);
    this.name = 'OrderInterruptedError';
    this.step = step;
  }
}

/**
 * A step, or OrderInterruptedError as soon as `signal` fires. The step itself
 * may go on in the background (a poll, a DNS wait) until the process exits; it
 * places no further answers, and what it stores is still true.
 */
async function untilStopped(run: Run, step: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return step;
  step.catch(() => {}); // once stopped, nobody waits for the step's own failure
  let onAbort = () => {};
  const stopped = new Promise<never>((_, reject) => {
    onAbort = () => {
      run.stopped = true;
      reject(new OrderInterruptedError(run.order.step));
    };
  });
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  try {
    await Promise.race([step, stopped]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

const STEPS: Record<Exclude<OrderStep, 'valid' | 'deployed' | 'invalid' | 'failed'>, (run: Run) => Promise<void>> = {
  new: placeOrder,
  placed: provisionChallenges,
  provisioned: respondToChallenges,
  responded: awaitValidation,
  ready: finalizeOrder,
  finalized: downloadCertificate,
};

/** Stores the step's result; only then may the next step talk to the CA. */
async function advance(run: Run, patch: OrderPatch & { step: OrderStep }): Promise<void> {
  const update = { ...patch, updated_at: run.ctx.clock.now() };
  await writeOrder(run, run.ctx.store.db, update);
  run.order = { ...run.order, ...update };
  run.ctx.notifyChange();
}

async function writeOrder(run: Run, db: Db, update: OrderPatch): Promise<void> {
  if (run.fence === undefined) return updateOrder(db, run.order.id, update);
  if (!(await fencedUpdateOrder(db, run.order.id, run.fence, update))) throw new LeaseLostError(run.order.id);
}

/** The order's authorizations, as a copy this run may change before it stores them. */
function records(run: Run): AuthorizationRecord[] {
  return run.order.authorizations.map((record) => ({ ...record }));
}

async function placeOrder(run: Run): Promise<void> {
  const { identifiers } = run.certificate;
  run.ctx.progress(`placing an order for ${identifiers.map((i) => i.value).join(', ')}`);
  const { url, order: placed, replaces } = await newOrderReplacing(run, identifiers);
  run.placedAuthorizations = placed.authorizations;
  const authorizations: AuthorizationRecord[] = placed.authorizations.map((authorizationUrl) => ({
    url: authorizationUrl,
    identifier: { type: 'dns', value: '' },
    wildcard: false,
    status: 'pending',
  }));
  // The challenges are read at once, so that a client answering them itself gets its
  // tokens with the placed order. A crash before the next write abandons this ACME order
  // either way: the re-run places a new one.
  await Promise.all(authorizations.map((record) => readChallenge(run, record)));
  await advance(run, { step: 'placed', order_url: url, finalize_url: placed.finalize, authorizations, replaces });
}

/**
 * newOrder naming the certificate it replaces (RFC 9773 §5); a CA that refuses
 * the `replaces` (already replaced, unknown to it) gets the order without it.
 */
async function newOrderReplacing(run: Run, identifiers: Identifier[]): Promise<{ url: string; order: AcmeOrder; replaces: string | null }> {
  const request = { identifiers, profile: run.certificate.profile ?? undefined };
  const replaces = run.order.replaces;
  if (!replaces) return { ...(await run.client.newOrder(request)), replaces: null };
  try {
    return { ...(await run.client.newOrder({ ...request, replaces })), replaces };
  } catch (error) {
    if (!(error instanceof AcmeProblemError) || error instanceof AcmeRateLimitError) throw error;
    run.ctx.progress(`the CA refused "replaces" (${error.message}); ordering without it`);
    return { ...(await run.client.newOrder(request)), replaces: null };
  }
}

/** Fills in the record from the CA's authorization: the identifier and the challenge of the certificate's type. */
async function readChallenge(run: Run, record: AuthorizationRecord): Promise<void> {
  const type = run.certificate.challenge_type;
  const authorization = await run.client.getAuthorization(record.url);
  record.identifier = authorization.identifier;
  record.wildcard = authorization.wildcard === true;
  if (authorization.status === 'valid') {
    record.status = 'valid';
    return;
  }
  if (authorization.status !== 'pending') throw authorizationFailed(authorization);
  const challenge = authorization.challenges.find((c) => c.type === type);
  if (!challenge) {
    const offered = authorization.challenges.map((c) => c.type).join(', ');
    throw new ConflictError(`the CA offers no ${type} challenge for ${record.identifier.value} (it offers ${offered}); choose another challenge type`);
  }
  record.challengeUrl = challenge.url;
  record.token = challenge.token;
  record.keyAuthorization = run.client.keyAuthorization(challenge.token);
  record.dnsValue = run.client.dns01TxtValue(challenge.token);
}

async function provisionChallenges(run: Run): Promise<void> {
  const { solver } = run;
  const authorizations = records(run);
  run.ctx.progress(`preparing ${solver.type} challenges`);
  const tasks = await Promise.all(
    authorizations.map(async (record) => {
      // Orders stored before the challenges were read at placement have no token yet.
      if (record.status === 'pending' && !record.token) await readChallenge(run, record);
      if (record.status === 'valid') return undefined;
      const task = challengeTask(run, record, record.token!);
      await present(run, task);
      record.status = 'presented';
      return task;
    }),
  );
  if (solver.waitUntilVisible) {
    await Promise.all(tasks.filter((t) => t !== undefined).map((task) => solver.waitUntilVisible!(task)));
  }
  await advance(run, { step: 'provisioned', authorizations });
}

async function respondToChallenges(run: Run): Promise<void> {
  const authorizations = records(run);
  // A resumed process has lost its in-memory responder state: put the answers back first.
  await representIfNeeded(run, authorizations);
  run.ctx.progress('asking the CA to validate');
  await Promise.all(
    authorizations
      .filter((record) => record.status !== 'valid')
      .map(async (record) => {
        const challenge = await respondOnce(run, record.challengeUrl!);
        // A CA that validates at once answers `valid` here; no need to poll (RFC 8555 §7.5.1).
        record.status = challenge.status === 'valid' ? 'valid' : 'responded';
      }),
  );
  await advance(run, { step: 'responded', authorizations });
}

/**
 * Responds to a challenge. A runner that died after responding but before storing
 * that left the challenge past `pending`, and the CA refuses a second response
 * (Pebble: malformed): then its current state is the answer.
 */
async function respondOnce(run: Run, url: string): Promise<AcmeChallenge> {
  try {
    return await run.client.respondToChallenge(url);
  } catch (error) {
    if (!(error instanceof AcmeProblemError) || error instanceof AcmeRateLimitError) throw error;
    const current = await run.client.getChallenge(url);
    if (current.status === 'valid' || current.status === 'processing') return current;
    throw error;
  }
}

async function awaitValidation(run: Run): Promise<void> {
  const authorizations = records(run);
  await representIfNeeded(run, authorizations);
  run.ctx.progress('waiting for the CA to validate');
  await Promise.all(
    authorizations
      .filter((record) => record.status !== 'valid')
      .map(async (record) => {
        // Polling the challenge rather than its authorization: the same answer (RFC 8555
        // §7.1.6), and Pebble 2.4 can deadlock when authorizations are read under load.
        const wait = { initialDelayMs: AFTER_RESPONSE_MS };
        if (record.challengeUrl) await run.client.waitForChallenge(record.challengeUrl, record.identifier, wait);
        else await run.client.waitForAuthorization(record.url, wait);
        record.status = 'valid';
      }),
  );
  await cleanupAll(run);
  await advance(run, { step: 'ready', authorizations });
}

/**
 * With every authorization valid the order is ready (RFC 8555 §7.1.6), so we
 * finalize at once and only poll the order if the CA has not caught up yet.
 */
async function finalizeOrder(run: Run): Promise<void> {
  const csr = run.order.csr ? parseCsr(run.order.csr).der : await createCsr(orderKey(run), run.certificate.identifiers, run.certificate.csr_info);
  run.ctx.progress('finalizing the order');
  const orderUrl = run.order.order_url!;
  let finalized: AcmeOrder;
  try {
    finalized = await run.client.finalize(run.order.finalize_url!, csr);
  } catch (error) {
    if (!(error instanceof AcmeProblemError && error.type.endsWith(':orderNotReady'))) throw error;
    const current = await run.client.getOrder(orderUrl);
    if (current.status === 'pending') {
      await run.client.waitForOrder(orderUrl, ['ready', 'valid']);
      finalized = await run.client.finalize(run.order.finalize_url!, csr);
    } else if (current.status === 'processing' || current.status === 'valid') {
      // Killed after the CA accepted the CSR but before we stored that: the order has moved on.
      finalized = current;
    } else {
      throw error;
    }
  }
  const certificateUrl = finalized.status === 'valid' ? (finalized.certificate ?? null) : null;
  await advance(run, { step: 'finalized', certificate_url: certificateUrl });
}

async function downloadCertificate(run: Run): Promise<void> {
  const { ctx, certificate, order } = run;
  // The CA is signing (status "processing"): give it a moment before the first look
  // (RFC 8555 §7.4). Pebble 2.4 can even deadlock when an order is read while it signs.
  const certificateUrl =
    order.certificate_url ?? (await run.client.waitForOrder(order.order_url!, ['valid'], { initialDelayMs: AFTER_FINALIZE_MS })).certificate;
  if (!certificateUrl) throw new UpstreamError(`the CA marked order ${order.order_url} valid without a certificate URL`);
  ctx.progress('downloading the certificate');
  const pem = await downloadPreferredChain(run.client, certificateUrl, certificate.preferred_chain, ctx.progress);
  const offersAri = Boolean((await run.client.directory()).renewalInfo);
  const parsed = parseCertificate(pem);
  const versionId = newId('ver');
  const now = ctx.clock.now();
  const renewed = certificate.current_version_id !== null;
  await ctx.store.db.transaction().execute(async (trx) => {
    await insertVersion(trx, {
      id: versionId,
      certificate_id: certificate.id,
      order_id: order.id,
      serial: parsed.serial,
      not_before: parsed.notBefore.getTime(),
      not_after: parsed.notAfter.getTime(),
      chain_pem: pem,
      // A client that sent its own CSR keeps its key: nothing to store.
      key_enc: order.csr ? '' : ctx.store.secrets.encrypt(orderKeyPem(run), versionKeyAad(versionId)),
      ca_url: order.ca_url,
      ari_cert_id: parsed.ariCertId ?? null,
      ari_window_start: null,
      ari_window_end: null,
      created_at: now,
    });
    await makeVersionCurrent(trx, certificate.id, { id: versionId, not_after: parsed.notAfter.getTime() }, {
      state: 'valid',
      next_renewal_at: autoRenews(certificate) ? plannedRenewal(parsed.notBefore.getTime(), parsed.notAfter.getTime(), certificate.renewal_policy) : null,
      retry_at: null,
      failure_count: 0,
      last_error: null,
      warned_days: null,
      // A CA that speaks ARI is asked for its window at the scheduler's next tick.
      ari_check_at: offersAri && parsed.ariCertId ? now : null,
      updated_at: now,
    });
    await writeOrder(run, trx, { step: 'valid', certificate_url: certificateUrl, error: null, updated_at: now });
    await retireSuperseded(trx, certificate.id, now);
    await appendEvent(
      trx,
      {
        subscriptionId: certificate.subscription_id,
        certificateId: certificate.id,
        type: renewed ? 'certificate.renewed' : 'certificate.issued',
        payload: { name: certificate.name, orderId: order.id, ca: order.ca_url, serial: parsed.serial, notAfter: parsed.notAfter.toISOString() },
      },
      now,
    );
  });
  run.order = { ...order, step: 'valid', certificate_url: certificateUrl, error: null, updated_at: now };
  run.ctx.notifyChange();
  run.ctx.versionStored();
}

function orderKey(run: Run): KeyObject {
  run.key ??= privateKeyFromPem(orderKeyPem(run));
  return run.key;
}

function orderKeyPem(run: Run): string {
  run.keyPem ??= run.ctx.store.secrets.decryptString(run.order.key_enc, orderKeyAad(run.order.id));
  return run.keyPem;
}

function challengeTask(run: Run, record: AuthorizationRecord, token: string): ChallengeTask {
  return {
    type: run.solver.type,
    identifier: record.identifier,
    token,
    keyAuthorization: record.keyAuthorization ?? run.client.keyAuthorization(token),
    dnsValue: record.dnsValue ?? run.client.dns01TxtValue(token),
    wildcard: record.wildcard,
    orderId: run.order.id,
  };
}

async function representIfNeeded(run: Run, authorizations: AuthorizationRecord[]): Promise<void> {
  if (run.presented.length > 0) return;
  for (const record of authorizations) {
    if (record.status === 'valid' || !record.token) continue;
    await present(run, challengeTask(run, record, record.token));
  }
}

/** Places an answer, remembered before it is placed so that a run stopped meanwhile still takes it away. */
async function present(run: Run, task: ChallengeTask): Promise<void> {
  if (run.stopped) throw new OrderInterruptedError(run.order.step);
  run.presented.push(task);
  const placing = run.solver.present(task);
  run.presenting.push(placing);
  await placing;
}

async function cleanupAll(run: Run): Promise<void> {
  await Promise.allSettled(run.presenting.splice(0));
  const tasks = run.presented.splice(0);
  await Promise.allSettled(tasks.map((task) => run.solver.cleanup(task)));
}

function authorizationFailed(authorization: AcmeAuthorization): ConflictError {
  const failed = authorization.challenges.find((c) => c.error);
  const reason = failed?.error ? `: ${failed.error.detail ?? failed.error.type}` : '';
  return new ConflictError(`the authorization for ${authorization.identifier.value} is ${authorization.status}${reason}`);
}

/**
 * An order that ended (recordFailure stored it invalid), or that this run placed
 * at the CA but could not store (the next run places another), gives its pending
 * authorizations back to the CA; an order that will be resumed keeps them.
 */
async function deactivateIfEnded(run: Run): Promise<void> {
  try {
    const order = await getOrder(run.ctx.store.db, run.order.id);
    const abandoned = order?.step === 'new' && run.placedAuthorizations !== undefined;
    if (!order || (order.step !== 'invalid' && !abandoned)) return;
    const stored = order.authorizations.filter((record) => record.status !== 'valid').map((record) => record.url);
    const deactivated = await deactivatePending(run.client, [...stored, ...(run.placedAuthorizations ?? [])]);
    if (deactivated > 0) run.ctx.progress(`deactivated ${deactivated} pending authorization${deactivated === 1 ? '' : 's'} of the failed order`);
  } catch {
    // Best effort (authorizations.ts): the order's own error is the one to report.
  }
}

/**
 * A CA's verdict (a problem document about the order) ends the order; a network
 * failure leaves it at its step so that the next run resumes it.
 */
async function recordFailure(ctx: EngineContext, orderId: string, error: unknown): Promise<void> {
  const order = await getOrder(ctx.store.db, orderId);
  if (!order) return;
  const certificate = await getCertificate(ctx.store.db, order.certificate_id);
  const message = error instanceof Error ? error.message : String(error);
  const final = orderEnds(error, order.attempt + 1, certificate === undefined ? 1 : certificate.issuers.length);
  const now = ctx.clock.now();
  const current = certificate?.current_version_id ? await getVersionDates(ctx.store.db, certificate.current_version_id) : undefined;
  const notAfter = current?.not_after ?? null;
  await ctx.store.db.transaction().execute(async (trx) => {
    await updateOrder(trx, orderId, {
      step: final && order.step !== 'valid' ? 'invalid' : order.step,
      error: message,
      attempt: order.attempt + 1,
      // A failure that may heal is tried again later, sooner at first.
      retry_at: final ? null : now + retryDelay(order.attempt + 1),
      updated_at: now,
    });
    if (!certificate) return;
    const failures = certificate.failure_count + 1;
    await updateCertificate(trx, certificate.id, {
      state: certificate.current_version_id ? 'valid' : 'failed',
      last_error: message,
      failure_count: failures,
      retry_at: autoRenews(certificate) ? certificateRetry(now, failures, notAfter, error, order.attempt) : null,
      updated_at: now,
    });
    // One event per order that ends, and one when an order first runs into trouble:
    // a CA down for days must not fill the poll queue with a failure per retry.
    if (!final && order.attempt > 0) return;
    const msLeft = notAfter === null ? null : notAfter - now;
    await appendEvent(
      trx,
      {
        subscriptionId: certificate.subscription_id,
        certificateId: certificate.id,
        type: certificate.current_version_id ? 'renewal.failed' : 'issuance.failed',
        payload: {
          name: certificate.name,
          orderId,
          ca: order.ca_url,
          error: message,
          final,
          failures,
          severity: severity(msLeft),
          ...(notAfter === null ? {} : { notAfter: new Date(notAfter).toISOString(), daysLeft: Math.floor((msLeft ?? 0) / 86_400_000) }),
        },
      },
      now,
    );
  });
  ctx.notifyChange();
}

/**
 * When the certificate is due again: the planner's backoff — except after an
 * order the CA lost once it had run into trouble (unreachable, then back
 * without its state, as a restarted in-memory CA is). That is the CA's doing:
 * the backoff the order's retries built up is spent, and the scheduler's next
 * tick places a fresh order. An order lost at its first failure gets the
 * backoff, so a CA that keeps losing orders is not asked at every tick.
 */
export function certificateRetry(
  now: number,
  failures: number,
  notAfter: number | null,
  error: unknown,
  priorAttempts: number,
  random = Math.random,
): number {
  if (error instanceof AcmeNotFoundError && priorAttempts > 0) return now;
  const rateLimited = error instanceof AcmeRateLimitError ? error.retryAfter.getTime() : undefined;
  return retryTime(now, failures, notAfter, rateLimited, random);
}

/** Whether certkeep renews this certificate by itself: auto-renew on, and certkeep answers its challenges. */
export function autoRenews(certificate: Pick<CertificateRow, 'renewal_policy' | 'challenge_config'>): boolean {
  return certificate.renewal_policy.autoRenew !== false && certificate.challenge_config.manual !== true;
}

/**
 * Whether an order that failed with `error`, its `attempts`-th failure, ends
 * (a new order is placed later) or is resumed at its step. A CA that keeps
 * failing the same order is given up on when another CA is listed: the planner
 * then places the next order there (planner.ts, issuerIndex).
 */
export function orderEnds(error: unknown, attempts: number, issuers: number): boolean {
  return endsOrder(error) || (issuers > 1 && attempts >= FAILURES_PER_ISSUER);
}

/** 5 s, doubling per attempt up to 10 minutes, with ±20 % jitter so that instances do not retry in step. */
export function retryDelay(attempt: number, random = Math.random): number {
  const base = Math.min(5_000 * 2 ** Math.max(0, attempt - 1), 600_000);
  return Math.round(base * (0.8 + random() * 0.4));
}

/** The CA said no, or the order cannot go on; a network failure or a timeout may heal, so the step is kept. */
function endsOrder(error: unknown): boolean {
  if (error instanceof AcmeNetworkError || error instanceof AcmeTimeoutError) return false;
  return error instanceof AcmeError || error instanceof ConflictError || error instanceof UpstreamError;
}

/** The version a valid order stored. */
export async function storedVersion(ctx: EngineContext, order: OrderRow): Promise<IssuedVersion> {
  const version = await findVersionOfOrder(ctx.store.db, order.id);
  if (!version) throw new ConflictError(`order ${order.id} is valid but its certificate version is missing from the store`);
  return { versionId: version.id, serial: version.serial, notBefore: version.not_before, notAfter: version.not_after };
}
