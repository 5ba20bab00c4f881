import { type ExpressionBuilder, type SqlBool, sql } from 'kysely';
import type { Database } from '../schema.ts';
import { DUE_KEY, ISSUING, OPEN_ORDER, WARNING_KEY } from '../migrations/0009-scale.ts';
import { normalizeName } from '../../pki/names.ts';
import type { CertificateFields, CertificateState, Identifier, IssuerSpec, RenewalPolicy, ChallengeConfig } from '../records.ts';
import { type Decoded, type DecodedPatch, decodeJson, encodeJson } from './codec.ts';
import { compiledOnce } from './compiled.ts';
import type { Db, NewRow, Row, RowPatch } from './db.ts';
import { addCertificateNumber } from './numbers.ts';

/** A certificate as the store keeps it: its JSON columns decoded (records.ts). */
export type CertificateRow = Decoded<Row<'certificates'>, CertificateFields>;
/** The current version and its expiry are always given together (null, null before the first version). */
export type NewCertificate = Decoded<NewRow<'certificates'>, CertificateFields> & Pick<Row<'certificates'>, 'current_version_id' | 'current_not_after'>;
/** Which version is current, and its expiry beside it, change together: makeVersionCurrent. */
export type CertificatePatch = Omit<DecodedPatch<RowPatch<'certificates'>, CertificateFields>, 'current_version_id' | 'current_not_after'>;
export type VersionRow = Row<'certificate_versions'>;
/** A new version is never retired: retention decides that later (retention.ts). */
export type NewVersion = Omit<NewRow<'certificate_versions'>, 'retired_at'>;

const JSON_COLUMNS = ['identifiers', 'challenge_config', 'issuers', 'renewal_policy', 'csr_info'];

/** A certificate row (or a selection of its columns) with its JSON columns decoded. */
export function decodedCertificate<T>(row: object): T {
  return decodeJson<T>(row, JSON_COLUMNS);
}

/** Certificates are found by name in its one normal form (pki/names.ts), whatever case or trailing dot was typed. */
export async function findCertificate(db: Db, subscriptionId: string, name: string): Promise<CertificateRow | undefined> {
  const row = await db
    .selectFrom('certificates')
    .selectAll()
    .where('subscription_id', '=', subscriptionId)
    .where('name', '=', normalizeName(name))
    .where('state', '!=', 'deleted')
    .executeTakeFirst();
  return row && decodedCertificate(row);
}

export async function getCertificate(db: Db, id: string): Promise<CertificateRow | undefined> {
  const row = await db.selectFrom('certificates').selectAll().where('id', '=', id).executeTakeFirst();
  return row && decodedCertificate(row);
}

export async function listCertificates(db: Db, subscriptionId: string): Promise<CertificateRow[]> {
  const rows = await db
    .selectFrom('certificates')
    .selectAll()
    .where('subscription_id', '=', subscriptionId)
    .where('state', '!=', 'deleted')
    .orderBy('name')
    .execute();
  return rows.map((row) => decodedCertificate(row));
}

/** A certificate's renewal bookkeeping before anything has happened to it: no failure, no lease, no warning. */
export const UNTOUCHED_RENEWAL_STATE = {
  retry_at: null,
  failure_count: 0,
  last_error: null,
  lease_owner: null,
  lease_token: 0,
  lease_until: null,
  warned_days: null,
  ari_check_at: null,
} as const;

/** Stores a new certificate and gives it its number (numbers.ts): call it in a transaction, so that both are stored or neither. */
export async function insertCertificate(db: Db, certificate: NewCertificate): Promise<void> {
  await db.insertInto('certificates').values(encodeJson<NewRow<'certificates'>>(certificate, JSON_COLUMNS)).execute();
  await addCertificateNumber(db, certificate.id);
}

/** Inserts a certificate with its number unless one of that name exists (another process was quicker); false then. */
export async function insertCertificateUnlessNamed(db: Db, certificate: NewCertificate): Promise<boolean> {
  const result = await db
    .insertInto('certificates')
    .values(encodeJson<NewRow<'certificates'>>(certificate, JSON_COLUMNS))
    .onConflict((oc) => oc.doNothing())
    .executeTakeFirst();
  const inserted = Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  if (inserted) await addCertificateNumber(db, certificate.id);
  return inserted;
}

export async function updateCertificate(db: Db, id: string, patch: CertificatePatch): Promise<void> {
  await db.updateTable('certificates').set(encodeJson<RowPatch<'certificates'>>(patch, JSON_COLUMNS)).where('id', '=', id).execute();
}

/**
 * Makes the version the certificate's current one, with `patch`: its expiry is
 * kept on the certificate (the expiry-warning index reads it there), and a
 * version that was retired is current again, so retention leaves it.
 */
export async function makeVersionCurrent(db: Db, id: string, version: Pick<VersionRow, 'id' | 'not_after'>, patch: CertificatePatch): Promise<void> {
  await db
    .updateTable('certificates')
    .set({ ...encodeJson<RowPatch<'certificates'>>(patch, JSON_COLUMNS), current_version_id: version.id, current_not_after: version.not_after })
    .where('id', '=', id)
    .execute();
  await db.updateTable('certificate_versions').set({ retired_at: null }).where('id', '=', version.id).where('retired_at', 'is not', null).execute();
}

export async function insertVersion(db: Db, row: NewVersion): Promise<void> {
  await db.insertInto('certificate_versions').values(row).execute();
}

export function getVersion(db: Db, id: string): Promise<VersionRow | undefined> {
  return db.selectFrom('certificate_versions').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The version an order produced: how a resumed run finds its result. */
export function findVersionOfOrder(db: Db, orderId: string): Promise<VersionRow | undefined> {
  return db.selectFrom('certificate_versions').selectAll().where('order_id', '=', orderId).executeTakeFirst();
}

/** Serial and dates only: listings must not read every chain and key. */
export function getVersionDates(db: Db, id: string): Promise<Pick<VersionRow, 'serial' | 'not_before' | 'not_after'> | undefined> {
  return db.selectFrom('certificate_versions').select(['serial', 'not_before', 'not_after']).where('id', '=', id).executeTakeFirst();
}

/** What a summary shows: the certificate's id and own columns and its current version's serial and dates (null before the first). */
export interface CertificateWithDates {
  id: string;
  name: string;
  state: CertificateState;
  identifiers: Identifier[];
  next_renewal_at: number | null;
  serial: string | null;
  not_before: number | null;
  not_after: number | null;
}

/** One query for a certificate and its current version's dates: the API's hottest read, so compiled once. */
export async function findCertificateWithDates(db: Db, subscriptionId: string, name: string): Promise<CertificateWithDates | undefined> {
  const [row] = await certificateWithDates(db, subscriptionId, normalizeName(name));
  return row && decodedCertificate(row);
}

const certificateWithDates = compiledOnce((db: Db, subscriptionId: string, name: string) => withDates(db, subscriptionId).where('c.name', '=', name));

export interface CertificateFilter {
  state?: CertificateState;
  /** Only certificates whose current version expires before this time. */
  expiresBefore?: number;
  /** Keyset pagination: names after this one. */
  after?: string;
  limit?: number;
}

/** As CertificateWithDates, with the certificate's own timestamps. */
export interface ListedCertificate extends CertificateWithDates {
  created_at: number;
  updated_at: number;
}

/** A subscription's certificates by name, filtered and a page at a time, in one query. */
export async function listCertificatesWithDates(db: Db, subscriptionId: string, filter: CertificateFilter = {}): Promise<ListedCertificate[]> {
  let query = withDates(db, subscriptionId).select(['c.created_at', 'c.updated_at']).orderBy('c.name');
  if (filter.state) query = query.where('c.state', '=', filter.state);
  if (filter.expiresBefore !== undefined) query = query.where('v.not_after', '<', filter.expiresBefore);
  if (filter.after !== undefined) query = query.where('c.name', '>', filter.after);
  if (filter.limit !== undefined) query = query.limit(filter.limit);
  return (await query.execute()).map((row) => decodedCertificate(row));
}

function withDates(db: Db, subscriptionId: string) {
  return db
    .selectFrom('certificates as c')
    .leftJoin('certificate_versions as v', 'v.id', 'c.current_version_id')
    .select(['c.id', 'c.name', 'c.state', 'c.identifiers', 'c.next_renewal_at', 'v.serial', 'v.not_before', 'v.not_after'])
    .where('c.subscription_id', '=', subscriptionId)
    .where('c.state', '!=', 'deleted');
}

export function listVersions(db: Db, certificateId: string): Promise<VersionRow[]> {
  return db
    .selectFrom('certificate_versions')
    .selectAll()
    .where('certificate_id', '=', certificateId)
    .orderBy('created_at', 'desc')
    .execute();
}


/** Removes the certificate; its versions, orders and HTTP-01 answers go with it (ON DELETE CASCADE). */
export async function deleteCertificateRow(db: Db, id: string): Promise<void> {
  await db.deleteFrom('certificates').where('id', '=', id).execute();
}

/** Unleased, with no order in progress: a certificate the scheduler may act on. */
function idle(db: Db, now: number) {
  return db
    .selectFrom('certificates')
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
    .where((eb) => eb(openOrderOf(eb), 'is', null));
}

/**
 * 1 when the certificate has an open order. A scalar subquery rather than NOT
 * EXISTS: both databases then look up each candidate in orders_one_open_idx, where
 * PostgreSQL would turn NOT EXISTS into an anti-join that may read the whole
 * index.
 */
function openOrderOf(eb: ExpressionBuilder<Database, 'certificates'>) {
  return eb
    .selectFrom('orders as o')
    .select(sql.lit(1).as('open'))
    .whereRef('o.certificate_id', '=', 'certificates.id')
    .where(sql.raw<SqlBool>(OPEN_ORDER))
    .limit(1);
}

/**
 * Due (the engine's rule, planner.ts isDue): its retry time has come, or (no
 * retry pending) its renewal time; not revoked; unleased; no order in progress.
 * The due time is the key of certificates_due_idx, so only due rows are read.
 */
function whereDue(db: Db, now: number) {
  return idle(db, now).where(sql.raw<number>(DUE_KEY), '<=', now);
}

/** Certificates the renewal planner should open an order for now, most overdue first. */
export function dueCertificates(db: Db, now: number, limit: number): Promise<{ id: string }[]> {
  return whereDue(db, now).select('id').orderBy(sql.raw<number>(DUE_KEY)).limit(limit).execute();
}

/**
 * Claims a due certificate: the update re-checks that it is due and has no open
 * order, so of several instances that saw it due, one wins and the others get
 * undefined — a certificate is renewed once.
 */
export function claimDueCertificate(db: Db, id: string, owner: string, now: number, leaseMs: number): Promise<number | undefined> {
  return claimAmong(db, whereDue(db, now), id, owner, now, leaseMs);
}

/** Leases the certificate if `candidates` still holds it (not when another instance took it first); its new lease token. */
async function claimAmong(db: Db, candidates: ReturnType<typeof idle>, id: string, owner: string, now: number, leaseMs: number): Promise<number | undefined> {
  const row = await db
    .updateTable('certificates')
    .set((eb) => ({ lease_owner: owner, lease_until: now + leaseMs, lease_token: eb('lease_token', '+', 1) }))
    .where('id', 'in', candidates.select('id').where('id', '=', id))
    .returning('lease_token')
    .executeTakeFirst();
  return row?.lease_token;
}

/**
 * Stuck: issuing, yet without an order in progress, since before `before` (a
 * process killed between writing the certificate and its order, in a version
 * that did not write both in one transaction); unleased. Only issuing
 * certificates are read (certificates_issuing_idx).
 */
function whereStuck(db: Db, now: number, before: number) {
  return idle(db, now).where(sql.raw<SqlBool>(ISSUING)).where('updated_at', '<', before);
}

export function stuckCertificates(db: Db, now: number, before: number, limit: number): Promise<{ id: string }[]> {
  return whereStuck(db, now, before).select('id').orderBy('updated_at').limit(limit).execute();
}

/** Claims a stuck certificate as claimDueCertificate does a due one: of several instances, one gets it. */
export function claimStuckCertificate(db: Db, id: string, owner: string, now: number, before: number, leaseMs: number): Promise<number | undefined> {
  return claimAmong(db, whereStuck(db, now, before), id, owner, now, leaseMs);
}

export async function releaseCertificate(db: Db, id: string, leaseToken: number): Promise<void> {
  await db.updateTable('certificates').set({ lease_owner: null, lease_until: null }).where('id', '=', id).where('lease_token', '=', leaseToken).execute();
}

/**
 * Certificates for which an expiry warning louder than the last may be due now
 * (the moment is the key of certificates_warning_idx: rows on track are not read),
 * soonest first; the planner decides which warning.
 */
export function nearingExpiry(db: Db, now: number, limit: number) {
  return db
    .selectFrom('certificates')
    .select(['id', 'subscription_id', 'name', 'warned_days', 'next_renewal_at', 'failure_count', 'current_not_after as not_after'])
    .where(sql.raw<number>(WARNING_KEY), '<=', now)
    .orderBy(sql.raw<number>(WARNING_KEY))
    .limit(limit)
    .$narrowType<{ not_after: number }>()
    .execute();
}

/** A certificate with its current version's ARI CertID and window, for the scheduler's renewalInfo checks. */
export interface AriCheck {
  id: string;
  subscription_id: string;
  name: string;
  issuers: IssuerSpec[];
  renewal_policy: RenewalPolicy;
  challenge_config: ChallengeConfig;
  retry_at: number | null;
  version_id: string;
  ca_url: string;
  ari_cert_id: string | null;
  not_before: number;
  not_after: number;
  ari_window_start: number | null;
  ari_window_end: number | null;
}

/** Certificates whose CA's renewalInfo should be fetched again. */
export async function ariChecksDue(db: Db, now: number, limit: number): Promise<AriCheck[]> {
  const rows = await db
    .selectFrom('certificates as c')
    .innerJoin('certificate_versions as v', 'v.id', 'c.current_version_id')
    .select(['c.id', 'c.subscription_id', 'c.name', 'c.issuers', 'c.renewal_policy', 'c.challenge_config', 'c.retry_at', 'v.id as version_id', 'v.ca_url', 'v.ari_cert_id', 'v.not_before', 'v.not_after', 'v.ari_window_start', 'v.ari_window_end'])
    .where('c.ari_check_at', '<=', now)
    .where('c.state', '!=', 'revoked')
    .limit(limit)
    .execute();
  return rows.map((row) => decodedCertificate(row));
}

export async function updateVersion(db: Db, id: string, patch: RowPatch<'certificate_versions'>): Promise<void> {
  await db.updateTable('certificate_versions').set(patch).where('id', '=', id).execute();
}
