/**
 * Weighted random, O(1) per pick with Vose's alias method.
 *
 * The table is built once per endpoint set (O(n)); a pick then draws one
 * random number and uses its integer part to choose a column and its
 * fractional part to choose between the column's endpoint and its alias.
 * Equal weights skip the table entirely.
 */
import type { BalancedEndpoint, Picker, PickerOptions } from './types.js';

/** Column probabilities and aliases for drawing index i with probability w[i] / sum(w). */
export interface AliasTable {
  readonly prob: Float64Array;
  readonly alias: Int32Array;
}

export function buildAliasTable(weights: ArrayLike<number>): AliasTable {
  const n = weights.length;
  const prob = new Float64Array(n);
  const alias = new Int32Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) total += weights[i]!;
  // Scaled so the average column holds exactly 1.
  const scaled = new Float64Array(n);
  const small = new Int32Array(n);
  const large = new Int32Array(n);
  let ns = 0;
  let nl = 0;
  for (let i = 0; i < n; i++) {
    const s = (weights[i]! * n) / total;
    scaled[i] = s;
    if (s < 1) small[ns++] = i;
    else large[nl++] = i;
  }
  while (ns > 0 && nl > 0) {
    const s = small[--ns]!;
    const l = large[nl - 1]!;
    prob[s] = scaled[s]!;
    alias[s] = l;
    const rest = scaled[l]! + scaled[s]! - 1;
    scaled[l] = rest;
    if (rest < 1) {
      nl--;
      small[ns++] = l;
    }
  }
  // Whatever is left is 1 up to rounding error.
  while (nl > 0) {
    const l = large[--nl]!;
    prob[l] = 1;
    alias[l] = l;
  }
  while (ns > 0) {
    const s = small[--ns]!;
    prob[s] = 1;
    alias[s] = s;
  }
  return { prob, alias };
}

class UniformPicker<E extends BalancedEndpoint> implements Picker<E> {
  readonly size: number;
  readonly #endpoints: readonly E[];
  readonly #random: () => number;

  constructor(endpoints: readonly E[], random: () => number) {
    this.#endpoints = endpoints.slice();
    this.size = endpoints.length;
    this.#random = random;
  }

  pick(): E | undefined {
    return this.#endpoints[Math.floor(this.#random() * this.size)];
  }
}

class AliasPicker<E extends BalancedEndpoint> implements Picker<E> {
  readonly size: number;
  readonly #endpoints: readonly E[];
  readonly #random: () => number;
  readonly #prob: Float64Array;
  readonly #alias: Int32Array;

  constructor(endpoints: readonly E[], random: () => number) {
    this.#endpoints = endpoints.slice();
    this.size = endpoints.length;
    this.#random = random;
    const table = buildAliasTable(endpoints.map((e) => e.weight));
    this.#prob = table.prob;
    this.#alias = table.alias;
  }

  pick(): E | undefined {
    const x = this.#random() * this.size;
    const column = Math.floor(x);
    const i = x - column < this.#prob[column]! ? column : this.#alias[column]!;
    return this.#endpoints[i];
  }
}

export function randomPicker<E extends BalancedEndpoint>(endpoints: readonly E[], options: PickerOptions = {}): Picker<E> {
  const random = options.random ?? Math.random;
  const first = endpoints[0];
  const equal = first === undefined || endpoints.every((e) => e.weight === first.weight);
  return equal ? new UniformPicker(endpoints, random) : new AliasPicker(endpoints, random);
}
