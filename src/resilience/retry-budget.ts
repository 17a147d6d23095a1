/**
 * A retry budget per destination, as in Linkerd and Finagle: retries (and
 * hedges) may add at most `ratio` extra load on top of the original
 * requests, plus a small floor so a quiet service can still retry. A retry
 * count per request cannot do this: with 3 retries each, an outage turns
 * every request into 4 and the retries finish off a struggling backend.
 *
 * Counting happens over a sliding window of `ttl` in RETRY_BUDGET_BUCKETS
 * buckets, rolled forward from the clock on access (no timers): it holds
 * everything from the last 0.9 × ttl and nothing older than ttl.
 *
 * Bound (what the tests assert): with `w = ttl / RETRY_BUDGET_BUCKETS` and
 * `reserve = minRetriesPerSecond × ttl / 1000`, the retries withdrawn in any
 * period of T ms are at most
 *   ratio × D + reserve × (⌊(⌊T / w⌋ + 1) / RETRY_BUDGET_BUCKETS⌋ + 1),
 * where D counts the deposits made in the period and the ttl before it.
 * For T a whole number of ttls that is ratio × D + minRetriesPerSecond × (T + ttl) / 1000.
 * Why: take the window as of the last withdrawal, then the window as of the
 * last withdrawal older than that window, and so on. Those windows are
 * disjoint and cover every withdrawal; each admitted at most reserve + ratio ×
 * its own deposits; and their newest buckets lie at least
 * RETRY_BUDGET_BUCKETS apart, which bounds how many there are.
 */
import { monotonicNow } from '../net/monotonic-clock.js';
import { RollingCounts } from './rolling-counts.js';

export interface RetryBudgetConfig {
  /** Retries allowed per original request, over the window (0.2 = 20% extra load). */
  ratio: number;
  /** Retries always allowed per second, however few requests there were. */
  minRetriesPerSecond: number;
  /** Length of the sliding window in ms. */
  ttlMs: number;
}

export const DEFAULT_RETRY_BUDGET: RetryBudgetConfig = { ratio: 0.2, minRetriesPerSecond: 10, ttlMs: 10_000 };

export const RETRY_BUDGET_BUCKETS = 10;

/** Absorbs floating-point error in `ratio × deposits` (0.58 × 100 is 57.99999999999999). */
const EPSILON = 1e-9;


export class RetryBudget {
  readonly #now: () => number;
  /** a: deposits (original requests), b: withdrawals (retries and hedges). */
  readonly #window: RollingCounts;
  #ratio = 0;
  #reserve = 0;

  constructor(config: RetryBudgetConfig, now: () => number = monotonicNow) {
    this.#now = now;
    this.#window = new RollingCounts(config.ttlMs, RETRY_BUDGET_BUCKETS);
    this.configure(config);
  }

  /** Count one original request (not a retry or hedge). */
  deposit(): void {
    const w = this.#window;
    w.roll(this.#now());
    w.add(1, 0);
  }

  /** Take one retry or hedge from the budget; false (and nothing taken) when it is spent. */
  tryWithdraw(): boolean {
    const w = this.#window;
    w.roll(this.#now());
    if (w.b + 1 > this.#reserve + this.#ratio * w.a + EPSILON) return false;
    w.add(0, 1);
    return true;
  }

  /** Retries the budget would allow right now (for status views and tests). */
  get available(): number {
    const w = this.#window;
    w.roll(this.#now());
    return Math.max(0, Math.floor(this.#reserve + this.#ratio * w.a - w.b + EPSILON));
  }

  /** Ratio and floor apply at once; a new ttl starts an empty window. */
  configure(config: RetryBudgetConfig): void {
    this.#ratio = config.ratio;
    this.#reserve = (config.minRetriesPerSecond * config.ttlMs) / 1000;
    this.#window.setSpan(config.ttlMs);
  }
}
