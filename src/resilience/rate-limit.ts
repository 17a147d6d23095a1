/**
 * A local rate limit: a token bucket shaped like Envoy's local_ratelimit
 * (max_tokens, tokens_per_fill, fill_interval), so an Istio/Envoy config
 * means the same thing here. Envoy refills on a timer; this bucket works out
 * the refills it missed from the clock when it is next used, which gives the
 * same tokens at every instant it is asked and needs no timer.
 */
import { monotonicNow } from '../net/monotonic-clock.js';

export interface TokenBucketConfig {
  /** Capacity; the bucket starts full. */
  maxTokens: number;
  /** Tokens added at the end of each whole fill interval. */
  tokensPerFill: number;
  fillIntervalMs: number;
}


export class TokenBucket {
  readonly #now: () => number;
  #max = 0;
  #perFill = 0;
  #intervalMs = 1;
  // Starts full: configure() clamps this to the capacity.
  #tokens = Number.POSITIVE_INFINITY;
  /** When the last whole fill interval (counted from creation) ended. */
  #lastFill: number;

  constructor(cfg: TokenBucketConfig, now: () => number = monotonicNow) {
    this.#now = now;
    this.#lastFill = now();
    this.configure(cfg);
  }

  /** Take one token; false (and nothing taken) when the bucket is empty. */
  tryTake(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens--;
    return true;
  }

  get tokens(): number {
    this.#refill();
    return this.#tokens;
  }

  /** New limits apply at once; tokens already in the bucket stay, down to the new capacity. */
  configure(cfg: TokenBucketConfig): void {
    this.#max = cfg.maxTokens;
    this.#perFill = cfg.tokensPerFill;
    this.#intervalMs = Math.max(1, cfg.fillIntervalMs);
    if (this.#tokens > this.#max) this.#tokens = this.#max;
  }

  #refill(): void {
    const elapsed = this.#now() - this.#lastFill;
    if (elapsed < this.#intervalMs) return;
    const fills = Math.floor(elapsed / this.#intervalMs);
    // Advance by whole intervals only, so the fill phase never drifts.
    this.#lastFill += fills * this.#intervalMs;
    this.#tokens = Math.min(this.#max, this.#tokens + fills * this.#perFill);
  }
}
