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
