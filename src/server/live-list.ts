/**
 * The admitted requests in flight, so a drain can reach the ones whose
 * response has not started. A doubly linked list threaded through the
 * exchanges themselves: adding and removing is a few field writes, where a
 * Set cost about 400 instructions per request (hashing the object's
 * identity, growing and shrinking its table).
 */

/** The two fields an item carries for the list; only LiveList writes them. */
export interface LiveLink<T> {
  liveNext: T | undefined;
  livePrev: T | undefined;
}

export class LiveList<T extends LiveLink<T>> {
  #head: T | undefined = undefined;

  add(item: T): void {
    const head = this.#head;
    item.liveNext = head;
    item.livePrev = undefined;
    if (head !== undefined) head.livePrev = item;
    this.#head = item;
  }

  /** Removes an item added before; removing it twice does nothing. */
  remove(item: T): void {
    const { liveNext: next, livePrev: prev } = item;
    if (prev !== undefined) prev.liveNext = next;
    else if (this.#head === item) this.#head = next;
    else return;
    if (next !== undefined) next.livePrev = prev;
    item.liveNext = undefined;
    item.livePrev = undefined;
  }

  /** Calls `fn` on every item; `fn` may remove the item it is given. */
  forEach(fn: (item: T) => void): void {
    let item = this.#head;
    while (item !== undefined) {
      const next: T | undefined = item.liveNext;
      fn(item);
      item = next;
    }
  }
}
