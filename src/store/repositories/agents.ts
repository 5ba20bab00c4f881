// Host agents: their token hashes, when they were last seen, and when their
// targets or token last changed (what their streams are told of).
import type { Db, NewRow, Row } from './db.ts';

export type AgentRow = Row<'agents'>;

export async function insertAgent(db: Db, agent: NewRow<'agents'>): Promise<void> {
  await db.insertInto('agents').values(agent).execute();
}

export async function getAgent(db: Db, id: string): Promise<AgentRow | undefined> {
  return db.selectFrom('agents').selectAll().where('id', '=', id).where('removed_at', 'is', null).executeTakeFirst();
}

export async function agentsByPrefix(db: Db, prefix: string): Promise<AgentRow[]> {
  return db
    .selectFrom('agents')
    .selectAll()
    .where('token_prefix', '=', prefix)
    .where('removed_at', 'is', null)
    .execute();
}

/** The subscription's agents (every agent when undefined), by host then id. */
export async function listAgents(db: Db, subscriptionId?: string): Promise<AgentRow[]> {
  let query = db.selectFrom('agents').selectAll().where('removed_at', 'is', null).orderBy('host').orderBy('id');
  if (subscriptionId !== undefined) query = query.where('subscription_id', '=', subscriptionId);
  return query.execute();
}

/** Removes the agent's targets (their deployments go with them) and its token; the files on its host stay. */
export async function deleteAgent(db: Db, id: string, now: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('deploy_targets').where('agent_id', '=', id).execute();
    await trx
      .updateTable('agents')
      .set({ token_prefix: 'removed', token_hash: '', removed_at: now, changed_at: now })
      .where('id', '=', id)
      .execute();
  });
}

export async function replaceAgentToken(
  db: Db,
  id: string,
  token: { prefix: string; hash: string },
  now: number,
): Promise<void> {
  await db
    .updateTable('agents')
    .set({ token_prefix: token.prefix, token_hash: token.hash, rotated_at: now, changed_at: now })
    .where('id', '=', id)
    .execute();
}

/** Marks the agent's targets as changed, so that its streams (on every instance) tell it. */
export async function markAgentChanged(db: Db, id: string, now: number): Promise<void> {
  await db.updateTable('agents').set({ changed_at: now }).where('id', '=', id).execute();
}

export async function markAgentSeen(db: Db, id: string, now: number): Promise<void> {
  await db.updateTable('agents').set({ last_seen_at: now }).where('id', '=', id).execute();
}

/** Agents whose targets or token changed at or after `since`. */
export async function agentsChangedSince(
  db: Db,
  since: number,
  limit: number,
): Promise<Pick<AgentRow, 'id' | 'subscription_id' | 'changed_at'>[]> {
  return db
    .selectFrom('agents')
    .select(['id', 'subscription_id', 'changed_at'])
    .where('changed_at', '>=', since)
    .orderBy('changed_at')
    .limit(limit)
    .execute();
}
