// Sends webhooks. Each tick does two things, both safe to run on several
// instances at once:
//
// 1. Fan-out: turns new events into webhook_deliveries rows, one per matching
//    webhook. What a webhook has had is read from its own rows: the event of
//    its newest delivery row is its high-water mark, and only events after it
//    (and created after the webhook itself) are added. The mark lives in the
//    database, so a restart resumes where the last instance stopped, and an
//    instance holds the webhook's row lock while adding (lockWebhook), so two
//    instances never add the same event twice. Only events at least
//    `settleMs` old are fanned out: on PostgreSQL an event's id is taken when it
//    is inserted, not when its transaction commits, so a younger id can become
//    visible first, and the wait lets the older one commit before the mark
//    passes it. (SQLite has one writer: ids become visible in order.) After
//    its first tick an instance looks only at the webhooks of subscriptions
//    with new events (and those it has not caught up yet), so a tick's cost
//    follows what happened, not how many webhooks there are.
//
// 2. Delivery: POSTs the pending rows whose time has come. A row is leased with
//    a conditional UPDATE (claimDelivery) before it is sent, so no two
//    instances send it at once; the result is written only under that same
//    lease. A 2xx answer delivers it; anything else is retried with exponential
//    backoff and jitter, and after `maxAttempts` the row is marked failed.
import { type Agent, request } from 'undici';
import type { Clock } from '../time/clock.ts';
import type { NotifyContext } from './context.ts';
import { type TenantLimits, tenantLimitsOf } from '../outbound/tenant-limits.ts';
import { Ticker } from '../time/ticker.ts';
import { guardedAgent } from '../outbound/connector.ts';
import {
  type EventWithName,
  eventIdsForWebhook,
  getEventWithName,
  newestEventIdAtOrBefore,
  subscriptionsWithEvents,
} from '../store/repositories/events.ts';
import {
  claimDelivery,
  type DeliveryPatch,
  type DeliveryRow,
  dueDeliveryIds,
  finishAttempt,
  getDelivery,
  getWebhookById,
  insertDeliveries,
  lastDeliveredEventId,
  listAllWebhooks,
  listWebhooks,
  lockWebhook,
  type WebhookRow,
} from '../store/repositories/webhooks.ts';
import { eventView } from './events.ts';
import { SIGNATURE_HEADER, signatureHeader } from './signature.ts';
import { webhookSecretAad } from './webhooks.ts';

export interface DispatcherOptions {
  /** Time between ticks when started (default 5 s). */
  intervalMs?: number;
  /** Per request, connecting to the last byte of the answer (default 10 s). */
  timeoutMs?: number;
  /** Attempts before a delivery is marked failed (default 12: about 1.7 to 3.4 hours of retrying). */
  maxAttempts?: number;
  /** The wait after the first failed attempt; it doubles after each further one (default 10 s)… */
  baseDelayMs?: number;
  /** …up to this (default 1 h). The actual wait is a random point between half of it and all of it. */
  maxDelayMs?: number;
  /** How old an event must be before it is fanned out (default 5 s; see the file's comment). */
  settleMs?: number;
  /** Deliveries sent at once per tick (default 20). */
  concurrency?: number;
  /** Default: the context's clock. */
  clock?: Clock;
  /** Store failures and bugs; failed POSTs are not errors, they are in the delivery log. Default: stderr. */
  onError?: (error: unknown) => void;
}

const EVENTS_PER_FAN_OUT = 500;
const BATCHES_PER_TICK = 10;
const ERROR_TEXT_LIMIT = 300;

interface Outcome {
  delivered: boolean;
  statusCode: number | null;
  error: string | null;
}

export class WebhookDispatcher {
  readonly #ctx: NotifyContext;
  readonly #clock: Clock;
  readonly #options: Required<Omit<DispatcherOptions, 'clock'>>;
  readonly #agent: Agent;
  readonly #limits: TenantLimits;
  /**
   * Every webhook has had the events it takes up to this id (undefined before
   * the first tick), except those in #behind, each with the id it got to
   * (undefined: not known here; its newest delivery row says).
   */
  #scanned: number | undefined;
  readonly #behind = new Map<string, number | undefined>();
  readonly #ticker: Ticker<void>;
  #stopped: Promise<void> | undefined;

  constructor(ctx: NotifyContext, options: DispatcherOptions = {}) {
    this.#ctx = ctx;
    this.#clock = options.clock ?? ctx.clock;
    this.#options = {
      intervalMs: options.intervalMs ?? 5_000,
      timeoutMs: options.timeoutMs ?? 10_000,
      maxAttempts: options.maxAttempts ?? 12,
      baseDelayMs: options.baseDelayMs ?? 10_000,
      maxDelayMs: options.maxDelayMs ?? 3_600_000,
      settleMs: options.settleMs ?? 5_000,
      concurrency: options.concurrency ?? 20,
      onError:
        options.onError ??
        ((error) => console.error(`certkeep webhooks: ${(error as Error)?.message ?? error}`)),
    };
    // Webhook URLs are the tenants': connections go only where the server's limits allow (outbound/tenant-limits.ts).
    this.#limits = tenantLimitsOf(ctx);
    this.#agent = guardedAgent(this.#limits.outbound, { connectTimeoutMs: this.#options.timeoutMs });
    this.#ticker = new Ticker(() => this.#tick(), { clock: this.#clock, intervalMs: this.#options.intervalMs, onError: this.#options.onError });
  }

  /** Ticks every intervalMs (on the clock) until stop(). */
  start(): void {
    this.#ticker.start();
  }

  /** Waits for the tick in progress (its requests end within timeoutMs) and closes the connections; final. */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      await this.#ticker.stop();
      await this.#agent.close();
    })();
    return this.#stopped;
  }

  /** One fan-out and one round of deliveries; ticks never overlap (a second call waits for the first). */
  tick(): Promise<void> {
    return this.#ticker.tick();
  }

  async #tick(): Promise<void> {
    await this.#fanOutAll();
    await this.#deliverDue();
  }

  /**
   * Fans out the events that have settled since the last tick. The first tick
   * looks at every webhook (from its mark in the database); after that, only
   * the webhooks of subscriptions with new events, and those still behind.
   */
  async #fanOutAll(): Promise<void> {
    const { db } = this.#ctx.store;
    const previous = this.#scanned;
    const upTo = await newestEventIdAtOrBefore(db, this.#clock.now() - this.#options.settleMs, previous ?? 0);
    if (previous !== undefined && upTo === previous && this.#behind.size === 0) return;
    const webhooks = previous === undefined ? await listAllWebhooks(db) : await this.#touched(previous, upTo);
    for (const webhook of webhooks) {
      const known = previous === undefined ? undefined : this.#behind.has(webhook.id) ? this.#behind.get(webhook.id) : previous;
      const reached = await this.#fanOut(webhook, known, upTo).catch((error) => {
        this.#options.onError(error);
        return known;
      });
      if (reached === 'gone' || (reached !== undefined && reached >= upTo)) this.#behind.delete(webhook.id);
      else this.#behind.set(webhook.id, reached);
    }
    for (const id of this.#behind.keys()) if (!webhooks.some((w) => w.id === id)) this.#behind.delete(id); // deleted meanwhile
    this.#scanned = upTo;
  }

  /** The webhooks of the subscriptions with events in (after, upTo], and those still behind. */
  async #touched(after: number, upTo: number): Promise<WebhookRow[]> {
    const { db } = this.#ctx.store;
    const subscriptions = upTo > after ? await subscriptionsWithEvents(db, after, upTo) : [];
    const webhooks = new Map<string, WebhookRow>();
    for (const subscriptionId of subscriptions) for (const webhook of await listWebhooks(db, subscriptionId)) webhooks.set(webhook.id, webhook);
    for (const id of this.#behind.keys()) {
      const webhook = webhooks.has(id) ? undefined : await getWebhookById(db, id);
      if (webhook) webhooks.set(id, webhook);
    }
    return [...webhooks.values()];
  }

  /**
   * Adds the webhook's deliveries for events in (known, upTo]; `known`
   * undefined: from its newest delivery row. Returns the event id it got to,
   * or 'gone' when the webhook was deleted meanwhile.
   */
  async #fanOut(webhook: WebhookRow, known: number | undefined, upTo: number): Promise<number | 'gone'> {
    const { db } = this.#ctx.store;
    if (known !== undefined) {
      if (known >= upTo) return known;
      // Most new events are another subscription's or another type: find that out without a write lock.
      if ((await eventIdsForWebhook(db, eventFilter(webhook, known, upTo, 1))).length === 0) return upTo;
    }
    const examined = await db.transaction().execute(async (trx) => {
      if (!(await lockWebhook(trx, webhook.id))) return 'gone' as const;
      const after = Math.max(known ?? 0, await lastDeliveredEventId(trx, webhook.id));
      if (after >= upTo) return after;
      const ids = await eventIdsForWebhook(trx, eventFilter(webhook, after, upTo, EVENTS_PER_FAN_OUT));
      const now = this.#clock.now();
      await insertDeliveries(
        trx,
        ids.map((eventId) => ({
          webhook_id: webhook.id,
          event_id: eventId,
          status: 'pending',
          attempts: 0,
          next_attempt_at: now,
          last_status_code: null,
          last_error: null,
          lease_until: null,
          created_at: now,
          delivered_at: null,
        })),
      );
      return ids.length === EVENTS_PER_FAN_OUT ? ids[ids.length - 1] : upTo;
    });
    return examined;
  }

  /** Batches of `concurrency` requests; a backlog (after an outage) is worked through a few batches per tick. */
  async #deliverDue(): Promise<void> {
    for (let batch = 0; batch < BATCHES_PER_TICK; batch++) {
      const now = this.#clock.now();
      const ids = await dueDeliveryIds(this.#ctx.store.db, now, this.#options.concurrency);
      await Promise.all(ids.map((id) => this.#attempt(id, now).catch(this.#options.onError)));
      if (ids.length < this.#options.concurrency) return;
    }
  }

  async #attempt(id: number, now: number): Promise<void> {
    const { db } = this.#ctx.store;
    // The lease outlasts the request's timeout, so it cannot expire while the request runs.
    const leaseUntil = now + 2 * this.#options.timeoutMs + 30_000;
    if (!(await claimDelivery(db, id, now, leaseUntil))) return; // another instance has it
    const delivery = await getDelivery(db, id);
    const webhook = delivery && (await getWebhookById(db, delivery.webhook_id));
    const event = delivery && (await getEventWithName(db, delivery.event_id));
    if (!delivery || !webhook || !event) return; // deleted meanwhile
    const outcome = await this.#post(webhook, delivery, event);
    await finishAttempt(db, id, leaseUntil, this.#afterAttempt(delivery, outcome));
  }

  async #post(webhook: WebhookRow, delivery: DeliveryRow, event: EventWithName): Promise<Outcome> {
    const secret = this.#ctx.store.secrets.decryptString(webhook.secret_enc, webhookSecretAad(webhook.id));
    const body = JSON.stringify(eventView(event));
    const { timeoutMs } = this.#options;
    try {
      const response = await request(webhook.url, {
        method: 'POST',
        dispatcher: this.#agent,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'certkeep',
          'x-certkeep-event': event.type,
          'x-certkeep-delivery': String(delivery.id),
          [SIGNATURE_HEADER]: signatureHeader(secret, Math.floor(this.#clock.now() / 1000), body),
        },
        body,
        signal: AbortSignal.timeout(timeoutMs),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const { statusCode } = response;
      if (statusCode >= 200 && statusCode < 300) {
        await response.body.dump();
        return { delivered: true, statusCode, error: null };
      }
      const text = await beginning(response.body);
      const redirect = statusCode >= 300 && statusCode < 400 ? ' (redirects are not followed)' : '';
      return {
        delivered: false,
        statusCode,
        error: `HTTP ${statusCode}${redirect}${text ? `: ${text}` : ''}`,
      };
    } catch (error) {
      return { delivered: false, statusCode: null, error: this.#networkError(error, webhook) };
    }
  }

  /** One sentence for every way a request can fail, timeouts included (the log has the cause), or the policy's refusal. */
  #networkError(error: unknown, webhook: WebhookRow): string {
    return `no answer: ${this.#limits.explain(error, { webhook: webhook.id, url: webhook.url })}`.slice(0, ERROR_TEXT_LIMIT);
  }

  #afterAttempt(delivery: DeliveryRow, outcome: Outcome): DeliveryPatch {
    const now = this.#clock.now();
    const attempts = delivery.attempts + 1;
    const recorded = { attempts, last_status_code: outcome.statusCode, last_error: outcome.error };
    if (outcome.delivered)
      return { ...recorded, status: 'delivered', delivered_at: now, next_attempt_at: null };
    if (attempts >= this.#options.maxAttempts)
      return { ...recorded, status: 'failed', next_attempt_at: null };
    return { ...recorded, next_attempt_at: now + retryDelay(attempts, this.#options) };
  }
}

/** Starts a dispatcher ticking every intervalMs; the server calls this once and stop() on shutdown. */
export function startWebhookDispatcher(
  ctx: NotifyContext,
  options: DispatcherOptions = {},
): WebhookDispatcher {
  const dispatcher = new WebhookDispatcher(ctx, options);
  dispatcher.start();
  return dispatcher;
}

/** The wait after the attempts-th failed attempt: base·2^(attempts-1), capped, then a random point in its upper half. */
export function retryDelay(
  attempts: number,
  options: { baseDelayMs: number; maxDelayMs: number },
  random: () => number = Math.random,
): number {
  const nominal = Math.min(options.baseDelayMs * 2 ** (attempts - 1), options.maxDelayMs);
  return Math.round(nominal / 2 + (random() * nominal) / 2);
}

function eventFilter(webhook: WebhookRow, afterId: number, upToId: number, limit: number) {
  return {
    subscriptionId: webhook.subscription_id,
    createdSince: webhook.created_at,
    types: webhook.event_types,
    afterId,
    upToId,
    limit,
  };
}

/** The start of an error answer, for the delivery log; the rest is not read. */
async function beginning(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= ERROR_TEXT_LIMIT) break;
  }
  body.destroy();
  return Buffer.concat(chunks).toString('utf8').slice(0, ERROR_TEXT_LIMIT).replace(/\s+/g, ' ').trim();
}

