import { type SqlBool, sql } from 'kysely';
import { OPEN_ORDER, RUNNABLE_KEY } from '../migrations/0009-scale.ts';
import type { OrderFields, OrderStep } from '../records.ts';
import { type Decoded, type DecodedPatch, decodeJson, encodeJson } from './codec.ts';
import type { Db, NewRow, Row, RowPatch } from './db.ts';

/** An order as the store keeps it: its authorizations decoded, its step and goal narrowed (records.ts). */
export type OrderRow = Decoded<Row<'orders'>, OrderFields>;
/** A new order is never retired: retention decides that later (retention.ts). */
export type NewOrder = Omit<Decoded<NewRow<'orders'>, OrderFields>, 'retired_at'>;
export type OrderPatch = DecodedPatch<RowPatch<'orders'>, OrderFields>;

const JSON_COLUMNS = ['authorizations'];

/** An order row with its authorizations decoded. */
export function decodedOrder(row: Row<'orders'>): OrderRow {
  return decodeJson<OrderRow>(row, JSON_COLUMNS);
}

function encoded<T>(record: object): T {
  return encodeJson<T>(record, JSON_COLUMNS);
}

/** Steps after which an order needs no more work (DESIGN.md, issuance); OPEN_ORDER says the same in SQL. */
export const FINISHED_STEPS = ['valid', 'deployed', 'invalid', 'failed'] as const satisfies readonly OrderStep[];

export function isFinished(step: string): boolean {
  return (FINISHED_STEPS as readonly string[]).includes(step);
}

export async function getOrder(db: Db, id: string): Promise<OrderRow | undefined> {
  const row = await db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirst();
  return row && decodedOrder(row);
}

/** The order still in progress for a certificate, if a process stopped before finishing it. */
export async function findOpenOrder(db: Db, certificateId: string): Promise<OrderRow | undefined> {
  const row = await db
    .selectFrom('orders')
    .selectAll()
    .where('certificate_id', '=', certificateId)
    .where(sql.raw<SqlBool>(OPEN_ORDER))
    .orderBy('created_at', 'desc')
    .executeTakeFirst();
  return row && decodedOrder(row);
}


/** Names of the certificates that have an order in progress (for `certkeep resume`). */
export async function certificatesWithOpenOrders(db: Db, subscriptionId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('orders')
    .innerJoin('certificates', 'certificates.id', 'orders.certificate_id')
    .select('certificates.name')
    .distinct()
    .where('certificates.subscription_id', '=', subscriptionId)
    .where(sql.raw<SqlBool>(OPEN_ORDER))
    .orderBy('certificates.name')
    .execute();
  return rows.map((row) => row.name);
}

export async function listOrders(db: Db, certificateId: string): Promise<OrderRow[]> {
  const rows = await db.selectFrom('orders').selectAll().where('certificate_id', '=', certificateId).orderBy('created_at').execute();
  return rows.map(decodedOrder);
}

export async function insertOrder(db: Db, order: NewOrder): Promise<void> {
  await db.insertInto('orders').values(encoded<NewRow<'orders'>>(order)).execute();
}

/**
 * Inserts an order unless its certificate has an open one already (the unique
 * index orders_one_open_idx); false then. The open order is the lock between
 * processes on one store.
 */
export async function insertOrderUnlessOpen(db: Db, order: NewOrder): Promise<boolean> {
  const result = await db.insertInto('orders').values(encoded<NewRow<'orders'>>(order)).onConflict((oc) => oc.doNothing()).executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
}

export async function updateOrder(db: Db, id: string, patch: OrderPatch): Promise<void> {
  await db.updateTable('orders').set(encoded<RowPatch<'orders'>>(patch)).where('id', '=', id).execute();
}

/**
 * An update that only holds while the writer still has the lease it claimed;
 * false when it was taken over. An update that finishes the order releases the
 * lease in the same write, so a process killed right after leaves no holder on it.
 */
export async function fencedUpdateOrder(db: Db, id: string, leaseToken: number, patch: OrderPatch): Promise<boolean> {
  const release = patch.step !== undefined && isFinished(patch.step) ? { lease_owner: null, lease_until: null } : {};
  const result = await db
    .updateTable('orders')
    .set({ ...encoded<RowPatch<'orders'>>(patch), ...release })
    .where('id', '=', id)
    .where('lease_token', '=', leaseToken)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Orders a worker should drive now: short of their goal, unfinished, unleased
 * and not waiting to retry, the one runnable longest first. Only open orders whose
 * moment has come are read (orders_runnable_idx).
 */
export function dueOrders(db: Db, now: number, limit: number): Promise<Pick<OrderRow, 'id'>[]> {
  return db
    .selectFrom('orders')
    .select('id')
    .where(sql.raw<SqlBool>(OPEN_ORDER))
    .where(sql.raw<number>(RUNNABLE_KEY), '<=', now)
    .whereRef('step', '!=', 'goal')
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
    .where((eb) => eb.or([eb('retry_at', 'is', null), eb('retry_at', '<=', now)]))
    // In the index's own order: ordered by another column, PostgreSQL may walk that column's
    // index through every order looking for a runnable one (seconds over a million finished ones).
    .orderBy(sql.raw(RUNNABLE_KEY))
    .limit(limit)
    .execute();
}

/** The compatibility APIs name orders by the CA's URL (their orderUri). */
export async function findOrderByUrl(db: Db, orderUrl: string): Promise<OrderRow | undefined> {
  const row = await db.selectFrom('orders').selectAll().where('order_url', '=', orderUrl).executeTakeFirst();
  return row && decodedOrder(row);
}
