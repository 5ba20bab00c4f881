// The simulation's clock: a priority queue of things due at a simulated time.
// Nothing sleeps; the simulation jumps from one entry to the next.

export interface Scheduled {
  /** Epoch milliseconds, a whole number. */
  at: number;
  /** Breaks ties at one instant, lower first (the scheduler's phases within a tick): 0 to 3. */
  phase: number;
}

/**
 * A binary min-heap by (at, phase). The keys sit in their own array of
 * numbers, so that comparing does not chase pointers: a simulated year pops
 * millions of entries. Entries equal in both are taken in an order that is
 * unspecified but the same on every run.
 */
export class EventQueue<T extends Scheduled> {
  readonly #keys: number[] = [];
  readonly #items: T[] = [];

  get size(): number {
    return this.#items.length;
  }

  push(item: T): void {
    const keys = this.#keys;
    const items = this.#items;
    const key = item.at * 4 + item.phase;
    let i = items.length;
    keys.push(key);
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (keys[parent] <= key) break;
      keys[i] = keys[parent];
      items[i] = items[parent];
      i = parent;
    }
    keys[i] = key;
    items[i] = item;
  }

  pop(): T | undefined {
    const items = this.#items;
    const top = items[0];
    const lastItem = items.pop();
    const lastKey = this.#keys.pop();
    if (items.length > 0 && lastItem !== undefined && lastKey !== undefined)
      this.#siftDown(lastKey, lastItem);
    return top;
  }

  /** Puts the entry at the root's place and moves it down until both children come later. */
  #siftDown(key: number, item: T): void {
    const keys = this.#keys;
    const items = this.#items;
    const size = items.length;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= size) break;
      if (child + 1 < size && keys[child + 1] < keys[child]) child++;
      if (keys[child] >= key) break;
      keys[i] = keys[child];
      items[i] = items[child];
      i = child;
    }
    keys[i] = key;
    items[i] = item;
  }
}
