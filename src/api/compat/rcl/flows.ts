// The RCL API's steps over certkeep's use cases. The client answers the
// challenges itself, so orders are opened with answers 'client' and goal
// 'placed' and driven in the request until their tokens are known; validation
// and finalization are driven in the request too (bounded), except gen 3's
// schedule/create, which raises the goal and leaves the rest to the workers.
import {
  type CertificateRow,
  driveOrder,
  findOrder,
  mustFindCertificateByNameOrNumber,
  orderById,
  type OrderRow,
  orderStatus,
  raiseGoal,
  reloadCertificate,
  startCertificate,
  type StartedOrder,
  startRenewal,
  stepReached,
  type ValidRequest,
} from '../../../engine/index.ts';
import { NotFoundError, UnavailableError, UsageError } from '../../../errors.ts';
import type { Services } from '../../services.ts';
import { storedName } from './translate.ts';

const PLACE_MS = 30_000;
const VALIDATE_MS = 30_000;
const FINALIZE_MS = 60_000;

/** The certificate a path or query names: by its name (`*.x` for `wildcard.x`), or by the `id` certkeep answered. */
export function certificateOf(services: Services, subscriptionId: string, reference: string, field = 'name'): Promise<CertificateRow> {
  return mustFindCertificateByNameOrNumber(services.engine, subscriptionId, storedName(reference, field));
}

/** A new order for the certificate (created, or re-specified when the name exists) with its tokens. */
export async function openOrder(services: Services, request: ValidRequest, pfxPassword: string | undefined): Promise<StartedOrder> {
  const started = await startCertificate(services.engine, request, { answers: 'client', goal: 'placed', replaceExisting: true, pfxPassword });
  return placed(services, started);
}

/** Gen 2's renewal: an order from the stored certificate's properties (its open one, if any). */
export async function renewalOrder(services: Services, subscriptionId: string, name: string): Promise<StartedOrder> {
  return placed(services, await startRenewal(services.engine, subscriptionId, name, { goal: 'placed' }));
}

/** The order an orderUri names, in the caller's subscription (and of the named certificate, when one is named). */
export async function orderOf(services: Services, subscriptionId: string, orderUri: string, certificateName?: string): Promise<StartedOrder> {
  let found: StartedOrder;
  try {
    found = await findOrder(services.engine, subscriptionId, { orderUrl: orderUri.trim() });
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    throw new UsageError(`orderUri: "${orderUri}" is not an order of this subscription; create an order first and use the orderUri it returns`, 'orderUri');
  }
  if (certificateName !== undefined && found.certificate.name !== certificateName) {
    throw new UsageError(`orderUri: the order is for certificate "${found.certificate.name}", not "${certificateName}"`, 'orderUri');
  }
  return found;
}

/** Gen 1's validate: a pending order, driven until the CA has the answers (and, time allowing, has judged them). */
export async function validate(services: Services, { order }: StartedOrder): Promise<OrderRow> {
  const status = orderStatus(order.step);
  if (status !== 'pending') {
    const next = status === 'invalid' ? 'create a new order' : status === 'ready' ? 'finalize it' : 'get the certificate';
    throw new UsageError(`the order is ${status}; only a pending order can be validated — ${next}`, 'orderUri');
  }
  await raiseGoal(services.engine, order, 'ready');
  const after = await drive(services, order.id, VALIDATE_MS);
  if (orderStatus(after.step) === 'invalid') {
    throw new UsageError(`validation failed: ${after.error ?? 'the CA found no valid answer'}. An invalid order cannot be validated again: create a new order`, 'orderUri');
  }
  if (!stepReached(after.step, 'responded')) throw new UnavailableError('the CA has not been asked to validate yet; try again in a minute');
  return after;
}

/** Finalizes (validating first if the client has not): the certificate is issued and stored before the answer. */
export async function finalize(services: Services, { order }: StartedOrder): Promise<void> {
  await raiseGoal(services.engine, order, 'valid');
  const after = await drive(services, order.id, FINALIZE_MS);
  if (orderStatus(after.step) === 'invalid') {
    throw new UsageError(`the order failed: ${after.error ?? 'the CA refused it'}. Create a new order`, 'orderUri');
  }
  if (after.step !== 'valid') throw new UnavailableError('the CA is still issuing the certificate; get it in a minute');
}

/**
 * Gen 3's schedule/renew (the vendor's SDK): a renewal order for the workers. Where
 * certkeep answers the challenges it is issued in the background; where the client
 * does, its tokens and orderUri appear in get/certificatename, and schedule/create
 * with that orderUri finishes it, as for a new certificate.
 */
export async function scheduleRenewal(services: Services, certificate: CertificateRow): Promise<void> {
  await startRenewal(services.engine, certificate.subscription_id, certificate.name);
}

/** Gen 3's schedule/create: the workers validate and issue; the client polls GET. */
export async function schedule(services: Services, { order }: StartedOrder): Promise<void> {
  await raiseGoal(services.engine, order, 'valid');
}

async function placed(services: Services, started: StartedOrder): Promise<StartedOrder> {
  const order = await drive(services, started.order.id, PLACE_MS);
  if (orderStatus(order.step) === 'invalid') throw new UsageError(`the CA refused the order: ${order.error ?? 'no reason given'}`);
  if (!stepReached(order.step, 'placed')) throw new UnavailableError('the CA has not answered the order yet; try again in a minute');
  const certificate = await reloadCertificate(services.engine, started.certificate);
  return { certificate, order };
}

/**
 * Drives the order in this request. A failure the CA decided is stored with the
 * order (which is then invalid) and answered from there; others are thrown.
 */
async function drive(services: Services, orderId: string, timeoutMs: number): Promise<OrderRow> {
  try {
    return await driveOrder(services.engine, services.engine.solvers, orderId, { timeoutMs });
  } catch (error) {
    const order = await orderById(services.engine, orderId);
    if (order && orderStatus(order.step) === 'invalid') return order;
    throw error;
  }
}
