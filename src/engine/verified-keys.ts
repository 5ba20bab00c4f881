// API keys verified in the last few seconds, so that a busy client's requests
// do not each look the key up in the store. Entries are found by the SHA-256
// of the presented key, never by the key itself.
//
// Revoking a key through this process drops it at once. A revocation made by
// another process (another instance, `certkeep admin apikey revoke`) is noticed
// within REVOCATION_CHECK_MS: at most once a second, the first request looks at
// the store's revocation mark (one small query), and when it moved every entry
// is dropped.
import type { Store } from '../store/database.ts';
import type { KeyCaller as Caller } from './callers.ts';

export const VERIFIED_KEY_TTL_MS = 5_000;
export const REVOCATION_CHECK_MS = 1_000;
const MAX_ENTRIES = 10_000;

export class VerifiedKeys {
  readonly #entries = new Map<string, { caller: Caller; until: number }>();
  #revocations = 0;
  #mark: string | undefined;
  #checkedAt = Number.NEGATIVE_INFINITY;
  #checking: Promise<void> | undefined;

  /**
   * Looks at the revocation mark when the last look is REVOCATION_CHECK_MS old;
   * undefined (nothing to wait for) otherwise, so that the usual request does not wait.
   */
  refresh(now: number, readMark: () => Promise<string>): Promise<void> | undefined {
    if (this.#checking) return this.#checking;
    if (now - this.#checkedAt < REVOCATION_CHECK_MS) return undefined;
    this.#checking = readMark()
      .then((mark) => {
        if (this.#mark !== undefined && mark !== this.#mark) this.#forgetAll();
        this.#mark = mark;
      })
      // A store that does not answer fails the lookups of keys not in memory; the mark is read again next time.
      .catch(() => {})
      .finally(() => {
        this.#checkedAt = now;
        this.#checking = undefined;
      });
    return this.#checking;
  }

  get(hash: string, now: number): Caller | undefined {
    const entry = this.#entries.get(hash);
    if (!entry) return undefined;
    if (entry.until > now) return entry.caller;
    this.#entries.delete(hash);
    return undefined;
  }

  /** Take this before reading the store, and hand it back to set(). */
  get generation(): number {
    return this.#revocations;
  }

  /** Remembers a caller unless a key was revoked since `generation` was taken (the store may have answered before it). */
  set(hash: string, caller: Caller, now: number, generation: number): void {
    if (generation !== this.#revocations) return;
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.delete(this.#entries.keys().next().value as string);
    this.#entries.set(hash, { caller, until: now + VERIFIED_KEY_TTL_MS });
  }

  #forgetAll(): void {
    this.#revocations++;
    this.#entries.clear();
  }

  forget(keyId: string): void {
    this.#revocations++;
    for (const [hash, entry] of this.#entries) if (entry.caller.keyId === keyId) this.#entries.delete(hash);
  }
}

// One per store, so that every engine context over it sees the same revocations.
const byStore = new WeakMap<Store, VerifiedKeys>();

export function verifiedKeys(store: Store): VerifiedKeys {
  const known = byStore.get(store);
  if (known) return known;
  const keys = new VerifiedKeys();
  byStore.set(store, keys);
  return keys;
}
