// Refuses to start with a master key other than the one the database's secrets
// were written with. The first store to open a database seals a known value
// under its key; every later open must be able to open it. Without this, a
// second instance sharing a PostgreSQL database but not the key file would
// create its own key and fail later, deep inside an issuance, on the first
// secret it reads, or write secrets nobody else can read.
import type { Kysely } from 'kysely';
import { StoreError } from './errors.ts';
import type { Database } from './schema.ts';
import type { SecretBox } from './secret-box.ts';

type MetaTable = {
  certkeep_meta: { key: string; value: string };
};

const CHECK_KEY = 'master_key_check';
const CHECK_PLAINTEXT = 'certkeep master key check';

export async function verifyMasterKey(
  database: Kysely<Database>,
  secrets: SecretBox,
  keySource: string,
): Promise<void> {
  const db = database.withTables<MetaTable>();
  const proposed = secrets.encrypt(CHECK_PLAINTEXT, `certkeep_meta:${CHECK_KEY}`);
  // Two instances opening a new database at once: the first insert wins, both check against it.
  await db
    .insertInto('certkeep_meta')
    .values({ key: CHECK_KEY, value: proposed })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  const row = await db
    .selectFrom('certkeep_meta')
    .select('value')
    .where('key', '=', CHECK_KEY)
    .executeTakeFirstOrThrow();
  let opened: string | undefined;
  try {
    opened = secrets.decryptString(row.value, `certkeep_meta:${CHECK_KEY}`);
  } catch {
    opened = undefined;
  }
  if (opened !== CHECK_PLAINTEXT) {
    throw new StoreError(
      `the master key from ${keySource} is not the one this database's secrets were written with; ` +
        'use the original key (copy master.key from the first instance, or set CERTKEEP_MASTER_KEY to it)',
    );
  }
}
