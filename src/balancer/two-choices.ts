/**
 * Candidate drawing for the power-of-two-choices pickers (least-request,
 * peak-EWMA): two distinct endpoints, uniformly, from one random number.
 *
 * Weight enters through the pickers' costs (divided by weight), which makes
 * in-flight settle in proportion to weight under load. At near-zero load an
 * endpoint can get at most 2/n of picks whatever its weight; Envoy switches
 * to a weighted EDF scheduler there, which is the known refinement to make.
 */
import type { BalancedEndpoint } from './types.js';

export class TwoChoices<E extends BalancedEndpoint> {
  readonly size: number;
  readonly #endpoints: readonly E[];
  readonly #random: () => number;

  constructor(endpoints: readonly E[], random: () => number) {
    this.#endpoints = endpoints.slice();
    this.size = endpoints.length;
    this.#random = random;
  }

  /** The candidate `better` prefers; `better(a, b)` is true when b beats a. Ties go to a. */
  choose(better: (a: E, b: E) => boolean): E | undefined {
    const n = this.size;
    if (n < 2) return this.#endpoints[0];
    // The integer part picks the first, the fraction the second among the other n - 1.
    const x = this.#random() * n;
    const i = Math.floor(x);
    let j = Math.floor((x - i) * (n - 1));
    if (j >= i) j++;
    const a = this.#endpoints[i]!;
    const b = this.#endpoints[j]!;
    return better(a, b) ? b : a;
  }
}
