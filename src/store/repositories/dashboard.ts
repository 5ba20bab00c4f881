// What the portal's dashboard and certificate list read: counts, histograms and
// pages computed by the database (SQLite and PostgreSQL alike), never by
// reading every certificate into the process.
import { sql } from 'kysely';
import type { Db } from './db.ts';
import { type CertificateWithDates, decodedCertificate } from './certificates.ts';
import { decodedEvent, type EventWithName, eventsWithNames } from './events.ts';
import { decodedOrder, type OrderRow } from './orders.ts';

const DAY_MS = 86_400_000;

/** What a certificate summary shows (views.ts): its own columns and its current version's serial and dates. */
const SUMMARY_COLUMNS = [
  'c.name',
  'c.state',
  'c.identifiers',
  'c.next_renewal_at',
  'v.serial',
  'v.not_before',
  'v.not_after',
] as const;

/** A subscription's live certificates (not deleted) with their current version. */
function live(db: Db, subscriptionId: string) {
  return db
    .selectFrom('certificates as c')
    .leftJoin('certificate_versions as v', 'v.id', 'c.current_version_id')
    .where('c.subscription_id', '=', subscriptionId)
    .where('c.state', '!=', 'deleted');
}

export async function countByState(db: Db, subscriptionId: string): Promise<Record<string, number>> {
  const rows = await live(db, subscriptionId)
    .select(['c.state', (eb) => eb.fn.countAll<number | string>().as('count')])
    .groupBy('c.state')
    .execute();
  return Object.fromEntries(rows.map((row) => [row.state, Number(row.count)]));
}

/** Issued, not revoked, expiring in [from, to). */
function expiringBetween(db: Db, subscriptionId: string, from: number, to: number) {
  return live(db, subscriptionId)
    .where('c.state', '!=', 'revoked')
    .where('v.not_after', '>=', from)
    .where('v.not_after', '<', to);
}

export async function countExpiring(
  db: Db,
  subscriptionId: string,
  from: number,
  to: number,
): Promise<number> {
  const row = await expiringBetween(db, subscriptionId, from, to)
    .select((eb) => eb.fn.countAll<number | string>().as('count'))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

export async function soonestExpiring(
  db: Db,
  subscriptionId: string,
  from: number,
  to: number,
  limit: number,
): Promise<CertificateWithDates[]> {
  const rows = await expiringBetween(db, subscriptionId, from, to)
    .select(SUMMARY_COLUMNS)
    .orderBy('v.not_after')
    .limit(limit)
    .execute();
  return rows.map((row) => decodedCertificate<CertificateWithDates>(row));
}

/** Certificates whose last renewal or issuance failed (and are not given up on: revoked or deleted). */
function failing(db: Db, subscriptionId: string) {
  return live(db, subscriptionId)
    .where('c.state', '!=', 'revoked')
    .where((eb) => eb.or([eb('c.failure_count', '>', 0), eb('c.state', '=', 'failed')]));
}

export async function countFailing(db: Db, subscriptionId: string): Promise<number> {
  const row = await failing(db, subscriptionId)
    .select((eb) => eb.fn.countAll<number | string>().as('count'))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

export function listFailing(db: Db, subscriptionId: string, limit: number) {
  return failing(db, subscriptionId)
    .select(['c.name', 'c.state', 'c.failure_count', 'c.last_error', 'c.retry_at', 'v.not_after'])
    .orderBy('c.updated_at', 'desc')
    .limit(limit)
    .execute();
}

/** How many issued certificates expire on each of the `days` days from `now` (day 0 is the next 24 hours). */
export async function expiryHistogram(
  db: Db,
  subscriptionId: string,
  now: number,
  days: number,
): Promise<number[]> {
  const day = sql<number | string>`(v.not_after - ${now}) / ${DAY_MS}`;
  const rows = await expiringBetween(db, subscriptionId, now, now + days * DAY_MS)
    .select([day.as('day'), (eb) => eb.fn.countAll<number | string>().as('count')])
    // By position: PostgreSQL would not see the parameters of the select list and of GROUP BY as one expression.
    .groupBy(sql`1`)
    .execute();
  const counts = new Array<number>(days).fill(0);
  for (const row of rows) counts[Math.floor(Number(row.day))] += Number(row.count);
  return counts;
}

export interface ListQuery {
  /** Part of the certificate's name or of one of its domain names, any case. */
  search?: string;
  state?: string;
  expiresBefore?: number;
  sort?: 'name' | '-name' | 'expiry' | '-expiry' | 'state';
  offset?: number;
  limit: number;
}

function filtered(db: Db, subscriptionId: string, query: ListQuery) {
  let q = live(db, subscriptionId);
  if (query.state) q = q.where('c.state', '=', query.state);
  if (query.expiresBefore !== undefined) q = q.where('v.not_after', '<', query.expiresBefore);
  if (query.search) {
    const pattern = `%${query.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    q = q.where((eb) =>
      eb.or([
        sql<boolean>`lower(c.name) like ${pattern} escape '\\'`,
        sql<boolean>`lower(c.identifiers) like ${pattern} escape '\\'`,
      ]),
    );
  }
  return q;
}

/** A page of certificates and how many match in all. */
export async function searchCertificates(
  db: Db,
  subscriptionId: string,
  query: ListQuery,
): Promise<{ rows: CertificateWithDates[]; total: number }> {
  let page = filtered(db, subscriptionId, query).select(SUMMARY_COLUMNS);
  const sort = query.sort ?? 'name';
  if (sort === 'expiry' || sort === '-expiry') {
    // Certificates not issued yet last either way (SQLite and PostgreSQL put NULLs at opposite ends).
    page = page.orderBy(sql`v.not_after is null`).orderBy('v.not_after', sort === 'expiry' ? 'asc' : 'desc');
  } else if (sort === 'state') {
    page = page.orderBy('c.state');
  }
  page = page.orderBy('c.name', sort === '-name' ? 'desc' : 'asc');
  const [rows, count] = await Promise.all([
    page
      .offset(query.offset ?? 0)
      .limit(query.limit)
      .execute(),
    filtered(db, subscriptionId, query)
      .select((eb) => eb.fn.countAll<number | string>().as('count'))
      .executeTakeFirstOrThrow(),
  ]);
  return { rows: rows.map((row) => decodedCertificate<CertificateWithDates>(row)), total: Number(count.count) };
}

/** A subscription's newest events, acknowledged or not (or one certificate's), newest first. */
export async function recentEvents(db: Db, subscriptionId: string, limit: number, certificateId?: string): Promise<EventWithName[]> {
  let query = eventsWithNames(db).where('events.subscription_id', '=', subscriptionId);
  if (certificateId !== undefined) query = query.where('events.certificate_id', '=', certificateId);
  return (await query.orderBy('events.id', 'desc').limit(limit).execute()).map(decodedEvent);
}

/** A certificate's newest orders. */
export async function recentOrders(db: Db, certificateId: string, limit: number): Promise<OrderRow[]> {
  const rows = await db
    .selectFrom('orders')
    .selectAll()
    .where('certificate_id', '=', certificateId)
    .orderBy('created_at', 'desc')
    .limit(limit)
    .execute();
  return rows.map(decodedOrder);
}

/** A certificate's versions, newest first, without their keys and chains. */
export function versionList(db: Db, certificateId: string, limit: number) {
  return db
    .selectFrom('certificate_versions')
    .select([
      'id',
      'serial',
      'not_before',
      'not_after',
      'ca_url',
      'ari_window_start',
      'ari_window_end',
      'created_at',
    ])
    .where('certificate_id', '=', certificateId)
    .orderBy('created_at', 'desc')
    .limit(limit)
    .execute();
}
