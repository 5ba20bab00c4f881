// Schema migrations, kept in code (not read from disk) so they ship inside the
// package and run the same on SQLite and PostgreSQL. Kysely's Migrator records
// applied names in `kysely_migration` and holds a lock while it runs (an
// advisory lock on PostgreSQL; on SQLite the migration runs in one
// BEGIN IMMEDIATE transaction), so instances starting together migrate once.
// Add a migration by appending an entry; never edit or rename a shipped one.
import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';
import { StoreError } from '../errors.ts';
import { initialSchema } from './0001-initial.ts';
import { serverSchema } from './0002-server.ts';
import { renewalSchema } from './0003-renewal.ts';
import { challengesSchema } from './0004-challenges.ts';
import { portalSchema } from './0005-portal.ts';
import { openOrderSchema } from './0006-open-order.ts';
import { compatIdsSchema } from './0007-compat-ids.ts';
import { deliverySchema } from './0008-delivery.ts';
import { scaleSchema } from './0009-scale.ts';
import { agentSchema } from './0010-agent.ts';
import { watchSchema } from './0011-watch.ts';

const migrations: Record<string, Migration> = {
  '0001_initial': initialSchema,
  '0002_server': serverSchema,
  '0003_renewal': renewalSchema,
  '0004_challenges': challengesSchema,
  '0005_portal': portalSchema,
  '0006_open_order': openOrderSchema,
  '0007_compat_ids': compatIdsSchema,
  '0008_delivery': deliverySchema,
  '0009_scale': scaleSchema,
  '0010_agent': agentSchema,
  '0011_watch': watchSchema,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

// biome-ignore lint/suspicious/noExplicitAny: the migrator works on any schema
function migrator(db: Kysely<any>): Migrator {
  return new Migrator({ db, provider });
}

/** Applies every pending migration; throws naming the migration that failed. */
// biome-ignore lint/suspicious/noExplicitAny: the migrator works on any schema
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const { error, results = [] } = await migrator(db).migrateToLatest();
  if (error) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName;
    const reason = error instanceof Error ? error.message : String(error);
    throw new StoreError(`database migration ${failed ?? '(setup)'} failed: ${reason}`, { cause: error });
  }
  return results.map((r) => r.migrationName);
}

/** Applies the migrations up to `name` and no later one: the schema an older certkeep left (where tests of a later migration start). */
// biome-ignore lint/suspicious/noExplicitAny: the migrator works on any schema
export async function migrateTo(db: Kysely<any>, name: string): Promise<void> {
  const { error } = await migrator(db).migrateTo(name);
  if (error) throw new StoreError(`database migration up to ${name} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}

/** Whether the schema is up to date, and which migrations are still to apply (for /readyz). */
// biome-ignore lint/suspicious/noExplicitAny: the migrator works on any schema
export async function migrationStatus(db: Kysely<any>): Promise<{ current: boolean; pending: string[] }> {
  const known = await migrator(db).getMigrations();
  const pending = known.filter((m) => m.executedAt === undefined).map((m) => m.name);
  return { current: pending.length === 0, pending };
}
