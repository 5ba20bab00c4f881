import type { Db, NewRow, Row, RowPatch } from './db.ts';

export type OrderRow = Row<'orders'>;

/** Steps after which an order needs no more work (DESIGN.md, issuance). */
export const FINISHED_STEPS = ['valid', 'deployed', 'invalid', 'failed'] as const;

export function getOrder(db: Db, id: string): Promise<OrderRow | undefined> {
  return db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The order still in progress for a certificate, if a process stopped before finishing it. */
export function findOpenOrder(db: Db, certificateId: string): Promise<OrderRow | undefined> {
  return db
    .selectFrom('orders')
    .selectAll()
    .where('certificate_id', '=', certificateId)
    .where('step', 'not in', FINISHED_STEPS)
    .orderBy('created_at', 'desc')
    .executeTakeFirst();
}


/** Names of the certificates that have an order in progress (for `certkeep resume`). */
export async function certificatesWithOpenOrders(db: Db, subscriptionId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('orders')
    .innerJoin('certificates', 'certificates.id', 'orders.certificate_id')
    .select('certificates.name')
    .distinct()
    .where('certificates.subscription_id', '=', subscriptionId)
    .where('orders.step', 'not in', FINISHED_STEPS)
    .orderBy('certificates.name')
    .execute();
  return rows.map((row) => row.name);
}

export function listOrders(db: Db, certificateId: string): Promise<OrderRow[]> {
  return db.selectFrom('orders').selectAll().where('certificate_id', '=', certificateId).orderBy('created_at').execute();
}

export async function insertOrder(db: Db, row: NewRow<'orders'>): Promise<void> {
  await db.insertInto('orders').values(row).execute();
}

export async function updateOrder(db: Db, id: string, patch: RowPatch<'orders'>): Promise<void> {
  await db.updateTable('orders').set(patch).where('id', '=', id).execute();
}
