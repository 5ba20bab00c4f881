// What the notification functions need from their caller (the engine passes
// itself): the store, the time and, in the server, the limits on where a
// tenant's webhook may connect. Notify knows nothing else of the engine, so
// that the engine can start its senders with the server runtime.
import type { TenantLimits } from '../outbound/tenant-limits.ts';
import type { Store } from '../store/database.ts';
import type { Clock } from '../time/clock.ts';

export interface NotifyContext {
  store: Store;
  clock: Clock;
  limits?: TenantLimits;
}
