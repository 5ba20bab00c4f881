// Host agents as credentials: an agent is enrolled for one subscription and
// one host, holds a token shown once (only its SHA-256 is stored), and reads
// only the certificates assigned to it (agent-targets.ts). Rotating replaces
// the token at once; removing the agent removes its targets and its token.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { base32 } from '../base32.ts';
import { NotFoundError, UsageError } from '../errors.ts';
import { newId } from '../store/ids.ts';
import {
  type AgentRow,
  agentsByPrefix,
  deleteAgent,
  getAgent,
  insertAgent,
  listAgents,
  markAgentSeen,
  replaceAgentToken,
} from '../store/repositories/agents.ts';
import { getSubscription } from '../store/repositories/subscriptions.ts';
import { isoTime } from '../time/iso.ts';
import { type AgentTargetView, listAgentTargets } from './agent-targets.ts';
import type { EngineContext } from './context.ts';

/** Who calls with an agent's token: the agent, of one subscription, on one host. */
export interface AgentCaller {
  agentId: string;
  subscriptionId: string;
  host: string;
}

export interface EnrolledAgent {
  id: string;
  subscriptionId: string;
  host: string;
  /** Shown once; only its hash is stored. */
  token: string;
}

export interface AgentView {
  id: string;
  subscriptionId: string;
  host: string;
  createdAt: string;
  rotatedAt: string | null;
  /** When the agent last called the server; null before its first call. */
  lastSeenAt: string | null;
  /** What it serves: its targets, each with where its deployment stands. */
  targets: AgentTargetView[];
}

const TOKEN_PATTERN = /^(cka_[a-z2-7]{12})\.([A-Za-z0-9_-]{43})$/;
const HOST_PATTERN = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;
/** lastSeenAt is written at most this often per agent. */
const SEEN_EVERY_MS = 10_000;

/**
 * Agents following a stream in this process, by store: they make no requests
 * while nothing changes, so they count as seen now, and their last moment is
 * written when the stream ends — no write per connected agent meanwhile.
 */
const following = new WeakMap<object, Map<string, number>>();

/** Counts the agent as connected until the returned function is called. */
export function agentFollowing(ctx: EngineContext, agentId: string): () => Promise<void> {
  const open = following.get(ctx.store) ?? new Map<string, number>();
  following.set(ctx.store, open);
  open.set(agentId, (open.get(agentId) ?? 0) + 1);
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    const left = (open.get(agentId) ?? 1) - 1;
    if (left > 0) open.set(agentId, left);
    else open.delete(agentId);
    await markAgentSeen(ctx.store.db, agentId, ctx.clock.now()).catch(() => {});
  };
}

export async function createAgent(ctx: EngineContext, subscriptionId: string, host: string): Promise<EnrolledAgent> {
  const name = host.trim();
  if (!HOST_PATTERN.test(name)) {
    throw new UsageError(`host: "${host}" must be the host's name (letters, digits, dots and dashes), e.g. web1.example.com`, 'host');
  }
  if (!(await getSubscription(ctx.store.db, subscriptionId))) {
    throw new NotFoundError(`subscription: no subscription ${subscriptionId}; see certkeep admin subscription list`, { field: 'subscription' });
  }
  const id = newId('agt');
  const token = newToken();
  const now = ctx.clock.now();
  await insertAgent(ctx.store.db, {
    id,
    subscription_id: subscriptionId,
    host: name,
    token_prefix: token.prefix,
    token_hash: token.hash,
    created_at: now,
    rotated_at: null,
    last_seen_at: null,
    changed_at: now,
    removed_at: null,
  });
  return { id, subscriptionId, host: name, token: token.text };
}

/** The subscription's agents (every agent when undefined: the operator's command line), with what each serves. */
export async function listAgentViews(ctx: EngineContext, subscriptionId?: string): Promise<AgentView[]> {
  const agents = await listAgents(ctx.store.db, subscriptionId);
  return Promise.all(agents.map(async (agent) => agentView(ctx, agent, await listAgentTargets(ctx, agent))));
}

export async function findAgentView(ctx: EngineContext, agentId: string, subscriptionId?: string): Promise<AgentView> {
  const agent = await mustFindAgent(ctx, agentId, subscriptionId);
  return agentView(ctx, agent, await listAgentTargets(ctx, agent));
}

/** Removes the agent: its token is refused at once, its targets go; the files on its host stay. */
export async function removeAgent(ctx: EngineContext, agentId: string, subscriptionId?: string): Promise<void> {
  await mustFindAgent(ctx, agentId, subscriptionId);
  await deleteAgent(ctx.store.db, agentId, ctx.clock.now());
  ctx.notifyChange();
}

/** A new token for the agent, shown once; the old one is refused at once. */
export async function rotateAgentToken(ctx: EngineContext, agentId: string, subscriptionId?: string): Promise<EnrolledAgent> {
  const agent = await mustFindAgent(ctx, agentId, subscriptionId);
  const token = newToken();
  await replaceAgentToken(ctx.store.db, agent.id, { prefix: token.prefix, hash: token.hash }, ctx.clock.now());
  ctx.notifyChange();
  return { id: agent.id, subscriptionId: agent.subscription_id, host: agent.host, token: token.text };
}

/** The agent a presented token belongs to, or undefined for a malformed, unknown, rotated or removed one. */
export async function authenticateAgent(ctx: EngineContext, presented: string): Promise<AgentCaller | undefined> {
  const match = TOKEN_PATTERN.exec(presented);
  if (!match) return undefined;
  const hash = Buffer.from(sha256Hex(presented), 'hex');
  for (const agent of await agentsByPrefix(ctx.store.db, match[1])) {
    if (!timingSafeEqual(hash, Buffer.from(agent.token_hash, 'hex'))) continue;
    const now = ctx.clock.now();
    if (agent.last_seen_at === null || now - agent.last_seen_at >= SEEN_EVERY_MS) await markAgentSeen(ctx.store.db, agent.id, now);
    return Object.freeze({ agentId: agent.id, subscriptionId: agent.subscription_id, host: agent.host });
  }
  return undefined;
}

/** Another subscription's agent is reported exactly like a missing one. */
export async function mustFindAgent(ctx: EngineContext, agentId: string, subscriptionId?: string): Promise<AgentRow> {
  const agent = await getAgent(ctx.store.db, agentId);
  if (!agent || (subscriptionId !== undefined && agent.subscription_id !== subscriptionId)) {
    throw new NotFoundError(`agent: no agent ${agentId}${subscriptionId === undefined ? '; see certkeep admin agent list' : ' in this subscription'}`, { field: 'agent' });
  }
  return agent;
}

function agentView(ctx: EngineContext, agent: AgentRow, targets: AgentTargetView[]): AgentView {
  const seen = following.get(ctx.store)?.has(agent.id) ? ctx.clock.now() : agent.last_seen_at;
  return {
    id: agent.id,
    subscriptionId: agent.subscription_id,
    host: agent.host,
    createdAt: isoTime(agent.created_at),
    rotatedAt: agent.rotated_at === null ? null : isoTime(agent.rotated_at),
    lastSeenAt: seen === null ? null : isoTime(seen),
    targets,
  };
}

function newToken(): { prefix: string; hash: string; text: string } {
  const prefix = `cka_${base32(randomBytes(8)).slice(0, 12)}`;
  const text = `${prefix}.${randomBytes(32).toString('base64url')}`;
  return { prefix, hash: sha256Hex(text), text };
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
