// Issuance as a durable state machine (DESIGN.md, "Issuance, step by step").
// Every step writes its result to the store before the next step talks to the
// CA, so a process killed at any point resumes the same ACME order:
//
//   new → placed → provisioned → responded → ready → finalized → valid
//                                                        ↘ invalid / failed
import type { AcmeAuthorization, AcmeClient } from '../acme/index.ts';
import { AcmeError, AcmeNetworkError, AcmeProblemError, AcmeTimeoutError } from '../acme/index.ts';
import type { ChallengeSolver, ChallengeTask, ChallengeType } from '../challenges/solver.ts';
import { createCsr, type Identifier, parseCertificate, privateKeyFromPem } from '../pki/index.ts';
import { newId } from '../store/ids.ts';
import { type CertificateRow, getCertificate, insertVersion, updateCertificate } from '../store/repositories/certificates.ts';
import { appendEvent } from '../store/repositories/events.ts';
import { getOrder, type OrderRow, updateOrder } from '../store/repositories/orders.ts';
import type { ReadyAccount } from './accounts.ts';
import type { EngineContext } from './context.ts';
import { OperationError } from './errors.ts';
import { renewalTime } from './renewal-policy.ts';

/** What the order row remembers of each authorization (orders.authorizations). */
export interface AuthorizationRecord {
  url: string;
  identifier: Identifier;
  wildcard: boolean;
  status: 'pending' | 'presented' | 'responded' | 'valid';
  challengeUrl?: string;
  token?: string;
}

export type OrderStep = 'new' | 'placed' | 'provisioned' | 'responded' | 'ready' | 'finalized' | 'valid' | 'invalid' | 'failed';

export interface RunOrderOptions {
  solver: ChallengeSolver;
  /** Seam for crash tests: called after a step is stored, before the next begins. */
  afterStep?: (step: OrderStep) => void | Promise<void>;
}

export interface IssuedVersion {
  versionId: string;
  serial: string;
  notBefore: number;
  notAfter: number;
}

export const orderKeyAad = (orderId: string) => `order:${orderId}:key`;
export const versionKeyAad = (versionId: string) => `version:${versionId}:key`;

/** Drives one order from wherever it stands to a stored certificate version. */
export async function runOrder(ctx: EngineContext, orderId: string, account: ReadyAccount, options: RunOrderOptions): Promise<IssuedVersion> {
  const presented: ChallengeTask[] = [];
  try {
    for (;;) {
      const order = await mustGetOrder(ctx, orderId);
      const step = order.step as OrderStep;
      if (step === 'valid') return await storedVersion(ctx, order);
      if (step === 'invalid' || step === 'failed') throw new OperationError(`order ${order.order_url} is ${step}: ${order.error}`);
      const next = await STEPS[step](ctx, order, account.client, options.solver, presented);
      await options.afterStep?.(next);
    }
  } catch (error) {
    await recordFailure(ctx, orderId, error);
    throw error;
  } finally {
    await cleanupAll(options.solver, presented);
  }
}

type StepHandler = (ctx: EngineContext, order: OrderRow, client: AcmeClient, solver: ChallengeSolver, presented: ChallengeTask[]) => Promise<OrderStep>;

const STEPS: Record<'new' | 'placed' | 'provisioned' | 'responded' | 'ready' | 'finalized', StepHandler> = {
  new: placeOrder,
  placed: provisionChallenges,
  provisioned: respondToChallenges,
  responded: awaitValidation,
  ready: finalizeOrder,
  finalized: downloadCertificate,
};

async function placeOrder(ctx: EngineContext, order: OrderRow, client: AcmeClient): Promise<OrderStep> {
  const certificate = await mustGetCertificate(ctx, order.certificate_id);
  const identifiers = JSON.parse(certificate.identifiers) as Identifier[];
  ctx.progress(`placing an order for ${identifiers.map((i) => i.value).join(', ')}`);
  const { url, order: placed } = await client.newOrder({
    identifiers,
    profile: certificate.profile ?? undefined,
    replaces: order.replaces ?? undefined,
  });
  const authorizations: AuthorizationRecord[] = placed.authorizations.map((authorizationUrl) => ({
    url: authorizationUrl,
    identifier: { type: 'dns', value: '' },
    wildcard: false,
    status: 'pending',
  }));
  await updateOrder(ctx.store.db, order.id, {
    step: 'placed',
    order_url: url,
    finalize_url: placed.finalize,
    authorizations: JSON.stringify(authorizations),
    updated_at: ctx.clock.now(),
  });
  return 'placed';
}

async function provisionChallenges(ctx: EngineContext, order: OrderRow, client: AcmeClient, solver: ChallengeSolver, presented: ChallengeTask[]): Promise<OrderStep> {
  const records = JSON.parse(order.authorizations) as AuthorizationRecord[];
  ctx.progress(`preparing ${solver.type} challenges`);
  const tasks = await Promise.all(
    records.map(async (record) => {
      const authorization = await client.getAuthorization(record.url);
      record.identifier = authorization.identifier as Identifier;
      record.wildcard = authorization.wildcard === true;
      if (authorization.status === 'valid') {
        record.status = 'valid';
        return undefined;
      }
      if (authorization.status !== 'pending') throw authorizationFailed(authorization);
      const challenge = authorization.challenges.find((c) => c.type === solver.type);
      if (!challenge) {
        const offered = authorization.challenges.map((c) => c.type).join(', ');
        throw new OperationError(`the CA offers no ${solver.type} challenge for ${record.identifier.value} (it offers ${offered}); choose another --challenge`);
      }
      const task = challengeTask(client, solver.type, record, challenge.token);
      await solver.present(task);
      presented.push(task);
      record.challengeUrl = challenge.url;
      record.token = challenge.token;
      record.status = 'presented';
      return task;
    }),
  );
  if (solver.waitUntilVisible) {
    await Promise.all(tasks.filter((t) => t !== undefined).map((task) => solver.waitUntilVisible!(task)));
  }
  await updateOrder(ctx.store.db, order.id, { step: 'provisioned', authorizations: JSON.stringify(records), updated_at: ctx.clock.now() });
  return 'provisioned';
}

async function respondToChallenges(ctx: EngineContext, order: OrderRow, client: AcmeClient, solver: ChallengeSolver, presented: ChallengeTask[]): Promise<OrderStep> {
  const records = JSON.parse(order.authorizations) as AuthorizationRecord[];
  // A resumed process has lost its in-memory responder state: put the answers back first.
  await representIfNeeded(client, solver, records, presented);
  ctx.progress('asking the CA to validate');
  await Promise.all(
    records
      .filter((record) => record.status !== 'valid')
      .map(async (record) => {
        await client.respondToChallenge(record.challengeUrl!);
        record.status = 'responded';
      }),
  );
  await updateOrder(ctx.store.db, order.id, { step: 'responded', authorizations: JSON.stringify(records), updated_at: ctx.clock.now() });
  return 'responded';
}

async function awaitValidation(ctx: EngineContext, order: OrderRow, client: AcmeClient, solver: ChallengeSolver, presented: ChallengeTask[]): Promise<OrderStep> {
  const records = JSON.parse(order.authorizations) as AuthorizationRecord[];
  await representIfNeeded(client, solver, records, presented);
  ctx.progress('waiting for the CA to validate');
  await Promise.all(
    records
      .filter((record) => record.status !== 'valid')
      .map(async (record) => {
        await client.waitForAuthorization(record.url);
        record.status = 'valid';
      }),
  );
  await client.waitForOrder(order.order_url!, ['ready', 'valid']);
  await cleanupAll(solver, presented);
  await updateOrder(ctx.store.db, order.id, { step: 'ready', authorizations: JSON.stringify(records), updated_at: ctx.clock.now() });
  return 'ready';
}

async function finalizeOrder(ctx: EngineContext, order: OrderRow, client: AcmeClient): Promise<OrderStep> {
  const certificate = await mustGetCertificate(ctx, order.certificate_id);
  const key = privateKeyFromPem(ctx.store.secrets.decryptString(order.key_enc, orderKeyAad(order.id)));
  const identifiers = JSON.parse(certificate.identifiers) as Identifier[];
  const csr = await createCsr(key, identifiers, JSON.parse(certificate.csr_info));
  ctx.progress('finalizing the order');
  try {
    await client.finalize(order.finalize_url!, csr);
  } catch (error) {
    // Killed after the CA accepted the CSR but before we stored it: the order has moved on.
    if (!(error instanceof AcmeProblemError && error.type.endsWith(':orderNotReady'))) throw error;
    const current = await client.getOrder(order.order_url!);
    if (current.status !== 'processing' && current.status !== 'valid') throw error;
  }
  await updateOrder(ctx.store.db, order.id, { step: 'finalized', updated_at: ctx.clock.now() });
  return 'finalized';
}

async function downloadCertificate(ctx: EngineContext, order: OrderRow, client: AcmeClient): Promise<OrderStep> {
  const valid = await client.waitForOrder(order.order_url!, ['valid']);
  if (!valid.certificate) throw new OperationError(`the CA marked order ${order.order_url} valid without a certificate URL`);
  ctx.progress('downloading the certificate');
  const { pem } = await client.downloadCertificate(valid.certificate);
  const parsed = parseCertificate(pem);
  const certificate = await mustGetCertificate(ctx, order.certificate_id);
  const keyPem = ctx.store.secrets.decryptString(order.key_enc, orderKeyAad(order.id));
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
      key_enc: ctx.store.secrets.encrypt(keyPem, versionKeyAad(versionId)),
      ca_url: order.ca_url,
      ari_cert_id: parsed.ariCertId ?? null,
      ari_window_start: null,
      ari_window_end: null,
      created_at: now,
    });
    await updateCertificate(trx, certificate.id, {
      state: 'valid',
      current_version_id: versionId,
      next_renewal_at: renewalTime(parsed.notBefore.getTime(), parsed.notAfter.getTime(), JSON.parse(certificate.renewal_policy)),
      retry_at: null,
      failure_count: 0,
      last_error: null,
      updated_at: now,
    });
    await updateOrder(trx, order.id, { step: 'valid', certificate_url: valid.certificate, error: null, updated_at: now });
    await appendEvent(
      trx,
      {
        subscriptionId: certificate.subscription_id,
        certificateId: certificate.id,
        type: renewed ? 'certificate.renewed' : 'certificate.issued',
        payload: { name: certificate.name, serial: parsed.serial, notAfter: parsed.notAfter.toISOString() },
      },
      now,
    );
  });
  return 'valid';
}

function challengeTask(client: AcmeClient, type: ChallengeType, record: AuthorizationRecord, token: string): ChallengeTask {
  const keyAuthorization = client.keyAuthorization(token);
  return {
    type,
    identifier: record.identifier,
    token,
    keyAuthorization,
    dnsValue: client.dns01TxtValue(token),
    wildcard: record.wildcard,
  };
}

async function representIfNeeded(client: AcmeClient, solver: ChallengeSolver, records: AuthorizationRecord[], presented: ChallengeTask[]): Promise<void> {
  if (presented.length > 0) return;
  for (const record of records) {
    if (record.status === 'valid' || !record.token) continue;
    const task = challengeTask(client, solver.type, record, record.token);
    await solver.present(task);
    presented.push(task);
  }
}

async function cleanupAll(solver: ChallengeSolver, presented: ChallengeTask[]): Promise<void> {
  const tasks = presented.splice(0);
  await Promise.allSettled(tasks.map((task) => solver.cleanup(task)));
}

function authorizationFailed(authorization: AcmeAuthorization): OperationError {
  const failed = authorization.challenges.find((c) => c.error);
  const reason = failed?.error ? `: ${failed.error.detail ?? failed.error.type}` : '';
  return new OperationError(`the authorization for ${authorization.identifier.value} is ${authorization.status}${reason}`);
}

/**
 * A CA's verdict (a problem document about the order) ends the order; a network
 * failure leaves it at its step so that the next run resumes it.
 */
async function recordFailure(ctx: EngineContext, orderId: string, error: unknown): Promise<void> {
  const order = await getOrder(ctx.store.db, orderId);
  if (!order) return;
  const message = error instanceof Error ? error.message : String(error);
  const final = endsOrder(error);
  const now = ctx.clock.now();
  const certificate = await getCertificate(ctx.store.db, order.certificate_id);
  await ctx.store.db.transaction().execute(async (trx) => {
    await updateOrder(trx, orderId, {
      step: final && order.step !== 'valid' ? 'invalid' : order.step,
      error: message,
      attempt: order.attempt + 1,
      updated_at: now,
    });
    if (!certificate) return;
    await updateCertificate(trx, certificate.id, {
      state: certificate.current_version_id ? 'valid' : 'failed',
      last_error: message,
      failure_count: certificate.failure_count + 1,
      updated_at: now,
    });
    await appendEvent(
      trx,
      {
        subscriptionId: certificate.subscription_id,
        certificateId: certificate.id,
        type: certificate.current_version_id ? 'renewal.failed' : 'issuance.failed',
        payload: { name: certificate.name, error: message },
      },
      now,
    );
  });
}

/** The CA said no, or the order cannot go on; a network failure or a timeout may heal, so the step is kept. */
function endsOrder(error: unknown): boolean {
  if (error instanceof AcmeNetworkError || error instanceof AcmeTimeoutError) return false;
  return error instanceof AcmeError || error instanceof OperationError;
}

async function storedVersion(ctx: EngineContext, order: OrderRow): Promise<IssuedVersion> {
  const version = await ctx.store.db
    .selectFrom('certificate_versions')
    .selectAll()
    .where('order_id', '=', order.id)
    .executeTakeFirstOrThrow();
  return { versionId: version.id, serial: version.serial, notBefore: version.not_before, notAfter: version.not_after };
}

async function mustGetOrder(ctx: EngineContext, id: string): Promise<OrderRow> {
  const order = await getOrder(ctx.store.db, id);
  if (!order) throw new OperationError(`order ${id} is no longer in the store`);
  return order;
}

async function mustGetCertificate(ctx: EngineContext, id: string): Promise<CertificateRow> {
  const certificate = await getCertificate(ctx.store.db, id);
  if (!certificate) throw new OperationError(`certificate ${id} is no longer in the store`);
  return certificate;
}

