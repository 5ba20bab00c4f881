// The rows a use case expects to find: a missing one is a NotFoundError that
// says what is gone. Another subscription's certificate is reported exactly
// like a missing one.
import { NotFoundError } from '../errors.ts';
import { type CertificateRow, findCertificate, getCertificate } from '../store/repositories/certificates.ts';
import { getOrder, type OrderRow } from '../store/repositories/orders.ts';
import type { EngineContext } from './context.ts';

/** The order with that id, if the store still has it. */
export function orderById(ctx: EngineContext, id: string): Promise<OrderRow | undefined> {
  return getOrder(ctx.store.db, id);
}

export async function mustGetOrder(ctx: EngineContext, id: string): Promise<OrderRow> {
  const order = await orderById(ctx, id);
  if (!order) throw new NotFoundError(`order ${id} is no longer in the store`);
  return order;
}

export async function mustGetCertificate(ctx: EngineContext, id: string): Promise<CertificateRow> {
  const certificate = await getCertificate(ctx.store.db, id);
  if (!certificate) throw new NotFoundError(`certificate ${id} is no longer in the store`);
  return certificate;
}

/** The certificate as stored now (after an order ran, say), or as given when it is gone. */
export async function reloadCertificate(ctx: EngineContext, certificate: CertificateRow): Promise<CertificateRow> {
  return (await getCertificate(ctx.store.db, certificate.id)) ?? certificate;
}

export async function mustFindCertificate(ctx: EngineContext, subscriptionId: string, name: string): Promise<CertificateRow> {
  const certificate = await findCertificate(ctx.store.db, subscriptionId, name);
  if (!certificate) throw new NotFoundError(`no certificate named "${name}" in this subscription`);
  return certificate;
}
