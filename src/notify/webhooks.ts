// Webhooks: URLs a subscription registers to be told of its events as they
// happen. The secret that signs each POST (see signature.ts) is returned once,
// when the webhook is created, and kept encrypted; the dispatcher (dispatcher.ts)
// sends the deliveries.
import { randomBytes } from 'node:crypto';
import type { NotifyContext } from './context.ts';
import { isoTime } from '../time/iso.ts';
import { tenantLimitsOf } from '../outbound/tenant-limits.ts';
import { NotFoundError, UsageError } from '../errors.ts';
import { newId } from '../store/ids.ts';
import {
  countWebhooks,
  type DeliveryWithType,
  deleteWebhook as deleteRow,
  getWebhook,
  insertWebhook,
  listDeliveries as deliveryRows,
  listWebhooks as webhookRows,
  type WebhookRow,
} from '../store/repositories/webhooks.ts';
import { isEventType, type EventType } from '../store/repositories/events.ts';
import { EVENT_TYPES } from './events.ts';

export const MAX_URL_LENGTH = 2000;
export const MAX_WEBHOOKS = 20;

export interface WebhookSpec {
  url: string;
  /** Absent or empty: every event type. */
  eventTypes?: string[];
  /** Absent: 32 random bytes, base64url. */
  secret?: string;
}

export interface WebhookView {
  id: string;
  url: string;
  /** [] means every type. */
  eventTypes: string[];
  createdAt: string;
}

export interface DeliveryView {
  id: number;
  eventId: number;
  eventType: string;
  /** pending (waiting for its next attempt) | delivered | failed (gave up). */
  status: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  createdAt: string;
}

/** Binds a sealed secret to its webhook: copied onto another row it does not open. */
export const webhookSecretAad = (id: string) => `webhook:${id}:secret`;

export async function createWebhook(
  ctx: NotifyContext,
  subscriptionId: string,
  spec: WebhookSpec,
): Promise<WebhookView & { secret: string }> {
  const url = checkWebhookUrl(spec.url);
  await tenantLimitsOf(ctx)
    .outbound.check(new URL(url).hostname)
    .catch((error: Error) => {
      throw new UsageError(`url: ${error.message}`, 'url');
    });
  const eventTypes = checkEventTypes(spec.eventTypes ?? []);
  if ((await countWebhooks(ctx.store.db, subscriptionId)) >= MAX_WEBHOOKS) {
    throw new UsageError(`a subscription may have at most ${MAX_WEBHOOKS} webhooks; delete one first`);
  }
  const id = newId('whk');
  const secret = spec.secret ?? randomBytes(32).toString('base64url');
  const row: WebhookRow = {
    id,
    subscription_id: subscriptionId,
    url,
    secret_enc: ctx.store.secrets.encrypt(secret, webhookSecretAad(id)),
    event_types: eventTypes,
    created_at: ctx.clock.now(),
  };
  await insertWebhook(ctx.store.db, row);
  return { ...webhookView(row), secret };
}

export async function listWebhooks(ctx: NotifyContext, subscriptionId: string): Promise<WebhookView[]> {
  return (await webhookRows(ctx.store.db, subscriptionId)).map(webhookView);
}

/** Removes the webhook and its delivery log; deliveries not yet sent are dropped. */
export async function deleteWebhook(ctx: NotifyContext, subscriptionId: string, id: string): Promise<void> {
  if (!(await deleteRow(ctx.store.db, subscriptionId, id))) throw notFound(id);
}

/** The delivery log, newest first; page back with `before` set to the last id read. */
export async function listDeliveries(
  ctx: NotifyContext,
  subscriptionId: string,
  webhookId: string,
  options: { before?: number; limit?: number } = {},
): Promise<DeliveryView[]> {
  if (!(await getWebhook(ctx.store.db, subscriptionId, webhookId))) throw notFound(webhookId);
  const rows = await deliveryRows(
    ctx.store.db,
    webhookId,
    options.before ?? Number.MAX_SAFE_INTEGER,
    options.limit ?? 100,
  );
  return rows.map(deliveryView);
}

/** http or https, absolute, without credentials (the URL is stored and listed in clear); returns it normalized. */
export function checkWebhookUrl(text: string): string {
  if (text.length > MAX_URL_LENGTH) throw new UsageError(`url: at most ${MAX_URL_LENGTH} characters`, 'url');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(
      'url: not an absolute URL; give one such as https://hooks.example.com/certkeep',
      'url',
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`url: the scheme must be http or https, not ${url.protocol.slice(0, -1)}`, 'url');
  }
  if (url.username || url.password) {
    throw new UsageError(
      'url: must not contain a user name or password, since URLs are stored and listed in clear; ' +
        'authenticate requests by their x-certkeep-signature header instead',
      'url',
    );
  }
  return url.href;
}

function checkEventTypes(types: string[]): EventType[] {
  const unknown = types.filter((type) => !isEventType(type));
  if (unknown.length > 0) {
    throw new UsageError(
      `eventTypes: ${unknown.map((t) => `"${t}"`).join(', ')} ${unknown.length === 1 ? 'is not an event type' : 'are not event types'}; ` +
        `use ${EVENT_TYPES.join(', ')}, or leave eventTypes out for all`,
      'eventTypes',
    );
  }
  return [...new Set(types.filter(isEventType))];
}

function webhookView(row: WebhookRow): WebhookView {
  return {
    id: row.id,
    url: row.url,
    eventTypes: row.event_types,
    createdAt: isoTime(row.created_at),
  };
}

function deliveryView(row: DeliveryWithType): DeliveryView {
  return {
    id: row.id,
    eventId: row.event_id,
    eventType: row.event_type,
    status: row.status,
    attempts: row.attempts,
    lastStatusCode: row.last_status_code,
    lastError: row.last_error,
    nextAttemptAt: row.next_attempt_at === null ? null : isoTime(row.next_attempt_at),
    deliveredAt: row.delivered_at === null ? null : isoTime(row.delivered_at),
    createdAt: isoTime(row.created_at),
  };
}

function notFound(id: string): NotFoundError {
  return new NotFoundError(`no webhook ${id} in this subscription`);
}
