// One runner per order at a time, across processes: a runner claims the order's
// lease (a fencing token in the row), keeps it alive while it works, and every
// write it makes is checked against the token (issuance.ts). A runner that
// dies loses the lease when it expires, and another resumes the same order.
// Likewise one process at a time opens a due certificate's order: it holds the
// certificate's claim meanwhile.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { claimDueCertificate, claimStuckCertificate, releaseCertificate } from '../store/repositories/certificates.ts';
import { claimOrder, extendOrderLease, getOrder, releaseOrder, type OrderRow, takeOverOrder } from '../store/repositories/orders.ts';
import type { EngineContext } from './context.ts';
import { mustGetOrder } from './lookups.ts';
import { type OrderGoal, stepReached } from './issuance.ts';

/** Long enough to ride out a slow CA response between heartbeats, short enough that a dead worker's orders resume soon. */
export const LEASE_MS = 30_000;

/** This process's name in lease_owner. */
export const PROCESS_OWNER = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;

/** Long enough to open an order (the CA's directory and account included). */
const DUE_CLAIM_MS = 60_000;

/**
 * Runs `work` holding the claim on a due certificate (the store re-checks that
 * it is due and has no order in progress), so that of the processes that see
 * it due, one opens its order; undefined when another process has it or it is
 * no longer due.
 */
export function whileClaimedDue<T>(ctx: EngineContext, certificateId: string, work: () => Promise<T>): Promise<{ result: T } | undefined> {
  return whileClaimed(ctx, certificateId, () => claimDueCertificate(ctx.store.db, certificateId, PROCESS_OWNER, ctx.clock.now(), DUE_CLAIM_MS), work);
}

/** As whileClaimedDue, for a certificate left issuing without an order since before `before` (the scheduler gives it one). */
export function whileClaimedStuck<T>(ctx: EngineContext, certificateId: string, before: number, work: () => Promise<T>): Promise<{ result: T } | undefined> {
  return whileClaimed(ctx, certificateId, () => claimStuckCertificate(ctx.store.db, certificateId, PROCESS_OWNER, ctx.clock.now(), before, DUE_CLAIM_MS), work);
}

async function whileClaimed<T>(ctx: EngineContext, certificateId: string, claim: () => Promise<number | undefined>, work: () => Promise<T>): Promise<{ result: T } | undefined> {
  const lease = await claim();
  if (lease === undefined) return undefined;
  try {
    return { result: await work() };
  } finally {
    await releaseCertificate(ctx.store.db, certificateId, lease);
  }
}

/**
 * Runs `work` holding the order's lease; undefined when another runner holds it.
 * The lease is renewed every third of its length until `work` ends, then released.
 */
export async function withOrderLease<T>(
  ctx: EngineContext,
  orderId: string,
  work: (fence: number) => Promise<T>,
  options: { owner?: string; leaseMs?: number } = {},
): Promise<{ result: T } | undefined> {
  const owner = options.owner ?? PROCESS_OWNER;
  const leaseMs = options.leaseMs ?? LEASE_MS;
  const fence = (await claimOrder(ctx.store.db, orderId, owner, ctx.clock.now(), leaseMs)) ?? (await takeOverFromDeadProcess(ctx, orderId, owner, leaseMs));
  if (fence === undefined) return undefined;
  const heartbeat = setInterval(() => {
    extendOrderLease(ctx.store.db, orderId, fence, ctx.clock.now() + leaseMs).catch(() => {});
  }, leaseMs / 3);
  heartbeat.unref();
  try {
    return { result: await work(fence) };
  } finally {
    clearInterval(heartbeat);
    await releaseOrder(ctx.store.db, orderId, fence).catch(() => {});
  }
}

/**
 * A killed process on this machine leaves its lease behind: rather than wait for
 * it to expire, take it over once the holder's process is gone (as a lock file's
 * owner pid is checked). Holders on other machines are waited for.
 */
async function takeOverFromDeadProcess(ctx: EngineContext, orderId: string, owner: string, leaseMs: number): Promise<number | undefined> {
  const order = await getOrder(ctx.store.db, orderId);
  const [host, pid] = (order?.lease_owner ?? '').split(':');
  if (!order || host !== hostname() || !pid || processAlive(Number(pid))) return undefined;
  return takeOverOrder(ctx.store.db, orderId, order.lease_token, owner, ctx.clock.now(), leaseMs);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Waits while another runner works on the order, until it reaches `goal`, ends, the time is up or `signal` fires. */
export async function awaitOrderElsewhere(ctx: EngineContext, orderId: string, goal: OrderGoal, timeoutMs: number, signal?: AbortSignal): Promise<OrderRow> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 25; ; delay = Math.min(delay * 2, 500)) {
    const order = await mustGetOrder(ctx, orderId);
    const free = order.lease_until === null || order.lease_until < ctx.clock.now();
    if (free || stepReached(order.step, goal) || order.step === 'invalid' || order.step === 'failed') return order;
    if (Date.now() > deadline || signal?.aborted) return order;
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
