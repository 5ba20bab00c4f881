// Orders as the server's clients see them: certificates created over the API
// start an order that workers drive in the background; a client that answers
// the challenges itself gets its tokens with the placed order, places them,
// then asks for validation and finalization. The native API and both
// compatibility adapters call these functions and only translate shapes.
import { randomBytes } from 'node:crypto';
import { type CsrSubject, parseCsr, validateCsrSubject } from '../pki/index.ts';
import { NotFoundError, OperationError, UsageError } from '../errors.ts';
import {
  type CertificateRow,
  deleteCertificateRow,
  findCertificate,
  getCertificate,
  updateCertificate,
} from '../store/repositories/certificates.ts';
import { appendEvent } from '../store/repositories/events.ts';
import { FINISHED_STEPS, findOpenOrder, findOrderByUrl, getOrder, type OrderRow, updateOrder } from '../store/repositories/orders.ts';
import { ensureAccount, type ReadyAccount } from './accounts.ts';
import { createOrder, orderKey, replacedCertId, saveCertificate, type ValidRequest } from './certificates.ts';
import type { Db } from '../store/repositories/db.ts';
import type { EngineContext } from './context.ts';
import { pfxPasswordAad } from './files.ts';
import { type AuthorizationRecord, advanceOrder, type OrderGoal, type RunOrderOptions, stepReached } from './issuance.ts';
import { currentIssuer, parseIssuers } from './issuers.ts';
import { awaitOrderElsewhere, PROCESS_OWNER, withOrderLease } from './leases.ts';
import { inManagedZones, type SolverSource } from './solvers.ts';

/** Who answers the challenges: certkeep, the client from its tokens, or certkeep where it can. */
export type Answerer = 'certkeep' | 'client' | 'auto';

export interface StartOptions {
  pfxPassword?: string;
  answers?: Answerer;
  /** Default: 'valid' when certkeep answers, 'placed' when the client does. */
  goal?: OrderGoal;
  /** The client's own CSR: it keeps the key, certkeep stores none. */
  csrPem?: string;
  /** A certificate of that name may exist: take the new settings and open a new order for it. */
  replaceExisting?: boolean;
  /** The solvers that will answer, asked whether they can (TLS-ALPN-01 needs the server's listener). */
  solvers?: SolverSource;
}

export interface StartedOrder {
  certificate: CertificateRow;
  order: OrderRow;
}

/** Creates (or with replaceExisting, re-specifies) a certificate and opens its order. */
export async function startCertificate(ctx: EngineContext, request: ValidRequest, options: StartOptions = {}): Promise<StartedOrder> {
  const existing = await findCertificate(ctx.store.db, request.subscriptionId, request.name);
  if (existing && !options.replaceExisting) {
    throw new OperationError(`a certificate named "${request.name}" exists; renew it (POST /certificates/${request.name}/renew) or delete it first`);
  }
  const manual = await clientAnswers(ctx, request, options.answers ?? 'auto');
  if (manual && options.goal === 'valid' && request.challengeType === 'tls-alpn-01') {
    throw new UsageError('challengeType: tls-alpn-01 needs certkeep to answer; use http-01 or dns-01', 'challengeType');
  }
  if (!manual) options.solvers?.checkAnswerable?.(request.challengeType);
  const account = await ensureAccount(ctx, request.subscriptionId, request.issuers[0]);
  const key = await orderKey(request.keyType, options.csrPem);
  // One transaction: a process killed here leaves the certificate with its first order, or neither (no row stuck in issuing).
  const { certificate, order } = await ctx.store.db.transaction().execute(async (db) => {
    const saved = await saveCertificate(ctx, { ...request, challengeConfig: { ...request.challengeConfig, ...(manual ? { manual: true } : {}) } }, existing, db);
    if (options.pfxPassword !== undefined) await setPfxPassword(ctx, saved, options.pfxPassword, db);
    if (existing) await supersedeOpenOrder(ctx, existing.id, db);
    const goal = options.goal ?? (manual ? 'placed' : 'valid');
    return { certificate: saved, order: (await createOrder(ctx, saved, account, null, { goal, csrPem: options.csrPem, key, db })).order };
  });
  ctx.wakeWorkers();
  return { certificate: (await getCertificate(ctx.store.db, certificate.id)) ?? certificate, order };
}

/** A new order for a stored certificate (its open one, if it has one): the same names, a new key. */
export async function startRenewal(
  ctx: EngineContext,
  subscriptionId: string,
  name: string,
  options: { goal?: OrderGoal; csrPem?: string } = {},
): Promise<StartedOrder> {
  const certificate = await mustFindCertificate(ctx, subscriptionId, name);
  const open = await findOpenOrder(ctx.store.db, certificate.id);
  if (open) {
    if (options.goal) await raiseGoal(ctx, open, options.goal);
    return { certificate, order: (await getOrder(ctx.store.db, open.id)) ?? open };
  }
  if (options.csrPem) checkCsrNames(certificate, options.csrPem);
  const manual = JSON.parse(certificate.challenge_config).manual === true;
  const account = await ensureAccount(ctx, subscriptionId, currentIssuer(certificate));
  const replaces = await replacedCertId(ctx, certificate, account);
  const { order } = await createOrder(ctx, certificate, account, replaces, {
    goal: options.goal ?? (manual ? 'placed' : 'valid'),
    csrPem: options.csrPem,
  });
  await updateCertificate(ctx.store.db, certificate.id, { state: certificate.current_version_id ? certificate.state : 'issuing', updated_at: ctx.clock.now() });
  ctx.wakeWorkers();
  return { certificate, order };
}

/** Asks the workers to take the order further (never back): 'ready' validates, 'valid' also finalizes. */
export async function raiseGoal(ctx: EngineContext, order: OrderRow, goal: OrderGoal): Promise<OrderRow> {
  if (order.step === 'invalid' || order.step === 'failed') {
    throw new OperationError(`order ${order.id} is ${order.step}${order.error ? ` (${order.error})` : ''}; it cannot be validated again — create a new order`);
  }
  if (stepReached(order.goal, goal)) return order;
  const patch = { goal, retry_at: null, updated_at: ctx.clock.now() };
  await updateOrder(ctx.store.db, order.id, patch);
  ctx.wakeWorkers();
  return { ...order, ...patch };
}

/**
 * Drives the order towards its goal in this request, or waits while another
 * runner does; returns where it stands when the goal is reached, the order
 * ended, or `timeoutMs` passed (the workers carry on from there).
 */
export async function driveOrder(ctx: EngineContext, solvers: SolverSource, orderId: string, timeoutMs = 30_000): Promise<OrderRow> {
  const deadline = Date.now() + timeoutMs;
  // A lease owner of its own: this process's workers (which claim as PROCESS_OWNER)
  // must not take the order over while the request drives it.
  const owner = `${PROCESS_OWNER}:drive:${randomBytes(4).toString('hex')}`;
  for (;;) {
    const order = await mustGetOrder(ctx, orderId);
    if (stepReached(order.step, order.goal) || (FINISHED_STEPS as readonly string[]).includes(order.step)) return order;
    const ran = await runOrderOnce(ctx, solvers, order, { owner });
    if (ran) return mustGetOrder(ctx, orderId);
    const seen = await awaitOrderElsewhere(ctx, orderId, order.goal, Math.max(0, deadline - Date.now()));
    if (Date.now() >= deadline) return seen;
  }
}

/**
 * One run of an order under its lease (as `owner`, default this process); false when another runner holds it.
 * Failures are stored with the order (issuance.ts) and thrown.
 */
export interface RunOptions {
  /** The lease holder's name (default: this process's workers). */
  owner?: string;
  leaseMs?: number;
  afterStep?: RunOrderOptions['afterStep'];
}

export async function runOrderOnce(ctx: EngineContext, solvers: SolverSource, order: OrderRow, options: RunOptions = {}): Promise<boolean> {
  const certificate = await getCertificate(ctx.store.db, order.certificate_id);
  if (!certificate) throw new NotFoundError(`the certificate of order ${order.id} was deleted`);
  const account = await accountFor(ctx, certificate, order);
  const solver = await solvers.solverFor(certificate);
  const leased = await withOrderLease(ctx, order.id, (fence) => advanceOrder(ctx, order.id, account, { solver, fence, afterStep: options.afterStep }), {
    owner: options.owner,
    leaseMs: options.leaseMs,
  });
  return leased !== undefined;
}

/** An order of the caller's subscription, by certkeep's id or by the CA's order URL (the compatibility APIs' orderUri). */
export async function findOrder(ctx: EngineContext, subscriptionId: string, reference: { id?: string; orderUrl?: string }): Promise<StartedOrder> {
  const order = reference.id ? await getOrder(ctx.store.db, reference.id) : reference.orderUrl ? await findOrderByUrl(ctx.store.db, reference.orderUrl) : undefined;
  const certificate = order ? await getCertificate(ctx.store.db, order.certificate_id) : undefined;
  // Another subscription's order is reported exactly like a missing one.
  if (!order || !certificate || certificate.subscription_id !== subscriptionId) {
    const what = reference.id ? `order ${reference.id}` : `order ${reference.orderUrl}`;
    throw new NotFoundError(`${what} is not an order of this subscription; create one first`);
  }
  return { order, certificate };
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

export type OrderStatus = 'pending' | 'ready' | 'processing' | 'valid' | 'invalid';

export interface ValidationToken {
  identifier: string;
  wildcard: boolean;
  challengeType: string;
  token: string;
  /** HTTP-01: the file's content at /.well-known/acme-challenge/<token>. */
  keyAuthorization: string;
  /** DNS-01: the TXT value at recordName. */
  dnsValue: string;
  recordName: string;
  status: string;
}

export interface OrderView {
  id: string;
  certificate: string;
  status: OrderStatus;
  step: string;
  goal: string;
  challengeType: string;
  answeredBy: 'certkeep' | 'client';
  orderUrl: string | null;
  certificateUrl: string | null;
  error: string | null;
  tokens: ValidationToken[];
}

/** The ACME status (RFC 8555 §7.1.6) the order's stored step stands for. */
export function orderStatus(step: string): OrderStatus {
  if (step === 'ready') return 'ready';
  if (step === 'finalized') return 'processing';
  if (step === 'valid' || step === 'deployed') return 'valid';
  if (step === 'invalid' || step === 'failed') return 'invalid';
  return 'pending';
}

export function orderView(order: OrderRow, certificate: CertificateRow): OrderView {
  const records = JSON.parse(order.authorizations) as AuthorizationRecord[];
  return {
    id: order.id,
    certificate: certificate.name,
    status: orderStatus(order.step),
    step: order.step,
    goal: order.goal,
    challengeType: certificate.challenge_type,
    answeredBy: JSON.parse(certificate.challenge_config).manual ? 'client' : 'certkeep',
    orderUrl: order.order_url,
    certificateUrl: order.certificate_url,
    error: order.error,
    tokens: records
      .filter((record) => record.token)
      .map((record) => ({
        identifier: record.wildcard ? `*.${record.identifier.value}` : record.identifier.value,
        wildcard: record.wildcard,
        challengeType: certificate.challenge_type,
        token: record.token!,
        keyAuthorization: record.keyAuthorization ?? '',
        dnsValue: record.dnsValue ?? '',
        recordName: `_acme-challenge.${record.identifier.value}`,
        status: record.status,
      })),
  };
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
    await updateCertificate(ctx.store.db, certificate.id, { csr_info: JSON.stringify(changes.csrInfo), updated_at: ctx.clock.now() });
  }
  if (changes.pfxPassword !== undefined) await setPfxPassword(ctx, certificate, changes.pfxPassword);
  return (await getCertificate(ctx.store.db, certificate.id)) ?? certificate;
}

export async function mustFindCertificate(ctx: EngineContext, subscriptionId: string, name: string): Promise<CertificateRow> {
  const certificate = await findCertificate(ctx.store.db, subscriptionId, name);
  if (!certificate) throw new NotFoundError(`no certificate named "${name}" in this subscription`);
  return certificate;
}

async function setPfxPassword(ctx: EngineContext, certificate: CertificateRow, password: string, db: Db = ctx.store.db): Promise<void> {
  const sealed = password === '' ? null : ctx.store.secrets.encrypt(password, pfxPasswordAad(certificate.id));
  await updateCertificate(db, certificate.id, { pfx_password_enc: sealed });
}

/** HTTP-01 certkeep answers from the store; DNS-01 where every name lies in a managed zone. */
async function clientAnswers(ctx: EngineContext, request: ValidRequest, answers: Answerer): Promise<boolean> {
  if (answers !== 'auto') return answers === 'client';
  if (request.challengeType !== 'dns-01') return false;
  return !(await inManagedZones(ctx, request.subscriptionId, request.identifiers.map((i) => i.value)));
}

/** A new order for a certificate takes the place of the one still open. */
export async function supersedeOpenOrder(ctx: EngineContext, certificateId: string, db: Db = ctx.store.db): Promise<void> {
  const open = await findOpenOrder(db, certificateId);
  if (open) await updateOrder(db, open.id, { step: 'failed', error: 'replaced by a newer order', updated_at: ctx.clock.now() });
}

function checkCsrNames(certificate: CertificateRow, csrPem: string): void {
  const wanted = (JSON.parse(certificate.identifiers) as { value: string }[]).map((i) => i.value).sort();
  const named = parseCsr(csrPem).identifiers.map((i) => i.value.toLowerCase()).sort();
  if (wanted.join(',') !== named.join(',')) {
    throw new UsageError(`csr: it names ${named.join(', ')} but certificate "${certificate.name}" is for ${wanted.join(', ')}`, 'csr');
  }
}

async function accountFor(ctx: EngineContext, certificate: CertificateRow, order: OrderRow): Promise<ReadyAccount> {
  const issuer = parseIssuers(certificate.issuers).find((i) => i.caUrl === order.ca_url);
  if (!issuer) throw new OperationError(`order ${order.id} was placed at ${order.ca_url}, which is no longer among the certificate's CAs`);
  return ensureAccount(ctx, certificate.subscription_id, issuer);
}

async function mustGetOrder(ctx: EngineContext, id: string): Promise<OrderRow> {
  const order = await getOrder(ctx.store.db, id);
  if (!order) throw new NotFoundError(`order ${id} is no longer in the store`);
  return order;
}
