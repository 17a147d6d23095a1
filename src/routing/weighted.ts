/**
 * A weighted choice among a route's destinations, built once per config
 * update. A pick maps a uniform draw r in [0, 1) onto cumulative weights:
 * linear for the usual two or three destinations, binary search beyond.
 * Zero-weight items span an empty interval, so no draw can land on them.
 */

/** Past this many items a binary search beats the linear scan. */
const LINEAR_MAX = 8;

export class WeightedChoice<T> {
  readonly #items: readonly T[];
  /** cumulative[i] = sum of weights[0..i]; strictly greater than a draw means "here". */
  readonly #cumulative: Float64Array;
  readonly #total: number;
  /** The last item with weight, for draws at or past the total (r = 1 from a sloppy source). */
  readonly #last: T;

  constructor(items: readonly T[], weights: readonly number[]) {
    if (items.length === 0 || items.length !== weights.length) {
      throw new RangeError('WeightedChoice needs one weight per item, and at least one item');
    }
    this.#items = items;
    this.#cumulative = new Float64Array(items.length);
    let total = 0;
    let last = -1;
    weights.forEach((w, i) => {
      if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`weight ${w} is not a finite number >= 0`);
      total += w;
      this.#cumulative[i] = total;
      if (w > 0) last = i;
    });
    if (last < 0) throw new RangeError('weights add up to 0');
    this.#total = total;
    this.#last = items[last]!;
  }

  pick(r: number): T {
    // NaN and negative draws clamp to 0, so they too skip zero-weight items.
    const target = r > 0 ? r * this.#total : 0;
    const cum = this.#cumulative;
    const n = cum.length;
    if (n <= LINEAR_MAX) {
      for (let i = 0; i < n; i++) if (cum[i]! > target) return this.#items[i]!;
      return this.#last;
    }
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cum[mid]! > target) hi = mid;
      else lo = mid + 1;
    }
    return lo < n ? this.#items[lo]! : this.#last;
  }
}
