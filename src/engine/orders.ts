// Opening orders: the one way a certificate gets a new order, whoever asks —
// the CLI's issue and renew, the native API, both compatibility adapters, the
// renewal scheduler. The order is stored (with its new key) before the CA hears
// of it; then the workers drive it in the background, or the caller drives it
// itself (runs.ts). A client that answers the challenges itself gets its tokens
// once the order is placed, places them, then raises the order's goal.
import { ConflictError, NotFoundError, UsageError } from '../errors.ts';
import type { KeyObject } from 'node:crypto';
import { generateKey, type KeyType, parseCsr, privateKeyToPem } from '../pki/index.ts';
import { newId } from '../store/ids.ts';
import {
  type CertificateRow,
  findCertificate,
  getCertificate,
  getVersion,
  insertCertificateUnlessNamed,
  UNTOUCHED_RENEWAL_STATE,
  updateCertificate,
} from '../store/repositories/certificates.ts';
import type { Db } from '../store/repositories/db.ts';
import { findOpenOrder, findOrderByUrl, getOrder, insertOrderUnlessOpen, type OrderRow, updateOrder } from '../store/repositories/orders.ts';
import { retireSuperseded } from '../store/repositories/retention.ts';
import { ensureAccount, type ReadyAccount } from './accounts.ts';
import type { EngineContext } from './context.ts';
import { pfxPasswordAad } from './files.ts';
import { type FreshKey, orderKeyAad, type OrderGoal, stepReached } from './issuance.ts';
import { currentIssuer, type EabCredentials } from './issuers.ts';
import { mustFindCertificate } from './lookups.ts';
import type { ValidRequest } from './requests.ts';
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
  /**
   * An order the certificate has open: taken over by the new one (default), or
   * left to whoever opened it (the CLI, which then joins it): OrderInProgressError.
   */
  openOrder?: 'supersede' | 'keep';
  /** External Account Binding for an account created now (RFC 8555 §7.3.4). */
  eab?: EabCredentials;
  /** The solvers that will answer, asked whether they can (TLS-ALPN-01 needs the server's listener). */
  solvers?: SolverSource;
}

export interface StartedOrder {
  certificate: CertificateRow;
  order: OrderRow;
  /** The new order's key, when this call made it: a run in this process may use it (RunOrderOptions.key). */
  key?: FreshKey;
}

/** Creates (or with replaceExisting, re-specifies) a certificate and opens its order. */
export async function startCertificate(ctx: EngineContext, request: ValidRequest, options: StartOptions = {}): Promise<StartedOrder> {
  const existing = await findCertificate(ctx.store.db, request.subscriptionId, request.name);
  if (existing && !options.replaceExisting) {
    throw new ConflictError(`a certificate named "${request.name}" exists; renew it (POST /certificates/${request.name}/renew) or delete it first`);
  }
  const manual = await clientAnswers(ctx, request, options.answers ?? 'auto');
  if (manual && options.goal === 'valid' && request.challengeType === 'tls-alpn-01') {
    throw new UsageError('challengeType: tls-alpn-01 needs certkeep to answer; use http-01 or dns-01', 'challengeType');
  }
  if (!manual) options.solvers?.checkAnswerable?.(request.challengeType);
  // The account comes before anything is stored: a CA that cannot be reached leaves the store as it was.
  const account = await ensureAccount(ctx, request.subscriptionId, request.issuers[0], options.eab);
  const key = await orderKey(request.keyType, options.csrPem);
  // One transaction: a process killed here leaves the certificate with its first order, or neither (no row stuck in issuing).
  const { certificate, order, key: fresh } = await ctx.store.db.transaction().execute(async (db) => {
    let saved = await saveCertificate(ctx, { ...request, challengeConfig: { ...request.challengeConfig, ...(manual ? { manual: true } : {}) } }, existing, db);
    if (options.pfxPassword !== undefined) saved = { ...saved, pfx_password_enc: await setPfxPassword(ctx, saved, options.pfxPassword, db) };
    if (existing && options.openOrder !== 'keep') await supersedeOpenOrder(ctx, existing.id, db);
    const goal = options.goal ?? (manual ? 'placed' : 'valid');
    return { certificate: saved, ...(await createOrder(ctx, saved, account, null, { goal, csrPem: options.csrPem, key, db })) };
  });
  ctx.wakeWorkers();
  return { certificate, order, key: fresh };
}

/** A new order for a stored certificate (its open one, if it has one): the same names, a new key. */
export async function startRenewal(
  ctx: EngineContext,
  subscriptionId: string,
  name: string,
  options: { goal?: OrderGoal; csrPem?: string; eab?: EabCredentials } = {},
): Promise<StartedOrder> {
  const certificate = await mustFindCertificate(ctx, subscriptionId, name);
  const open = await findOpenOrder(ctx.store.db, certificate.id);
  if (open) {
    if (options.goal) await raiseGoal(ctx, open, options.goal);
    return { certificate, order: (await getOrder(ctx.store.db, open.id)) ?? open };
  }
  if (options.csrPem) checkCsrNames(certificate, options.csrPem);
  const manual = certificate.challenge_config.manual === true;
  const account = await ensureAccount(ctx, subscriptionId, currentIssuer(certificate), options.eab);
  const replaces = await replacedCertId(ctx, certificate, account);
  const { order, key } = await createOrder(ctx, certificate, account, replaces, {
    goal: options.goal ?? (manual ? 'placed' : 'valid'),
    csrPem: options.csrPem,
  });
  await updateCertificate(ctx.store.db, certificate.id, { state: certificate.current_version_id ? certificate.state : 'issuing', updated_at: ctx.clock.now() });
  ctx.wakeWorkers();
  return { certificate, order, key };
}

/** Asks the workers to take the order further (never back): 'ready' validates, 'valid' also finalizes. */
export async function raiseGoal(ctx: EngineContext, order: OrderRow, goal: OrderGoal): Promise<OrderRow> {
  if (order.step === 'invalid' || order.step === 'failed') {
    throw new ConflictError(`order ${order.id} is ${order.step}${order.error ? ` (${order.error})` : ''}; it cannot be validated again — create a new order`);
  }
  if (stepReached(order.goal, goal)) return order;
  const patch = { goal, retry_at: null, updated_at: ctx.clock.now() };
  await updateOrder(ctx.store.db, order.id, patch);
  ctx.wakeWorkers();
  return { ...order, ...patch };
}

/** A new order for a certificate takes the place of the one still open. */
export async function supersedeOpenOrder(ctx: EngineContext, certificateId: string, db: Db = ctx.store.db): Promise<void> {
  const open = await findOpenOrder(db, certificateId);
  if (open) await updateOrder(db, open.id, { step: 'failed', error: 'replaced by a newer order', updated_at: ctx.clock.now() });
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

/** Seals the PFX password ('' removes it) and stores it; the sealed value stored. */
export async function setPfxPassword(ctx: EngineContext, certificate: CertificateRow, password: string, db: Db = ctx.store.db): Promise<string | null> {
  const sealed = password === '' ? null : ctx.store.secrets.encrypt(password, pfxPasswordAad(certificate.id));
  await updateCertificate(db, certificate.id, { pfx_password_enc: sealed });
  return sealed;
}

async function saveCertificate(ctx: EngineContext, request: ValidRequest, existing: CertificateRow | undefined, db: Db): Promise<CertificateRow> {
  const now = ctx.clock.now();
  const spec = {
    identifiers: request.identifiers,
    challenge_type: request.challengeType,
    challenge_config: request.challengeConfig,
    key_type: request.keyType,
    issuers: request.issuers,
    profile: request.profile,
    renewal_policy: request.renewalPolicy,
    csr_info: request.csrInfo,
    preferred_chain: request.preferredChain,
    updated_at: now,
  };
  if (existing) {
    await updateCertificate(db, existing.id, { ...spec, state: existing.current_version_id ? existing.state : 'issuing' });
    return (await getCertificate(db, existing.id)) ?? existing;
  }
  const row: CertificateRow = {
    id: newId('crt'),
    subscription_id: request.subscriptionId,
    name: request.name,
    ...spec,
    pfx_password_enc: null,
    state: 'issuing',
    current_version_id: null,
    current_not_after: null,
    next_renewal_at: null,
    ...UNTOUCHED_RENEWAL_STATE,
    created_at: now,
  };
  // Two runs for one new name: the first insert wins; the other is told, as for an open order.
  if (!(await insertCertificateUnlessNamed(db, row))) throw new OrderInProgressError(request.name);
  return row;
}

/** A new certificate key for an order (none when the client sends its own CSR), made before a transaction takes the store. */
async function orderKey(keyType: KeyType, csrPem?: string): Promise<KeyObject | undefined> {
  return csrPem ? undefined : generateKey(keyType);
}

/**
 * The new certificate key is generated and stored with the order before the CA
 * hears of it — unless the client sent its own CSR and keeps its key.
 */
async function createOrder(
  ctx: EngineContext,
  certificate: CertificateRow,
  account: ReadyAccount,
  replaces: string | null,
  options: { goal?: OrderGoal; csrPem?: string; key?: KeyObject; db?: Db } = {},
): Promise<{ order: OrderRow; key?: FreshKey }> {
  const id = newId('ord');
  const object = options.key ?? (await orderKey(certificate.key_type, options.csrPem));
  const key = object && { object, pem: privateKeyToPem(object) };
  const now = ctx.clock.now();
  const row: OrderRow = {
    id,
    certificate_id: certificate.id,
    account_id: account.row.id,
    ca_url: account.row.ca_url,
    step: 'new',
    order_url: null,
    finalize_url: null,
    certificate_url: null,
    authorizations: [],
    key_enc: key ? ctx.store.secrets.encrypt(key.pem, orderKeyAad(id)) : '',
    replaces,
    error: null,
    attempt: 0,
    retry_at: null,
    created_at: now,
    updated_at: now,
    goal: options.goal ?? 'valid',
    csr: options.csrPem ?? null,
    lease_owner: null,
    lease_token: 0,
    lease_until: null,
    retired_at: null,
  };
  const db = options.db ?? ctx.store.db;
  if (!(await insertOrderUnlessOpen(db, row))) throw new OrderInProgressError(certificate.name);
  // The certificate's orders before this one are no longer its newest.
  await retireSuperseded(db, certificate.id, now);
  return { order: row, key };
}

/**
 * The certificate has an open order already, placed by another process (or
 * request) a moment ago: a certificate has at most one open order (the unique
 * index orders_one_open_idx), the lock between processes on one store.
 */
export class OrderInProgressError extends ConflictError {
  constructor(certificateName: string) {
    super(`another certkeep process is issuing ${certificateName} right now`);
    this.name = 'OrderInProgressError';
  }
}

/** RFC 9773 §5: name the certificate being replaced, when the CA speaks ARI and issued it. */
async function replacedCertId(ctx: EngineContext, certificate: CertificateRow, account: ReadyAccount): Promise<string | null> {
  if (!certificate.current_version_id) return null;
  const directory = await account.client.directory();
  if (!directory.renewalInfo) return null;
  const version = await getVersion(ctx.store.db, certificate.current_version_id);
  return version && version.ca_url === account.row.ca_url ? version.ari_cert_id : null;
}

/** HTTP-01 certkeep answers from the store; DNS-01 where every name lies in a managed zone. */
async function clientAnswers(ctx: EngineContext, request: ValidRequest, answers: Answerer): Promise<boolean> {
  if (answers !== 'auto') return answers === 'client';
  if (request.challengeType !== 'dns-01') return false;
  return !(await inManagedZones(ctx, request.subscriptionId, request.identifiers.map((i) => i.value)));
}

function checkCsrNames(certificate: CertificateRow, csrPem: string): void {
  const wanted = certificate.identifiers.map((i) => i.value).sort();
  const named = parseCsr(csrPem).identifiers.map((i) => i.value.toLowerCase()).sort();
  if (wanted.join(',') !== named.join(',')) {
    throw new UsageError(`csr: it names ${named.join(', ')} but certificate "${certificate.name}" is for ${wanted.join(', ')}`, 'csr');
  }
}
