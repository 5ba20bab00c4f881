// The poll queue: a subscription's events (certificate issued, renewed,
// failed…) wait until the client acknowledges them. The native API and the
// compatibility adapters (AutoDNS /poll) call these same functions.
import type { NotifyContext } from './context.ts';
import { isoTime } from '../time/iso.ts';
import { NotFoundError } from '../errors.ts';
import {
  ackEvent as markAcked,
  countUnackedEvents,
  type EventWithName,
  listUnackedEvents,
} from '../store/repositories/events.ts';

export { EVENT_TYPES } from '../store/repositories/events.ts';

/** How an event is shown: in the poll queue and as a webhook's body. */
export interface EventView {
  id: number;
  type: string;
  /** The certificate's name, or null for events about no certificate (or a certificate since removed). */
  certificate: string | null;
  payload: Record<string, unknown>;
  createdAt: string;
}

export interface EventPage {
  /** Oldest first. */
  events: EventView[];
  /** Unacknowledged events after the last one in this page: 0 means the page holds all that wait. */
  remaining: number;
}

export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 1000;

export function eventView(row: EventWithName): EventView {
  return {
    id: row.id,
    type: row.type,
    certificate: row.certificate_name,
    payload: row.payload,
    createdAt: isoTime(row.created_at),
  };
}

/**
 * The subscription's unacknowledged events with id > `after` (default 0),
 * oldest first, at most `limit` (default 100, at most 1000). A client reads a
 * page, handles and acknowledges each event, and asks again; or pages on with
 * `after` set to the last id it read.
 */
export async function nextEvents(
  ctx: NotifyContext,
  subscriptionId: string,
  options: { after?: number; limit?: number } = {},
): Promise<EventPage> {
  const after = options.after ?? 0;
  const limit = Math.min(Math.max(options.limit ?? DEFAULT_PAGE, 1), MAX_PAGE);
  const rows = await listUnackedEvents(ctx.store.db, subscriptionId, after, limit);
  const last = rows.at(-1)?.id ?? after;
  return {
    events: rows.map(eventView),
    remaining: await countUnackedEvents(ctx.store.db, subscriptionId, last),
  };
}

/**
 * Acknowledges an event: it leaves the poll queue. Acknowledging twice is
 * fine; an id the subscription does not own is a NotFoundError. Webhook
 * deliveries do not depend on it.
 */
export async function ackEvent(ctx: NotifyContext, subscriptionId: string, id: number): Promise<void> {
  if (!(await markAcked(ctx.store.db, subscriptionId, id, ctx.clock.now()))) {
    throw new NotFoundError(`no event ${id} in this subscription`);
  }
}
