// Delivery (issue 12): where each certificate is deployed, and what happened
// each time a version went there. A target belongs to the machine that runs
// it: this machine's certkeep (agent_id null; `host` names the machine, so that
// instances sharing one database run only their own machine's commands) or an
// agent (issue 13: its reload and hook are names the agent resolves). A
// deployment is one version at one target; the agent reports its own into the
// same table.
import { type Kysely, type Migration, sql } from 'kysely';
import { createTable, dialectKind, timestampType } from './dialect.ts';

// biome-ignore lint/suspicious/noExplicitAny: migrations work on any schema
type Db = Kysely<any>;

export const deliverySchema: Migration = {
  async up(db: Db) {
    const ts = timestampType(dialectKind(db));

    await createTable(db, 'deploy_targets')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('certificate_id', 'text', (c) =>
        c.notNull().references('certificates.id').onDelete('cascade'),
      )
      // null: certkeep deploys it on `host`; otherwise the agent that deploys it (issue 13).
      .addColumn('agent_id', 'text')
      .addColumn('host', 'text')
      .addColumn('directory', 'text', (c) => c.notNull())
      .addColumn('format', 'text', (c) => c.notNull()) // pem | combined | pfx
      .addColumn('owner', 'text') // USER[:GROUP]
      .addColumn('deploy_hook', 'text')
      .addColumn('reload', 'text')
      .addColumn('verify', 'text', (c) => c.notNull()) // JSON string[] of HOST:PORT
      .addColumn('verify_timeout_ms', 'integer', (c) => c.notNull())
      .addColumn('created_at', ts, (c) => c.notNull())
      .addColumn('updated_at', ts, (c) => c.notNull())
      // One deployment at a time per target, across processes (a fencing token, as orders have).
      .addColumn('lease_owner', 'text')
      .addColumn('lease_token', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('lease_until', ts)
      .execute();
    await db.schema
      .createIndex('deploy_targets_certificate_id_idx')
      .on('deploy_targets')
      .columns(['certificate_id'])
      .execute();
    // A directory on a machine holds one target: two would overwrite each other.
    await db.schema
      .createIndex('deploy_targets_local_directory_key')
      .on('deploy_targets')
      .columns(['host', 'directory'])
      .unique()
      .where(sql.ref('agent_id'), 'is', null)
      .execute();
    await db.schema
      .createIndex('deploy_targets_agent_directory_key')
      .on('deploy_targets')
      .columns(['agent_id', 'directory'])
      .unique()
      .execute();

    await createTable(db, 'deployments')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('target_id', 'text', (c) => c.notNull().references('deploy_targets.id').onDelete('cascade'))
      .addColumn('version_id', 'text', (c) =>
        c.notNull().references('certificate_versions.id').onDelete('cascade'),
      )
      .addColumn('status', 'text', (c) => c.notNull()) // pending | deployed | failed
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('stage', 'text') // where it failed: prepare | files | hook | reload | verify
      .addColumn('error', 'text') // the whole story in one line, the rollback's included
      .addColumn('rollback_error', 'text') // what went wrong while rolling back, when anything did
      .addColumn('verified_at', ts)
      .addColumn('started_at', ts, (c) => c.notNull())
      .addColumn('finished_at', ts)
      .addColumn('created_at', ts, (c) => c.notNull())
      .addUniqueConstraint('deployments_target_version_key', ['target_id', 'version_id'])
      .execute();
    await db.schema
      .createIndex('deployments_version_id_idx')
      .on('deployments')
      .columns(['version_id'])
      .execute();
  },
};
