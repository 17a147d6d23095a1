/**
 * Smooth weighted round-robin.
 *
 * Equal weights (the common case) rotate an index: O(1), nothing to compare.
 * Unequal weights use earliest-deadline-first over a binary heap, as Envoy
 * does: each endpoint is due every 1/weight units of virtual time, so an
 * endpoint of weight 3 is picked three times as often as one of weight 1 and
 * its picks are spread evenly rather than in a burst. O(log n) per pick.
 *
 * The start is randomised (a random index; random initial deadlines in the
 * weighted case) so a fleet of clients that all got the same endpoint list at
 * the same moment do not all send their first request to endpoint 0.
 *
 * The cursor (an index, or the deadlines) is the picker's only mutable
 * state; the endpoint list is copied, so the set is fixed for its lifetime.
 */
import type { BalancedEndpoint, Picker, PickerOptions } from './types.js';

// Virtual time grows by 1/totalWeight per pick; once deadlines get this large
// we shift them all back towards zero, so float spacing stays far finer than
// the smallest step (1/1,000,000) however long the process runs.
const REBASE_AT = 2 ** 20;

class RotatingPicker<E extends BalancedEndpoint> implements Picker<E> {
  readonly size: number;
  readonly #endpoints: readonly E[];
  #next: number;

  constructor(endpoints: readonly E[], random: () => number) {
    this.#endpoints = endpoints.slice();
    this.size = endpoints.length;
    this.#next = Math.floor(random() * endpoints.length);
  }

  pick(): E | undefined {
    const i = this.#next;
    const n = this.size;
    if (n === 0) return undefined;
    this.#next = i + 1 === n ? 0 : i + 1;
    return this.#endpoints[i];
  }
}

class EdfPicker<E extends BalancedEndpoint> implements Picker<E> {
  readonly size: number;
  readonly #endpoints: readonly E[];
  /** Heap of endpoint indices ordered by (deadline, index). */
  readonly #heap: Int32Array;
  readonly #deadline: Float64Array;
  readonly #period: Float64Array;

  constructor(endpoints: readonly E[], random: () => number) {
    const n = endpoints.length;
    this.#endpoints = endpoints.slice();
    this.size = n;
    this.#heap = new Int32Array(n);
    this.#deadline = new Float64Array(n);
    this.#period = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const period = 1 / endpoints[i]!.weight;
      this.#period[i] = period;
      // A random phase within one period: a random start that keeps each
      // endpoint's picks evenly spaced.
      this.#deadline[i] = random() * period;
      this.#heap[i] = i;
    }
    for (let i = (n >> 1) - 1; i >= 0; i--) this.#siftDown(i);
  }

  pick(): E | undefined {
    const top = this.#heap[0]!;
    const deadline = this.#deadline[top]! + this.#period[top]!;
    this.#deadline[top] = deadline;
    this.#siftDown(0);
    if (deadline > REBASE_AT) this.#rebase();
    return this.#endpoints[top];
  }

  #less(a: number, b: number): boolean {
    const da = this.#deadline[a]!;
    const db = this.#deadline[b]!;
    return da < db || (da === db && a < b);
  }

  #siftDown(i: number): void {
    const heap = this.#heap;
    const n = heap.length;
    const item = heap[i]!;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && this.#less(heap[right]!, heap[child]!)) child = right;
      const c = heap[child]!;
      if (!this.#less(c, item)) break;
      heap[i] = c;
      i = child;
    }
    heap[i] = item;
  }

  #rebase(): void {
    // Subtracting the same amount from every deadline keeps the heap order.
    const base = this.#deadline[this.#heap[0]!]!;
    for (let i = 0; i < this.size; i++) this.#deadline[i] = this.#deadline[i]! - base;
  }
}

export function roundRobinPicker<E extends BalancedEndpoint>(
  endpoints: readonly E[],
  options: PickerOptions = {},
): Picker<E> {
  const random = options.random ?? Math.random;
  const first = endpoints[0];
  const equal = first === undefined || endpoints.every((e) => e.weight === first.weight);
  return equal ? new RotatingPicker(endpoints, random) : new EdfPicker(endpoints, random);
}
