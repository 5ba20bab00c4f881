// One event stream per tab (server-sent events from /api/v1/events/stream),
// shared by every page that wants to know what changed. EventSource reconnects
// by itself; pages re-read what they show when it does.
import { useEffect, useRef } from 'preact/hooks';
import type { EventView } from './api.ts';

export interface OrderChange {
  id: string;
  certificate: string;
  step: string;
  goal: string;
  status: string;
  error: string | null;
  updatedAt: string;
}

export type LiveMessage =
  | { kind: 'event'; event: EventView }
  | { kind: 'order'; order: OrderChange }
  | { kind: 'agent'; agent: { id: string } }
  | { kind: 'reconnected' };

type Listener = (message: LiveMessage) => void;

const listeners = new Set<Listener>();
let source: EventSource | undefined;
let wasOpen = false;

function open(): void {
  if (source) return;
  source = new EventSource('/api/v1/events/stream');
  source.addEventListener('event', (e) =>
    emit({ kind: 'event', event: JSON.parse((e as MessageEvent).data) }),
  );
  source.addEventListener('order', (e) =>
    emit({ kind: 'order', order: JSON.parse((e as MessageEvent).data) }),
  );
  source.addEventListener('agent', (e) =>
    emit({ kind: 'agent', agent: JSON.parse((e as MessageEvent).data) }),
  );
  source.addEventListener('open', () => {
    if (wasOpen) emit({ kind: 'reconnected' });
    wasOpen = true;
  });
}

export function closeLive(): void {
  source?.close();
  source = undefined;
  wasOpen = false;
}

function emit(message: LiveMessage): void {
  for (const listener of listeners) listener(message);
}

/** Calls `handler` with every change while the component is shown. */
export function useLive(handler: Listener): void {
  const current = useRef(handler);
  current.current = handler;
  useEffect(() => {
    open();
    const listener: Listener = (message) => current.current(message);
    listeners.add(listener);
    return () => listeners.delete(listener);
  }, []);
}
