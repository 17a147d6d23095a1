/**
 * Least request by power of two choices: draw two distinct endpoints at
 * random (by weight when weights differ, see two-choices.ts) and take the one
 * with fewer requests in flight per unit of weight.
 *
 * Why two choices rather than a scan for the global minimum: P2C is O(1),
 * and it avoids the herd behaviour of "everyone picks the least loaded",
 * where many clients with the same stale view all pile onto one endpoint
 * (Mitzenmacher, "The Power of Two Choices in Randomized Load Balancing").
 * Ties go to the first candidate, which is itself random.
 */
import { TwoChoices } from './two-choices.js';
import type { BalancedEndpoint, Picker, PickerOptions } from './types.js';

// In-flight per unit of weight; equal loads tie, and the first (weighted) candidate wins.
const fewerInFlight = (a: BalancedEndpoint, b: BalancedEndpoint): boolean => b.inFlight * a.weight < a.inFlight * b.weight;

class LeastRequestPicker<E extends BalancedEndpoint> implements Picker<E> {
  readonly size: number;
  readonly #choices: TwoChoices<E>;

  constructor(endpoints: readonly E[], random: () => number) {
    this.#choices = new TwoChoices(endpoints, random);
    this.size = endpoints.length;
  }

  pick(): E | undefined {
    return this.#choices.choose(fewerInFlight);
  }
}

export function leastRequestPicker<E extends BalancedEndpoint>(
  endpoints: readonly E[],
  options: PickerOptions = {},
): Picker<E> {
  return new LeastRequestPicker(endpoints, options.random ?? Math.random);
}
