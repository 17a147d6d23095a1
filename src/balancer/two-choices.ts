/**
 * Candidate drawing for the power-of-two-choices pickers (least-request,
 * peak-EWMA). With equal weights both candidates are uniform, from one random
 * number. With unequal weights they are drawn in proportion to weight (alias
 * method), so idle traffic, where costs tie and the first candidate wins,
 * splits by weight; under load the pickers' costs decide. Dividing the cost
 * by weight alone cannot give any endpoint more than 2/n of idle traffic.
 */
import { type AliasTable, buildAliasTable } from './random.js';
import type { BalancedEndpoint } from './types.js';

export class TwoChoices<E extends BalancedEndpoint> {
  readonly size: number;
  /** True when candidates are drawn by weight (the weights differ). */
  readonly weighted: boolean;
  readonly #endpoints: readonly E[];
  readonly #random: () => number;
  readonly #table: AliasTable | undefined;

  constructor(endpoints: readonly E[], random: () => number) {
    this.#endpoints = endpoints.slice();
    this.size = endpoints.length;
    this.#random = random;
    const w0 = endpoints[0]?.weight;
    this.weighted = endpoints.some((e) => e.weight !== w0);
    this.#table = this.weighted ? buildAliasTable(endpoints.map((e) => e.weight)) : undefined;
  }

  /** The candidate `better` prefers; `better(a, b)` is true when b beats a. Ties go to a. */
  choose(better: (a: E, b: E) => boolean): E | undefined {
    const n = this.size;
    if (n < 2) return this.#endpoints[0];
    const table = this.#table;
    let i: number;
    let j: number;
    if (table === undefined) {
      // The integer part picks the first, the fraction the second among the other n - 1.
      const x = this.#random() * n;
      i = Math.floor(x);
      j = Math.floor((x - i) * (n - 1));
      if (j >= i) j++;
    } else {
      i = this.#draw(table);
      j = this.#draw(table);
    }
    const a = this.#endpoints[i]!;
    const b = this.#endpoints[j]!;
    return better(a, b) ? b : a;
  }

  #draw(table: AliasTable): number {
    const x = this.#random() * this.size;
    const column = Math.floor(x);
    return x - column < table.prob[column]! ? column : table.alias[column]!;
  }
}
