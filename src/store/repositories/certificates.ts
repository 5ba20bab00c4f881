import { compiledOnce } from './compiled.ts';
import type { Db, NewRow, Row, RowPatch } from './db.ts';

export type CertificateRow = Row<'certificates'>;
export type VersionRow = Row<'certificate_versions'>;

export function findCertificate(db: Db, subscriptionId: string, name: string): Promise<CertificateRow | undefined> {
  return db
    .selectFrom('certificates')
    .selectAll()
    .where('subscription_id', '=', subscriptionId)
    .where('name', '=', name)
    .where('state', '!=', 'deleted')
    .executeTakeFirst();
}

export function getCertificate(db: Db, id: string): Promise<CertificateRow | undefined> {
  return db.selectFrom('certificates').selectAll().where('id', '=', id).executeTakeFirst();
}

export function listCertificates(db: Db, subscriptionId: string): Promise<CertificateRow[]> {
  return db
    .selectFrom('certificates')
    .selectAll()
    .where('subscription_id', '=', subscriptionId)
    .where('state', '!=', 'deleted')
    .orderBy('name')
    .execute();
}

export async function insertCertificate(db: Db, row: NewRow<'certificates'>): Promise<void> {
  await db.insertInto('certificates').values(row).execute();
}

export async function updateCertificate(db: Db, id: string, patch: RowPatch<'certificates'>): Promise<void> {
  await db.updateTable('certificates').set(patch).where('id', '=', id).execute();
}


export async function insertVersion(db: Db, row: NewRow<'certificate_versions'>): Promise<void> {
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

/** What a summary shows: the certificate's own columns and its current version's serial and dates (null before the first). */
export interface CertificateWithDates {
  name: string;
  state: string;
  identifiers: string;
  next_renewal_at: number | null;
  serial: string | null;
  not_before: number | null;
  not_after: number | null;
}

/** One query for a certificate and its current version's dates: the API's hottest read, so compiled once. */
export async function findCertificateWithDates(db: Db, subscriptionId: string, name: string): Promise<CertificateWithDates | undefined> {
  return (await certificateWithDates(db, subscriptionId, name))[0];
}

const certificateWithDates = compiledOnce((db: Db, subscriptionId: string, name: string) => withDates(db, subscriptionId).where('c.name', '=', name));

export function listCertificatesWithDates(db: Db, subscriptionId: string): Promise<CertificateWithDates[]> {
  return withDates(db, subscriptionId).orderBy('c.name').execute();
}

function withDates(db: Db, subscriptionId: string) {
  return db
    .selectFrom('certificates as c')
    .leftJoin('certificate_versions as v', 'v.id', 'c.current_version_id')
    .select(['c.name', 'c.state', 'c.identifiers', 'c.next_renewal_at', 'v.serial', 'v.not_before', 'v.not_after'])
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

