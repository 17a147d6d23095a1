/**
 * Least request by power of two choices: draw two distinct endpoints at
 * random and take the one with the lower (inFlight + 1) / weight.
 *
 * Why two choices rather than a scan for the global minimum: P2C is O(1),
 * and it avoids the herd behaviour of "everyone picks the least loaded",
 * where many clients with the same stale view all pile onto one endpoint
 * (Mitzenmacher, "The Power of Two Choices in Randomized Load Balancing").
 * The "+ 1" prices in the request about to be sent, so weights still matter
 * when nothing is in flight.
 *
 * Candidates are drawn uniformly; weight enters only through the cost. Ties
 * go to the first candidate, which is itself random.
 */
import type { BalancedEndpoint, Picker, PickerOptions } from './types.js';

class LeastRequestPicker<E extends BalancedEndpoint> implements Picker<E> {
  readonly size: number;
  readonly #endpoints: readonly E[];
  readonly #random: () => number;

  constructor(endpoints: readonly E[], random: () => number) {
    this.#endpoints = endpoints.slice();
    this.size = endpoints.length;
    this.#random = random;
  }

  pick(): E | undefined {
    const n = this.size;
    if (n < 2) return this.#endpoints[0];
    // One draw gives both candidates: the integer part picks the first, the
    // fraction picks the second among the other n - 1 (plenty of bits for any
    // realistic n).
    const x = this.#random() * n;
    const i = Math.floor(x);
    let j = Math.floor((x - i) * (n - 1));
    if (j >= i) j++;
    const a = this.#endpoints[i]!;
    const b = this.#endpoints[j]!;
    return (b.inFlight + 1) * a.weight < (a.inFlight + 1) * b.weight ? b : a;
  }
}

export function leastRequestPicker<E extends BalancedEndpoint>(
  endpoints: readonly E[],
  options: PickerOptions = {},
): Picker<E> {
  return new LeastRequestPicker(endpoints, options.random ?? Math.random);
}
