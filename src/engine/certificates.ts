// Use cases for certificates: request (issue), renew, resume, revoke, export.
// The CLI, the native API and the compatibility adapters all call these.
import type { KeyObject } from 'node:crypto';
import type { ChallengeConfig } from '../challenges/pool.ts';
import type { ChallengeType } from '../challenges/solver.ts';
import {
  type CsrSubject,
  generateKey,
  type Identifier,
  identifiersFromNames,
  isKeyType,
  KEY_TYPES,
  type KeyType,
  normalizeName,
  privateKeyToPem,
  validateCsrSubject,
  validateDnsName,
} from '../pki/index.ts';
import { newId } from '../store/ids.ts';
import type { Db } from '../store/repositories/db.ts';
import {
  type CertificateRow,
  findCertificate,
  getCertificate,
  getVersion,
  getVersionDates,
  insertCertificateUnlessNamed,
  UNTOUCHED_RENEWAL_STATE,
  updateCertificate,
} from '../store/repositories/certificates.ts';
import { findOpenOrder, insertOrderUnlessOpen, type OrderRow } from '../store/repositories/orders.ts';
import { ensureAccount, type ReadyAccount } from './accounts.ts';
import type { EngineContext } from './context.ts';
import { NotFoundError, OperationError, UsageError } from '../errors.ts';
import {
  type IssuedVersion,
  OrderInterruptedError,
  orderKeyAad,
  type OrderGoal,
  type OrderStep,
  type RunOrderOptions,
  runOrder,
  storedVersion,
} from './issuance.ts';
import { currentIssuer, type EabCredentials, type IssuerSpec, parseIssuers } from './issuers.ts';
import { awaitOrderElsewhere, withOrderLease } from './leases.ts';
import type { SolverSource } from './solvers.ts';
import { DEFAULT_RENEWAL_POLICY, isDue, parseRenewBefore, type RenewalPolicy } from './renewal-policy.ts';

const CHALLENGE_TYPES: readonly ChallengeType[] = ['http-01', 'dns-01', 'tls-alpn-01'];

export interface CertificateRequest {
  subscriptionId: string;
  name?: string;
  names: string[];
  challengeType?: string;
  challengeConfig?: ChallengeConfig;
  keyType?: string;
  issuers: IssuerSpec[];
  profile?: string;
  csrInfo?: CsrSubject;
  renewalPolicy?: RenewalPolicy;
  /** Of the CA's chains, the one whose top certificate this issuer CN signed (chains.ts). */
  preferredChain?: string;
}

export interface ValidRequest {
  subscriptionId: string;
  name: string;
  identifiers: Identifier[];
  challengeType: ChallengeType;
  challengeConfig: ChallengeConfig;
  keyType: KeyType;
  issuers: IssuerSpec[];
  profile: string | null;
  csrInfo: CsrSubject;
  renewalPolicy: RenewalPolicy;
  preferredChain: string | null;
}

export interface RunOptions {
  solvers: SolverSource;
  eab?: EabCredentials;
  force?: boolean;
  afterStep?: (step: OrderStep) => void | Promise<void>;
  /** Stops the run (the CLI's Ctrl-C): the order keeps its step, the answers this run placed are removed. */
  signal?: AbortSignal;
}

/** How long a run waits for another process that holds the certificate's open order. */
const WAIT_FOR_OTHER_RUN_MS = 10 * 60_000;

export type IssueOutcome =
  | { status: 'issued' | 'renewed' | 'resumed'; certificate: CertificateRow; version: IssuedVersion }
  | { status: 'unchanged'; certificate: CertificateRow; reason: string };

/** Checks a request before anything is stored or sent; every error names the field and the fix. */
export function validateRequest(request: CertificateRequest): ValidRequest {
  if (request.names.length === 0) throw new UsageError('-d: give at least one domain name, e.g. -d example.com', 'names');
  const identifiers = identifiersFromNames(request.names);
  for (const identifier of identifiers) {
    if (identifier.type !== 'dns') continue;
    const problem = validateDnsName(identifier.value);
    if (problem) throw new UsageError(`-d ${identifier.value}: ${problem}`, 'names');
  }
  const challengeType = (request.challengeType ?? 'http-01') as ChallengeType;
  if (!CHALLENGE_TYPES.includes(challengeType)) {
    throw new UsageError(`--challenge: "${request.challengeType}" is not a challenge type; use ${CHALLENGE_TYPES.join(', ')}`, 'challengeType');
  }
  const wildcard = identifiers.find((i) => i.value.startsWith('*.'));
  if (wildcard && challengeType !== 'dns-01') {
    throw new UsageError(`-d ${wildcard.value}: wildcard names can only be validated with --challenge dns-01 (RFC 8555 §7.1.3)`, 'names');
  }
  const ip = identifiers.find((i) => i.type === 'ip');
  if (ip && challengeType === 'dns-01') {
    throw new UsageError(`-d ${ip.value}: IP addresses cannot be validated with dns-01 (RFC 8738 §7); use http-01 or tls-alpn-01`, 'names');
  }
  const keyType = request.keyType ?? 'ec-p256';
  if (!isKeyType(keyType)) throw new UsageError(`--key-type: "${keyType}" is not a key type; use one of ${KEY_TYPES.join(', ')}`, 'keyType');
  const name = normalizeName(request.name ?? identifiers[0].value.replace(/^\*\./, 'wildcard.'));
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/.test(name)) {
    throw new UsageError(`--name: "${name}" may hold letters, digits, dots, dashes and underscores only`, 'name');
  }
  const subjectProblem = validateCsrSubject(request.csrInfo ?? {});
  if (subjectProblem) throw new UsageError(`csrInfo.${subjectProblem.field}: ${subjectProblem.reason}`, `csrInfo.${subjectProblem.field}`);
  const renewalPolicy = request.renewalPolicy ?? DEFAULT_RENEWAL_POLICY;
  if (renewalPolicy.renewBefore) parseRenewBefore(renewalPolicy.renewBefore, 90 * 86_400_000);
  if (request.issuers.length === 0) throw new UsageError('--ca: name at least one ACME CA', 'ca');
  const preferredChain = request.preferredChain === undefined ? null : checkPreferredChain(request.preferredChain);
  return {
    subscriptionId: request.subscriptionId,
    name,
    identifiers: dedupe(identifiers),
    challengeType,
    challengeConfig: request.challengeConfig ?? {},
    keyType,
    issuers: request.issuers,
    profile: request.profile ?? null,
    csrInfo: request.csrInfo ?? {},
    renewalPolicy,
    preferredChain,
  };
}

/** An issuer CN as the CA's chains spell it (matched exactly, as certbot and lego do). */
function checkPreferredChain(name: string): string {
  const trimmed = name.trim();
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (trimmed === '' || trimmed.length > 200 || /[\x00-\x1f\x7f]/.test(trimmed)) {
    throw new UsageError('--preferred-chain: give the issuer CN of the chain you want, as the CA spells it (1-200 characters), e.g. "ISRG Root X1"', 'preferredChain');
  }
  return trimmed;
}

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
  // Open the solver and the account before storing anything: a port in use or an
  // unreachable CA must leave the store as it was.
  const solver = await options.solvers.solverFor({
    subscription_id: request.subscriptionId,
    challenge_type: request.challengeType,
    challenge_config: JSON.stringify(request.challengeConfig),
  });
  const account = await ensureAccount(ctx, request.subscriptionId, request.issuers[0], options.eab);
  const created = await createOrderOrJoin(ctx, account, null, request.keyType, (db) => saveCertificate(ctx, request, existing, db));
  // Another process got there first: look again, as if this run had started after it.
  if (!created) return issueCertificate(ctx, request, { ...options, force: false });
  const { certificate } = created;
  const version = await runLeased(ctx, created.order.id, account, { solver, key: created.key, ...runOptions(options) });
  return { status: existing?.current_version_id ? 'renewed' : 'issued', certificate: await reload(ctx, certificate), version };
}

/** Why a certificate needs no new version now, or undefined when it does: revoked or expired means due. */
async function notDueReason(ctx: EngineContext, certificate: CertificateRow): Promise<string | undefined> {
  const now = ctx.clock.now();
  if (certificate.state === 'revoked') return undefined;
  if (certificate.current_version_id) {
    const current = await getVersionDates(ctx.store.db, certificate.current_version_id);
    if (!current || current.not_after <= now) return undefined;
  }
  if (isDue(certificate.next_renewal_at, now)) return undefined;
  const when = certificate.next_renewal_at ? new Date(certificate.next_renewal_at).toISOString() : 'never (auto-renew is off)';
  return `not due for renewal until ${when}`;
}

function runOptions(options: RunOptions): Pick<RunOrderOptions, 'afterStep' | 'signal'> {
  return { afterStep: options.afterStep, signal: options.signal };
}

/**
 * Stores the certificate (`save`) and a new order for it in one transaction (a
 * process killed here leaves the certificate with its order, or neither), unless
 * another process stored either first (the open order is the lock): then
 * undefined, and the caller looks again — it will join that process's order, or
 * find its result.
 */
async function createOrderOrJoin(
  ctx: EngineContext,
  account: ReadyAccount,
  replaces: string | null,
  keyType: string,
  save: (db: Db) => Promise<CertificateRow>,
): Promise<{ certificate: CertificateRow; order: OrderRow; key?: { pem: string; object: KeyObject } } | undefined> {
  const key = await orderKey(keyType);
  try {
    return await ctx.store.db.transaction().execute(async (db) => {
      const certificate = await save(db);
      const { order } = await createOrder(ctx, certificate, account, replaces, { key, db });
      return { certificate, order, key };
    });
  } catch (error) {
    if (!(error instanceof OrderInProgressError)) throw error;
    ctx.progress(`${error.message}; waiting for it`);
    return undefined;
  }
}

/** `certkeep renew`: a new version when due (or forced), with ARI's `replaces` where the CA offers it. */
export async function renewCertificate(ctx: EngineContext, subscriptionId: string, name: string, options: RunOptions): Promise<IssueOutcome> {
  const certificate = await findCertificate(ctx.store.db, subscriptionId, name);
  if (!certificate) throw new NotFoundError(`no certificate named "${name}"; see certkeep list`);
  const open = await findOpenOrder(ctx.store.db, certificate.id);
  if (open) return resumeOrder(ctx, certificate, open, options);
  const notDue = options.force ? undefined : await notDueReason(ctx, certificate);
  if (notDue) return { status: 'unchanged', certificate, reason: notDue };
  const issuer = currentIssuer(certificate);
  const solver = await options.solvers.solverFor(certificate);
  const account = await ensureAccount(ctx, subscriptionId, issuer, options.eab);
  const replaces = await replacedCertId(ctx, certificate, account);
  const created = await createOrderOrJoin(ctx, account, replaces, certificate.key_type, async () => certificate);
  if (!created) return renewCertificate(ctx, subscriptionId, name, { ...options, force: false });
  const version = await runLeased(ctx, created.order.id, account, { solver, key: created.key, ...runOptions(options) });
  return { status: certificate.current_version_id ? 'renewed' : 'issued', certificate: await reload(ctx, certificate), version };
}

export async function resumeOrder(ctx: EngineContext, certificate: CertificateRow, order: OrderRow, options: RunOptions): Promise<IssueOutcome> {
  ctx.progress(`resuming the order left at step "${order.step}"`);
  const issuer = parseIssuers(certificate.issuers).find((i) => i.caUrl === order.ca_url);
  if (!issuer) throw new OperationError(`the order of ${certificate.name} was placed at ${order.ca_url}, which is no longer among its CAs`);
  const solver = await options.solvers.solverFor(certificate);
  const account = await ensureAccount(ctx, certificate.subscription_id, issuer);
  try {
    const version = await runLeased(ctx, order.id, account, { solver, ...runOptions(options) });
    return { status: 'resumed', certificate: await reload(ctx, certificate), version };
  } catch (error) {
    if (error instanceof OrderInterruptedError) throw error;
    // The CA may have judged the order while this process was down (a validation
    // that found the built-in responder gone): one fresh order, as a re-run would.
    const after = await findOpenOrder(ctx.store.db, certificate.id);
    if (after) throw error;
    ctx.progress(`the resumed order failed (${(error as Error).message}); placing a new one`);
    const fresh = await createOrder(ctx, await reload(ctx, certificate), account, order.replaces);
    const version = await runLeased(ctx, fresh.order.id, account, { solver, key: fresh.key, ...runOptions(options) });
    return { status: 'resumed', certificate: await reload(ctx, certificate), version };
  }
}

/**
 * Runs the order under its lease, so that a server working on the same store
 * leaves it alone. While another process holds the lease, waits for it: its
 * certificate is this run's too. A holder that stops without finishing leaves
 * the order to this run.
 */
async function runLeased(ctx: EngineContext, orderId: string, account: ReadyAccount, options: RunOrderOptions): Promise<IssuedVersion> {
  const deadline = Date.now() + WAIT_FOR_OTHER_RUN_MS;
  for (;;) {
    const leased = await withOrderLease(ctx, orderId, (fence) => runOrder(ctx, orderId, account, { ...options, fence }));
    if (leased) return leased.result;
    ctx.progress(`order ${orderId} is being worked on by another certkeep process; waiting for it`);
    const order = await awaitOrderElsewhere(ctx, orderId, 'valid', Math.max(0, deadline - Date.now()), options.signal);
    if (options.signal?.aborted) throw new OrderInterruptedError(order.step as OrderStep);
    if (order.step === 'valid') return storedVersion(ctx, order);
    if (order.step === 'invalid' || order.step === 'failed') {
      throw new OperationError(`another certkeep process worked on order ${order.order_url ?? order.id} and it ended ${order.step}: ${order.error ?? 'no reason given'}`);
    }
    if (Date.now() >= deadline) {
      throw new OperationError(`another certkeep process is still working on order ${orderId} (step "${order.step}"); run certkeep resume once it has stopped`);
    }
  }
}

export async function saveCertificate(
  ctx: EngineContext,
  request: ValidRequest,
  existing: CertificateRow | undefined,
  db: Db = ctx.store.db,
): Promise<CertificateRow> {
  const now = ctx.clock.now();
  const spec = {
    identifiers: JSON.stringify(request.identifiers),
    challenge_type: request.challengeType,
    challenge_config: JSON.stringify(request.challengeConfig),
    key_type: request.keyType,
    issuers: JSON.stringify(request.issuers),
    profile: request.profile,
    renewal_policy: JSON.stringify(request.renewalPolicy),
    csr_info: JSON.stringify(request.csrInfo),
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
    next_renewal_at: null,
    ...UNTOUCHED_RENEWAL_STATE,
    created_at: now,
  };
  // Two runs for one new name: the first insert wins; the other is told, as for an open order.
  if (!(await insertCertificateUnlessNamed(db, row))) throw new OrderInProgressError(request.name);
  return row;
}

/** A new certificate key for an order (none when the client sends its own CSR), made before a transaction takes the store. */
export async function orderKey(keyType: string, csrPem?: string): Promise<{ pem: string; object: KeyObject } | undefined> {
  if (csrPem) return undefined;
  const object = await generateKey(keyType as KeyType);
  return { pem: privateKeyToPem(object), object };
}

/**
 * The new certificate key is generated and stored with the order before the CA
 * hears of it — unless the client sent its own CSR and keeps its key.
 */
export async function createOrder(
  ctx: EngineContext,
  certificate: CertificateRow,
  account: ReadyAccount,
  replaces: string | null,
  options: { goal?: OrderGoal; csrPem?: string; key?: { pem: string; object: KeyObject }; db?: Db } = {},
): Promise<{ order: OrderRow; key?: { pem: string; object: KeyObject } }> {
  const id = newId('ord');
  const key = options.key ?? (await orderKey(certificate.key_type, options.csrPem));
  const object = key?.object;
  const keyPem = key?.pem;
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
    authorizations: '[]',
    key_enc: keyPem ? ctx.store.secrets.encrypt(keyPem, orderKeyAad(id)) : '',
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
  };
  if (!(await insertOrderUnlessOpen(options.db ?? ctx.store.db, row))) throw new OrderInProgressError(certificate.name);
  return { order: row, key: object && keyPem ? { pem: keyPem, object } : undefined };
}

/** The certificate has an open order already, placed by another process (or request) a moment ago. */
export class OrderInProgressError extends OperationError {
  constructor(certificateName: string) {
    super(`another certkeep process is issuing ${certificateName} right now`);
    this.name = 'OrderInProgressError';
  }
}

/** RFC 9773 §5: name the certificate being replaced, when the CA speaks ARI and issued it. */
export async function replacedCertId(ctx: EngineContext, certificate: CertificateRow, account: ReadyAccount): Promise<string | null> {
  if (!certificate.current_version_id) return null;
  const directory = await account.client.directory();
  if (!directory.renewalInfo) return null;
  const version = await getVersion(ctx.store.db, certificate.current_version_id);
  return version && version.ca_url === account.row.ca_url ? version.ari_cert_id : null;
}

function sameIdentifiers(certificate: CertificateRow, request: ValidRequest): boolean {
  const stored = (JSON.parse(certificate.identifiers) as Identifier[]).map((i) => i.value).sort();
  const wanted = request.identifiers.map((i) => i.value).sort();
  return stored.length === wanted.length && stored.every((value, index) => value === wanted[index]);
}

function dedupe(identifiers: Identifier[]): Identifier[] {
  const seen = new Set<string>();
  return identifiers.filter((identifier) => {
    if (seen.has(identifier.value)) return false;
    seen.add(identifier.value);
    return true;
  });
}

async function reload(ctx: EngineContext, certificate: CertificateRow): Promise<CertificateRow> {
  return (await getCertificate(ctx.store.db, certificate.id)) ?? certificate;
}
