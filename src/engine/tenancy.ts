// Tenants (subscriptions) and their API keys. A key is `ck_<prefix>.<secret>`:
// the prefix finds the row, the store keeps only the SHA-256 of the whole key,
// and the comparison takes the same time whatever matches.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { base32 } from '../base32.ts';
import { NotFoundError, UsageError } from '../errors.ts';
import { newId } from '../store/ids.ts';
import {
  activeKeysByPrefix,
  getApiKey,
  insertApiKey,
  listApiKeys,
  revocationMark,
  revokeApiKey as markRevoked,
} from '../store/repositories/api-keys.ts';
import { getSubscription, insertSubscription, listSubscriptions as allSubscriptions } from '../store/repositories/subscriptions.ts';
import { isoTime } from '../time/iso.ts';
import { isScope, type KeyCaller, type Scope, scopesUpTo } from './callers.ts';
import type { EngineContext } from './context.ts';
import { verifiedKeys } from './verified-keys.ts';

export interface IssuedKey {
  id: string;
  subscriptionId: string;
  /** Shown once; only its hash is stored. */
  apiKey: string;
  scopes: Scope[];
  label: string;
}

const KEY_PATTERN = /^(ck_[a-z2-7]{12})\.([A-Za-z0-9_-]{43})$/;

export async function createSubscription(ctx: EngineContext, name: string): Promise<{ id: string; name: string; key: IssuedKey }> {
  const trimmed = name.trim();
  if (!/^[\p{L}\p{N}][\p{L}\p{N} ._@-]{0,99}$/u.test(trimmed)) {
    throw new UsageError(`subscription name "${name}": use 1-100 letters, digits, spaces, dots, dashes, @ or underscores`, 'name');
  }
  const id = newId('sub');
  await ctx.store.db.transaction().execute((trx) => insertSubscription(trx, { id, name: trimmed, created_at: ctx.clock.now() }));
  // The subscription's first key is its owner's: it may also manage zones, webhooks, keys and users.
  return { id, name: trimmed, key: await createApiKey(ctx, id, 'admin', 'created with the subscription') };
}

export async function listSubscriptions(ctx: EngineContext): Promise<{ id: string; name: string; createdAt: string; activeKeys: number }[]> {
  const subscriptions = await allSubscriptions(ctx.store.db);
  return Promise.all(
    subscriptions.map(async (s) => ({
      id: s.id,
      name: s.name,
      createdAt: new Date(s.created_at).toISOString(),
      activeKeys: (await listApiKeys(ctx.store.db, s.id)).filter((k) => k.revoked_at === null).length,
    })),
  );
}

/** A `write` key may also read; an `admin` key may also manage zones, webhooks, notifications, keys and users. */
export async function createApiKey(ctx: EngineContext, subscriptionId: string, scope: string = 'write', label = ''): Promise<IssuedKey> {
  if (!isScope(scope)) throw new UsageError(`scope: "${scope}" is not a scope; use read, write or admin`, 'scope');
  if (label.length > 100) throw new UsageError('label: at most 100 characters', 'label');
  if (!(await getSubscription(ctx.store.db, subscriptionId))) {
    throw new NotFoundError(`no subscription ${subscriptionId}; see certkeep admin subscription list`);
  }
  const prefix = `ck_${base32(randomBytes(8)).slice(0, 12)}`;
  const apiKey = `${prefix}.${randomBytes(32).toString('base64url')}`;
  const scopes = scopesUpTo(scope);
  const id = newId('key');
  await insertApiKey(ctx.store.db, {
    id,
    subscription_id: subscriptionId,
    prefix,
    secret_hash: sha256Hex(apiKey),
    scopes,
    created_at: ctx.clock.now(),
    revoked_at: null,
    label: label.trim(),
  });
  return { id, subscriptionId, apiKey, scopes, label: label.trim() };
}

export interface ApiKeyView {
  id: string;
  /** The public part of the key, enough to recognise it; the secret is never shown again. */
  prefix: string;
  scopes: Scope[];
  label: string;
  createdAt: string;
  revokedAt: string | null;
}

/** A subscription's API keys, oldest first, without their secrets. */
export async function listSubscriptionKeys(ctx: EngineContext, subscriptionId: string): Promise<ApiKeyView[]> {
  return (await listApiKeys(ctx.store.db, subscriptionId)).map((row) => ({
    id: row.id,
    prefix: row.prefix,
    scopes: row.scopes,
    label: row.label,
    createdAt: isoTime(row.created_at),
    revokedAt: row.revoked_at === null ? null : isoTime(row.revoked_at),
  }));
}

/** Revokes a key at once; with `subscriptionId`, only one of that subscription's (another's is reported as missing). */
export async function revokeApiKey(ctx: EngineContext, keyId: string, subscriptionId?: string): Promise<void> {
  const key = await getApiKey(ctx.store.db, keyId);
  if (!key || (subscriptionId !== undefined && key.subscription_id !== subscriptionId)) throw new NotFoundError(`no API key ${keyId}`);
  if (key.revoked_at === null) await markRevoked(ctx.store.db, keyId, ctx.clock.now());
  verifiedKeys(ctx.store).forget(keyId);
}

/**
 * The caller a presented key belongs to, or undefined for a malformed, unknown
 * or revoked key. Keys verified in the last seconds come from verified-keys.ts.
 */
export async function authenticateApiKey(ctx: EngineContext, presented: string): Promise<KeyCaller | undefined> {
  const match = KEY_PATTERN.exec(presented);
  if (!match) return undefined;
  const hash = sha256Hex(presented);
  const verified = verifiedKeys(ctx.store);
  const now = ctx.clock.now();
  const refreshing = verified.refresh(now, () => revocationMark(ctx.store.db));
  if (refreshing) await refreshing;
  const known = verified.get(hash, now);
  if (known) return known;
  const generation = verified.generation;
  const presentedHash = Buffer.from(hash, 'hex');
  for (const row of await activeKeysByPrefix(ctx.store.db, match[1])) {
    if (timingSafeEqual(presentedHash, Buffer.from(row.secret_hash, 'hex'))) {
      // Shared by every request the entry serves: frozen so that none can change it for the others.
      const caller = Object.freeze({ subscriptionId: row.subscription_id, keyId: row.id, keyPrefix: row.prefix, scopes: Object.freeze(row.scopes) as Scope[] });
      verified.set(hash, caller, now, generation);
      return caller;
    }
  }
  return undefined;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
