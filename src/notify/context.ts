// What the notification functions need from their caller (the engine passes
// itself): the store and the time. Notify knows nothing else of the engine,
// so that the engine can start its senders with the server runtime.
import type { Store } from '../store/database.ts';
import type { Clock } from '../time/clock.ts';

export interface NotifyContext {
  store: Store;
  clock: Clock;
}
