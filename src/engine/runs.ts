// Driving orders: one run of an order, under its lease, towards its goal
// (issuance.ts). The server's workers start runs for every order short of its
// goal; a request drives one in its own time and otherwise waits for the runner
// that holds it; the CLI drives its order to the end in the foreground — the
// same run, awaited.
import { randomBytes } from 'node:crypto';
import { ConflictError } from '../errors.ts';
import type { CertificateRow } from '../store/repositories/certificates.ts';
import { isFinished, type OrderRow } from '../store/repositories/orders.ts';
import { ensureAccount, type ReadyAccount } from './accounts.ts';
import type { EngineContext } from './context.ts';
import { advanceOrder, type IssuedVersion, OrderInterruptedError, type RunOrderOptions, stepReached, storedVersion } from './issuance.ts';
import { issuerAt } from './issuers.ts';
import { awaitOrderElsewhere, PROCESS_OWNER, withOrderLease } from './leases.ts';
import { mustGetCertificate, mustGetOrder } from './lookups.ts';
import type { SolverSource } from './solvers.ts';

export interface RunOptions {
  /** The lease holder's name (default: this process's workers). */
  owner?: string;
  leaseMs?: number;
  afterStep?: RunOrderOptions['afterStep'];
  signal?: AbortSignal;
  key?: RunOrderOptions['key'];
}

/**
 * One run of an order under its lease (as `owner`, default this process): the
 * order as the run left it, or undefined when another runner holds it.
 * Failures are stored with the order (issuance.ts) and thrown.
 */
export async function runOrderOnce(ctx: EngineContext, solvers: SolverSource, order: OrderRow, options: RunOptions = {}): Promise<OrderRow | undefined> {
  const certificate = await mustGetCertificate(ctx, order.certificate_id);
  const account = await accountFor(ctx, certificate, order);
  const solver = await solvers.solverFor(certificate);
  const run = { solver, certificate, afterStep: options.afterStep, signal: options.signal, key: options.key };
  const leased = await withOrderLease(ctx, order.id, (fence) => advanceOrder(ctx, order.id, account, { ...run, fence }), {
    owner: options.owner,
    leaseMs: options.leaseMs,
  });
  return leased?.result;
}

export interface DriveOptions {
  /** How long to wait for another runner that holds the order (default 30 s; 0: not at all). */
  timeoutMs?: number;
  afterStep?: RunOrderOptions['afterStep'];
  /** Stops the run at once (the CLI's Ctrl-C): OrderInterruptedError, the order kept at its stored step. */
  signal?: AbortSignal;
  /** The order's key, when this process made it a moment ago (StartedOrder.key). */
  key?: RunOrderOptions['key'];
}

/** How long a foreground run waits for another process that holds the order. */
const WAIT_FOR_OTHER_RUN_MS = 10 * 60_000;

/**
 * Drives the order towards its goal in this request, or waits while another
 * runner does; returns where it stands when the goal is reached, the order
 * ended, or `timeoutMs` passed (the workers carry on from there).
 */
export async function driveOrder(ctx: EngineContext, solvers: SolverSource, orderId: string, options: DriveOptions = {}): Promise<OrderRow> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  // A lease owner of its own: this process's workers (which claim as PROCESS_OWNER)
  // must not take the order over while the request drives it.
  const owner = `${PROCESS_OWNER}:drive:${randomBytes(4).toString('hex')}`;
  for (;;) {
    const order = await mustGetOrder(ctx, orderId);
    if (stepReached(order.step, order.goal) || isFinished(order.step)) return order;
    const ran = await runOrderOnce(ctx, solvers, order, { owner, afterStep: options.afterStep, signal: options.signal, key: options.key });
    if (ran) return ran;
    const seen = await awaitOrderElsewhere(ctx, orderId, order.goal, Math.max(0, deadline - Date.now()));
    if (Date.now() >= deadline) return seen;
  }
}

/**
 * The foreground run (the CLI): the order driven to its certificate in this
 * process, as a worker would drive it, awaited. While another process holds
 * the order, waits for it: its certificate is this run's too; a holder that
 * stops without finishing leaves the order to this run.
 */
export async function finishOrder(
  ctx: EngineContext,
  solvers: SolverSource,
  orderId: string,
  options: Pick<DriveOptions, 'afterStep' | 'signal' | 'key'> = {},
): Promise<IssuedVersion> {
  const deadline = Date.now() + WAIT_FOR_OTHER_RUN_MS;
  for (;;) {
    const order = await driveOrder(ctx, solvers, orderId, { timeoutMs: 0, ...options });
    if (order.step === 'valid' || order.step === 'deployed') return storedVersion(ctx, order);
    if (order.step === 'invalid' || order.step === 'failed') throw new ConflictError(`order ${order.order_url ?? order.id} is ${order.step}: ${order.error}`);
    if (order.lease_until === null || order.lease_until < ctx.clock.now()) {
      throw new ConflictError(`order ${order.order_url ?? order.id} stopped at step "${order.step}" (its goal is "${order.goal}")`);
    }
    ctx.progress(`order ${orderId} is being worked on by another certkeep process; waiting for it`);
    const seen = await awaitOrderElsewhere(ctx, orderId, 'valid', Math.max(0, deadline - Date.now()), options.signal);
    if (options.signal?.aborted) throw new OrderInterruptedError(seen.step);
    if (seen.step === 'valid' || seen.step === 'deployed') return storedVersion(ctx, seen);
    if (seen.step === 'invalid' || seen.step === 'failed') {
      throw new ConflictError(`another certkeep process worked on order ${seen.order_url ?? seen.id} and it ended ${seen.step}: ${seen.error ?? 'no reason given'}`);
    }
    if (Date.now() >= deadline) {
      throw new ConflictError(`another certkeep process is still working on order ${orderId} (step "${seen.step}"); run certkeep resume once it has stopped`);
    }
  }
}

async function accountFor(ctx: EngineContext, certificate: CertificateRow, order: OrderRow): Promise<ReadyAccount> {
  return ensureAccount(ctx, certificate.subscription_id, issuerAt(certificate, order.ca_url));
}
