import type { SecretBox } from '../secret-box.ts';
import { type Decoded, decodeJson, encodeJson } from './codec.ts';
import type { Db, NewRow, Row } from './db.ts';

/** A managed zone with its nameservers decoded; its settings stay sealed (config_enc). */
export type ZoneRow = Decoded<Row<'dns_zones'>, { nameservers: string[] }>;

const JSON_COLUMNS = ['nameservers'];

/** Binds a zone's sealed settings to the zone: copied onto another row they do not open. */
const settingsAad = (id: string) => `dns_zone:${id}:config`;

/** A zone's provider settings, sealed for its config_enc column. */
export function sealZoneSettings(secrets: SecretBox, id: string, settings: Record<string, string>): string {
  return secrets.encrypt(JSON.stringify(settings), settingsAad(id));
}

/** The provider settings sealed in a zone's config_enc. */
export function openZoneSettings(secrets: SecretBox, zone: Pick<ZoneRow, 'id' | 'config_enc'>): Record<string, string> {
  return JSON.parse(secrets.decryptString(zone.config_enc, settingsAad(zone.id)));
}

function decoded(row: Row<'dns_zones'>): ZoneRow {
  return decodeJson<ZoneRow>(row, JSON_COLUMNS);
}

export async function listZones(db: Db, subscriptionId: string): Promise<ZoneRow[]> {
  return (await db.selectFrom('dns_zones').selectAll().where('subscription_id', '=', subscriptionId).orderBy('zone').execute()).map(decoded);
}

export async function findZone(db: Db, subscriptionId: string, zone: string): Promise<ZoneRow | undefined> {
  const row = await db.selectFrom('dns_zones').selectAll().where('subscription_id', '=', subscriptionId).where('zone', '=', zone).executeTakeFirst();
  return row && decoded(row);
}

export async function insertZone(db: Db, zone: ZoneRow): Promise<void> {
  await db.insertInto('dns_zones').values(encodeJson<NewRow<'dns_zones'>>(zone, JSON_COLUMNS)).execute();
}

export async function deleteZone(db: Db, id: string): Promise<void> {
  await db.deleteFrom('dns_zones').where('id', '=', id).execute();
}
