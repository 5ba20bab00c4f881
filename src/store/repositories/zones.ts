import type { Db, NewRow, Row } from './db.ts';

export type ZoneRow = Row<'dns_zones'>;

export function listZones(db: Db, subscriptionId: string): Promise<ZoneRow[]> {
  return db.selectFrom('dns_zones').selectAll().where('subscription_id', '=', subscriptionId).orderBy('zone').execute();
}

export function findZone(db: Db, subscriptionId: string, zone: string): Promise<ZoneRow | undefined> {
  return db.selectFrom('dns_zones').selectAll().where('subscription_id', '=', subscriptionId).where('zone', '=', zone).executeTakeFirst();
}

export async function insertZone(db: Db, row: NewRow<'dns_zones'>): Promise<void> {
  await db.insertInto('dns_zones').values(row).execute();
}

export async function deleteZone(db: Db, id: string): Promise<void> {
  await db.deleteFrom('dns_zones').where('id', '=', id).execute();
}
