/**
 * Two counters summed over a sliding window of time, for the retry budget
 * (deposits, withdrawals) and the circuit breaker (calls, failures). The
 * window is a ring of buckets rolled forward from the clock when it is read
 * or written, so it needs no timer and costs a compare when the clock has
 * not crossed a bucket boundary.
 *
 * With span S and B buckets of width w = S / B, the window always holds
 * every count from the last (B − 1) × w and none older than S: the current,
 * partly elapsed bucket plus B − 1 whole ones.
 */
export class RollingCounts {
  /** Sum of the first counter over the window, as of the last `roll`. */
  a = 0;
  /** Sum of the second counter over the window, as of the last `roll`. */
  b = 0;
  readonly #buckets: number;
  readonly #a: Float64Array;
  readonly #b: Float64Array;
  #bucketMs = 0;
  /** Index (time / bucket width) of the newest bucket. */
  #head = Number.NEGATIVE_INFINITY;
  #slot = 0;

  constructor(spanMs: number, buckets = 10) {
    this.#buckets = buckets;
    this.#a = new Float64Array(buckets);
    this.#b = new Float64Array(buckets);
    this.setSpan(spanMs);
  }

  /** A new span changes the bucket width, so old counts no longer line up: the window starts empty. */
  setSpan(spanMs: number): void {
    const bucketMs = Math.max(1, spanMs) / this.#buckets;
    if (bucketMs === this.#bucketMs) return;
    this.#bucketMs = bucketMs;
    this.clear();
  }

  /** Advance the window to `now`, dropping buckets that fell out of it. */
  roll(now: number): void {
    const index = Math.floor(now / this.#bucketMs);
    const head = this.#head;
    // A clock that steps back keeps counting into the newest bucket.
    if (index <= head) return;
    const n = this.#buckets;
    if (index - head >= n) this.clear();
    else {
      for (let i = head + 1; i <= index; i++) {
        const slot = ((i % n) + n) % n;
        this.a -= this.#a[slot]!;
        this.b -= this.#b[slot]!;
        this.#a[slot] = 0;
        this.#b[slot] = 0;
      }
    }
    this.#head = index;
    this.#slot = ((index % n) + n) % n;
  }

  /** Add to the newest bucket (call `roll` first). */
  add(da: number, db: number): void {
    const slot = this.#slot;
    this.#a[slot]! += da;
    this.#b[slot]! += db;
    this.a += da;
    this.b += db;
  }

  clear(): void {
    this.#a.fill(0);
    this.#b.fill(0);
    this.a = 0;
    this.b = 0;
  }
}
