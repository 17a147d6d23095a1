/**
 * Maglev consistent hashing (Eisenbud et al., NSDI 2016), weighted as Envoy
 * weights it.
 *
 * Each endpoint walks its own permutation of the table's slots (an offset
 * and a skip derived from its key) and, in turns, claims the next slot that
 * is still free. Turn-taking gives every endpoint almost exactly its share of
 * slots, so balance does not depend on luck the way ring arcs do, and a pick
 * is a single array read: O(1). The price is a fixed-size table (65537
 * entries by default) rebuilt on every endpoint-set change, and slightly more
 * key movement than a ring on such a change (the test measures both).
 *
 * Weights: an endpoint of weight w takes a turn in w / maxWeight of the
 * rounds (Envoy's `target_weight_` scheme), so its slot count is proportional
 * to its weight.
 */
import { hashString } from './hash.js';
import type { BalancedEndpoint, Picker, PickerOptions } from './types.js';

/** Envoy's default; the paper keeps imbalance under ~1% when size > 100 × endpoints. */
export const DEFAULT_TABLE_SIZE = 65537;

// Independent seeds for the two per-endpoint permutation parameters.
const OFFSET_SEED = 0;
const SKIP_SEED = 1;

function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

/** The lookup table: slot -> endpoint index (-1 only when there are no endpoints). */
export function buildMaglevTable(keys: readonly string[], weights: ArrayLike<number>, size: number): Int32Array {
  // A prime size makes every skip in [1, size) coprime with it, so each
  // permutation visits every slot and the fill loop always terminates.
  if (!isPrime(size)) throw new RangeError(`maglev table size must be a prime number, got ${size}`);
  const n = keys.length;
  const table = new Int32Array(size).fill(-1);
  if (n === 0) return table;
  const position = new Int32Array(n);
  const skip = new Int32Array(n);
  const target = new Float64Array(n);
  let maxWeight = 0;
  for (let i = 0; i < n; i++) {
    const key = keys[i]!;
    position[i] = hashString(key, OFFSET_SEED) % size;
    skip[i] = (hashString(key, SKIP_SEED) % (size - 1)) + 1;
    if (weights[i]! > maxWeight) maxWeight = weights[i]!;
  }
  let filled = 0;
  for (let round = 1; filled < size; round++) {
    for (let i = 0; i < n && filled < size; i++) {
      const w = weights[i]! / maxWeight;
      if (round * w < target[i]!) continue; // not this endpoint's turn yet
      target[i] = target[i]! + 1;
      const step = skip[i]!;
      let slot = position[i]!;
      while (table[slot]! >= 0) {
        slot += step;
        if (slot >= size) slot -= size;
      }
      table[slot] = i;
      slot += step;
      position[i] = slot >= size ? slot - size : slot;
      filled++;
    }
  }
  return table;
}

class MaglevPicker<E extends BalancedEndpoint> implements Picker<E> {
  readonly size: number;
  readonly #endpoints: readonly E[];
  readonly #table: Int32Array;
  readonly #tableSize: number;
  readonly #random: () => number;

  constructor(endpoints: readonly E[], options: PickerOptions) {
    this.#endpoints = endpoints.slice();
    this.size = endpoints.length;
    this.#random = options.random ?? Math.random;
    this.#tableSize = options.tableSize ?? DEFAULT_TABLE_SIZE;
    this.#table = buildMaglevTable(
      endpoints.map((e) => e.key),
      endpoints.map((e) => e.weight),
      this.#tableSize,
    );
  }

  pick(hash?: number): E | undefined {
    if (this.size === 0) return undefined;
    // Multiply-and-shift maps a uniform 32-bit hash onto the table as evenly
    // as `%` does, without a floating-point modulo.
    const slot =
      hash === undefined
        ? Math.floor(this.#random() * this.#tableSize)
        : Math.floor((hash >>> 0) * this.#tableSize * 2.3283064365386963e-10);
    return this.#endpoints[this.#table[slot]!];
  }
}

export function maglevPicker<E extends BalancedEndpoint>(endpoints: readonly E[], options: PickerOptions = {}): Picker<E> {
  return new MaglevPicker(endpoints, options);
}
