// Live updates for the portal (and any client of the event stream): what
// changed, per subscription, seconds or less after it is stored.
//
// How the stream learns of changes: one poll per process, shared by every
// open stream and running only while one is open, reads the events table
// (issued, renewed, failed…), the orders whose step moved and the agents whose
// targets or token changed since it last looked. The store stays the only source, so a change made by another
// instance shows up as surely as one made here. An order's steps are not
// written as events, so the poll queue and webhooks see no more than before.
// In this process, storing a step calls ctx.notifyChange(), which runs the
// poll at once instead of at its next tick: changes made here appear at once.
import { type EventView, eventView } from '../notify/events.ts';
import { agentsChangedSince } from '../store/repositories/agents.ts';
import { eventsAfter, eventsWithIds, newestEventId, ordersChangedSince } from '../store/repositories/changes.ts';
import type { EngineContext } from './context.ts';
import { isoTime } from '../time/iso.ts';
import { type OrderStatus, orderStatus } from './views.ts';

export interface OrderChange {
  id: string;
  certificate: string;
  step: string;
  goal: string;
  status: OrderStatus;
  error: string | null;
  updatedAt: string;
}

/** An agent's targets or token changed: its streams look again (agent-stream.ts). */
export interface AgentChange {
  id: string;
}

export type Change =
  | { kind: 'event'; event: EventView }
  | { kind: 'order'; order: OrderChange }
  | { kind: 'agent'; agent: AgentChange };

type Listener = (change: Change) => void;

const POLL_MS = 1000;
const BATCH = 500;
/** Orders are read back this far, so that one stored a moment late (another instance's clock) is not missed. */
const ORDER_OVERLAP_MS = 5000;
/**
 * PostgreSQL numbers an event when it is inserted, not when it commits, so a
 * later number can be read first; the numbers skipped over are looked up again
 * for this long (a rolled-back insert leaves a hole that never fills).
 */
const HOLE_WAIT_MS = 10_000;
const MAX_HOLES = 1000;

export class LiveFeed {
  readonly #ctx: EngineContext;
  readonly #listeners = new Map<string, Set<Listener>>();
  #eventCursor = -1;
  /** Event ids skipped over, and until when to look for them. */
  #holes = new Map<number, number>();
  #orderCursor = 0;
  /** What was last sent of each recently changed order, so that the overlap sends nothing twice. */
  #sent = new Map<string, number>();
  #agentCursor = 0;
  /** Listeners that want order steps: none, and the orders are not read. */
  #orderListeners = 0;
  #agentsSent = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  /** Settles once the feed knows where it starts: every change stored after that reaches the listeners. */
  #cursorTaken: PromiseWithResolvers<void> | undefined;
  #polling: Promise<void> | undefined;
  /** Counts stops: a look begun before the feed stopped must not set the cursors of the next start. */
  #stops = 0;
  #again = false;

  constructor(ctx: EngineContext) {
    this.#ctx = ctx;
    ctx.notifyChange = () => this.#pollSoon();
  }

  /**
   * Calls `listener` with each change of the subscription until the returned
   * function is called. `orders: false` (the agents' streams): no order steps,
   * which the feed then does not read while no other listener wants them.
   */
  subscribe(subscriptionId: string, listener: Listener, options: { orders?: boolean } = {}): () => void {
    const set = this.#listeners.get(subscriptionId) ?? new Set<Listener>();
    this.#listeners.set(subscriptionId, set);
    const wantsOrders = options.orders !== false;
    const added: Listener = wantsOrders ? listener : (change) => change.kind !== 'order' && listener(change);
    set.add(added);
    if (wantsOrders) this.#orderListeners++;
    this.#start();
    return () => {
      if (!set.delete(added)) return;
      if (wantsOrders) this.#orderListeners--;
      if (set.size === 0) this.#listeners.delete(subscriptionId);
      if (this.#listeners.size === 0) this.#stop();
    };
  }

  /**
   * Resolves once every change stored from now on will reach the listeners.
   * A listener that reads the state it follows only after this misses nothing
   * between its read and its first change.
   */
  ready(): Promise<void> {
    return this.#cursorTaken?.promise ?? Promise.resolve();
  }

  get listening(): number {
    let count = 0;
    for (const set of this.#listeners.values()) count += set.size;
    return count;
  }

  close(): void {
    this.#listeners.clear();
    this.#orderListeners = 0;
    this.#stop();
    this.#ctx.notifyChange = () => {};
  }

  #start(): void {
    if (this.#timer) return;
    this.#cursorTaken = Promise.withResolvers();
    this.#timer = setInterval(() => this.#pollSoon(), POLL_MS);
    this.#timer.unref();
    // Take the cursor now, not at the first tick: a change stored in between would be skipped.
    this.#pollSoon();
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#stops++;
    this.#cursorTaken?.resolve();
    // The cursors start afresh at the next stream: nothing that happened meanwhile is owed to anyone.
    this.#eventCursor = -1;
    this.#holes.clear();
  }

  #pollSoon(): void {
    if (!this.#timer) return;
    if (this.#polling) {
      this.#again = true;
      return;
    }
    this.#polling = this.#poll()
      .catch(() => {}) // a failed look is retried at the next tick
      .finally(() => {
        this.#polling = undefined;
        if (this.#again) {
          this.#again = false;
          this.#pollSoon();
        }
      });
  }

  async #poll(): Promise<void> {
    const { db } = this.#ctx.store;
    const now = this.#ctx.clock.now();
    const stops = this.#stops;
    const stale = () => stops !== this.#stops;
    if (this.#eventCursor < 0) {
      const newest = await newestEventId(db);
      if (stale()) return;
      this.#eventCursor = newest;
      this.#orderCursor = now;
      this.#agentCursor = now;
      this.#cursorTaken?.resolve();
      return;
    }
    const filled = await eventsWithIds(db, [...this.#holes.keys()]);
    const events = await eventsAfter(db, this.#eventCursor, BATCH);
    if (stale()) return;
    for (const row of filled) {
      this.#holes.delete(row.id);
      this.#send(row.subscription_id, { kind: 'event', event: eventView(row) });
    }
    for (const [id, until] of this.#holes) if (until < now) this.#holes.delete(id);
    for (const row of events) {
      for (let id = this.#eventCursor + 1; id < row.id && this.#holes.size < MAX_HOLES; id++) this.#holes.set(id, now + HOLE_WAIT_MS);
      this.#eventCursor = row.id;
      this.#send(row.subscription_id, { kind: 'event', event: eventView(row) });
    }
    if (this.#orderListeners === 0) this.#orderCursor = now;
    const orders = this.#orderListeners === 0 ? [] : await ordersChangedSince(db, this.#orderCursor - ORDER_OVERLAP_MS, BATCH);
    if (stale()) return;
    for (const row of orders) {
      this.#orderCursor = Math.max(this.#orderCursor, row.updated_at);
      if (this.#sent.get(row.id) === row.updated_at) continue;
      this.#sent.set(row.id, row.updated_at);
      const order = {
        id: row.id,
        certificate: row.name,
        step: row.step,
        goal: row.goal,
        status: orderStatus(row.step),
        error: row.error,
        updatedAt: isoTime(row.updated_at),
      };
      this.#send(row.subscription_id, { kind: 'order', order });
    }
    for (const [id, at] of this.#sent) if (at < this.#orderCursor - ORDER_OVERLAP_MS) this.#sent.delete(id);
    const agents = await agentsChangedSince(db, this.#agentCursor - ORDER_OVERLAP_MS, BATCH);
    if (stale()) return;
    for (const row of agents) {
      this.#agentCursor = Math.max(this.#agentCursor, row.changed_at);
      if (this.#agentsSent.get(row.id) === row.changed_at) continue;
      this.#agentsSent.set(row.id, row.changed_at);
      this.#send(row.subscription_id, { kind: 'agent', agent: { id: row.id } });
    }
    for (const [id, at] of this.#agentsSent) if (at < this.#agentCursor - ORDER_OVERLAP_MS) this.#agentsSent.delete(id);
  }

  #send(subscriptionId: string, change: Change): void {
    for (const listener of this.#listeners.get(subscriptionId) ?? []) listener(change);
  }
}
