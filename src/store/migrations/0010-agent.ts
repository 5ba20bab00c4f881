// The host agent (issue 13): an agent is a credential of its own kind, held by
// one web server, that reads only the certificates assigned to it. Its targets
// are deploy_targets rows with agent_id set (migration 0008); what it
// reports goes into deployments. `changed_at` moves whenever the agent's
// targets or token change, which is how every server instance's stream learns
// of it with one shared look (engine/agent-feed.ts).
import type { Kysely, Migration } from 'kysely';
import { createTable, dialectKind, timestampType } from './dialect.ts';

// biome-ignore lint/suspicious/noExplicitAny: migrations work on any schema
type Db = Kysely<any>;

export const agentSchema: Migration = {
  async up(db: Db) {
    const ts = timestampType(dialectKind(db));
    await createTable(db, 'agents')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('subscription_id', 'text', (c) => c.notNull().references('subscriptions.id').onDelete('cascade'))
      .addColumn('host', 'text', (c) => c.notNull())
      .addColumn('token_prefix', 'text', (c) => c.notNull())
      .addColumn('token_hash', 'text', (c) => c.notNull()) // hex sha-256 of the whole token
      .addColumn('created_at', ts, (c) => c.notNull())
      .addColumn('rotated_at', ts)
      .addColumn('last_seen_at', ts)
      .addColumn('changed_at', ts, (c) => c.notNull())
      // Kept, without a token, once removed: its streams on every instance learn of it through changed_at.
      .addColumn('removed_at', ts)
      .execute();
    await db.schema.createIndex('agents_token_prefix_idx').on('agents').columns(['token_prefix']).execute();
    await db.schema.createIndex('agents_subscription_id_idx').on('agents').columns(['subscription_id']).execute();
    await db.schema.createIndex('agents_changed_at_idx').on('agents').columns(['changed_at']).execute();
    await db.schema.createIndex('deploy_targets_agent_id_idx').on('deploy_targets').columns(['agent_id']).execute();
    // The overdue look reads versions stored and targets made in a window of time (deploy-targets.ts, overdueTargets).
    await db.schema.createIndex('certificate_versions_created_at_idx').on('certificate_versions').columns(['created_at']).execute();
    await db.schema.createIndex('deploy_targets_created_at_idx').on('deploy_targets').columns(['created_at']).execute();
    // The version for which deployment.overdue was raised at this target, so that it is raised once.
    await db.schema.alterTable('deploy_targets').addColumn('overdue_version_id', 'text').execute();
  },
};
