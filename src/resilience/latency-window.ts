/**
 * Recent latencies of one destination, for hedging "after the observed
 * p95": a backup request goes out once the first has taken longer than most
 * requests do. Recording is a store into a fixed ring; the sorted copy that
 * quantiles are read from is rebuilt at most once every `recomputeEvery`
 * records, so a hot destination sorts 512 numbers per 64 requests, not per
 * request.
 */

export interface LatencyWindowOptions {
  /** Samples kept (the most recent). Default 512. */
  capacity?: number;
  /** Records between re-sorts of the quantile snapshot. Default 64. */
  recomputeEvery?: number;
  /** Below this many samples, quantile() is undefined (too little to go on). Default 20. */
  minSamples?: number;
}

export class LatencyWindow {
  readonly #ring: Float64Array;
  readonly #sorted: Float64Array;
  readonly #recomputeEvery: number;
  readonly #minSamples: number;
  #next = 0;
  #count = 0;
  /** Samples in the sorted snapshot (0: none taken yet). */
  #sortedCount = 0;
  #sinceSort = 0;

  constructor(options: LatencyWindowOptions = {}) {
    const capacity = Math.max(1, options.capacity ?? 512);
    this.#ring = new Float64Array(capacity);
    this.#sorted = new Float64Array(capacity);
    this.#recomputeEvery = Math.max(1, options.recomputeEvery ?? 64);
    this.#minSamples = Math.max(1, Math.min(capacity, options.minSamples ?? 20));
  }

  /** Samples held (at most the capacity). */
  get count(): number {
    return this.#count;
  }

  record(ms: number): void {
    // A NaN would sort to the end and poison every quantile above it.
    if (!(ms >= 0) || ms === Number.POSITIVE_INFINITY) return;
    const ring = this.#ring;
    ring[this.#next] = ms;
    this.#next = this.#next + 1 === ring.length ? 0 : this.#next + 1;
    if (this.#count < ring.length) this.#count++;
    this.#sinceSort++;
  }

  /** The q-quantile (nearest rank, q in [0, 1]) of the recent samples, or undefined with too few. */
  quantile(q: number): number | undefined {
    if (this.#count < this.#minSamples) return undefined;
    if (this.#sortedCount === 0 || this.#sinceSort >= this.#recomputeEvery) this.#resort();
    const n = this.#sortedCount;
    const rank = Math.ceil(q * n) - 1;
    return this.#sorted[rank < 0 ? 0 : rank >= n ? n - 1 : rank];
  }

  #resort(): void {
    const n = this.#count;
    const sorted = this.#sorted;
    if (n === sorted.length) {
      sorted.set(this.#ring);
      sorted.sort();
    } else {
      // Not yet full: the samples are the ring's first n slots.
      sorted.set(this.#ring.subarray(0, n));
      sorted.subarray(0, n).sort();
    }
    this.#sortedCount = n;
    this.#sinceSort = 0;
  }
}
