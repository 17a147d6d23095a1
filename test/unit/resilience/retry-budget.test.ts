import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_RETRY_BUDGET,
  RETRY_BUDGET_BUCKETS,
  RetryBudget,
  type RetryBudgetConfig,
} from '../../../src/resilience/retry-budget.js';
import { seededRandom } from '../../helpers/seeded-random.js';

afterEach(() => {
  vi.useRealTimers();
});

function clock(start = 0) {
  const c = { t: start, now: () => c.t };
  return c;
}

function withdrawAll(budget: RetryBudget): number {
  let n = 0;
  while (budget.tryWithdraw()) n++;
  return n;
}

/** The bound from retry-budget.ts for withdrawals over a period of T ms. */
function bound(cfg: RetryBudgetConfig, deposits: number, periodMs: number): number {
  const w = cfg.ttlMs / RETRY_BUDGET_BUCKETS;
  const reserve = (cfg.minRetriesPerSecond * cfg.ttlMs) / 1000;
  const windows = Math.floor((Math.floor(periodMs / w) + 1) / RETRY_BUDGET_BUCKETS) + 1;
  return cfg.ratio * deposits + reserve * windows;
}


describe('RetryBudget', () => {
  it('defaults to Linkerd/Finagle values', () => {
    expect(DEFAULT_RETRY_BUDGET).toEqual({ ratio: 0.2, minRetriesPerSecond: 10, ttlMs: 10_000 });
  });

  it('allows minRetriesPerSecond × ttl seconds with no traffic at all', () => {
    const c = clock();
    const budget = new RetryBudget({ ratio: 0.2, minRetriesPerSecond: 10, ttlMs: 10_000 }, c.now);
    expect(budget.available).toBe(100);
    expect(withdrawAll(budget)).toBe(100);
    expect(budget.tryWithdraw()).toBe(false);
    expect(budget.available).toBe(0);
  });

  it('adds ratio × requests in the window', () => {
    const c = clock();
    const budget = new RetryBudget({ ratio: 0.2, minRetriesPerSecond: 0, ttlMs: 10_000 }, c.now);
    expect(budget.tryWithdraw()).toBe(false);
    for (let i = 0; i < 100; i++) budget.deposit();
    expect(withdrawAll(budget)).toBe(20);
  });

  it('counts ratio × requests without losing one to floating-point error', () => {
    const c = clock();
    const budget = new RetryBudget({ ratio: 0.58, minRetriesPerSecond: 0, ttlMs: 10_000 }, c.now);
    for (let i = 0; i < 100; i++) budget.deposit();
    expect(withdrawAll(budget)).toBe(58);
  });

  it('refuses without taking anything: a refused withdrawal costs nothing', () => {
    const c = clock();
    const budget = new RetryBudget({ ratio: 0.5, minRetriesPerSecond: 0, ttlMs: 10_000 }, c.now);
    budget.deposit();
    budget.deposit();
    expect(budget.tryWithdraw()).toBe(true);
    expect(budget.tryWithdraw()).toBe(false);
    expect(budget.tryWithdraw()).toBe(false);
    budget.deposit();
    budget.deposit();
    expect(budget.tryWithdraw()).toBe(true);
  });

  it('refills as the window slides: old withdrawals stop counting after ttl', () => {
    const c = clock();
    const budget = new RetryBudget({ ratio: 0, minRetriesPerSecond: 1, ttlMs: 10_000 }, c.now);
    expect(withdrawAll(budget)).toBe(10);
    c.t = 5000;
    expect(budget.tryWithdraw()).toBe(false);
    c.t = 9999;
    expect(budget.tryWithdraw()).toBe(false);
    c.t = 10_000;
    expect(withdrawAll(budget)).toBe(10);
  });

  it('slides bucket by bucket, not all at once', () => {
    const c = clock();
    const budget = new RetryBudget({ ratio: 0, minRetriesPerSecond: 1, ttlMs: 10_000 }, c.now);
    // One withdrawal in each of the ten 1 s buckets.
    for (let s = 0; s < 10; s++) {
      c.t = s * 1000;
      expect(budget.tryWithdraw()).toBe(true);
    }
    c.t = 9999;
    expect(budget.tryWithdraw()).toBe(false);
    c.t = 10_000; // only the t=0 bucket has left the window
    expect(withdrawAll(budget)).toBe(1);
    c.t = 12_500; // the t=1 s and t=2 s buckets leave too
    expect(withdrawAll(budget)).toBe(2);
  });

  it('forgets old requests too: their share of the budget expires with them', () => {
    const c = clock();
    const budget = new RetryBudget({ ratio: 1, minRetriesPerSecond: 0, ttlMs: 1000 }, c.now);
    for (let i = 0; i < 10; i++) budget.deposit();
    c.t = 999;
    expect(budget.available).toBe(10);
    c.t = 1000;
    expect(budget.available).toBe(0);
  });

  it('starts an empty window after a long idle gap', () => {
    const c = clock();
    const budget = new RetryBudget({ ratio: 0, minRetriesPerSecond: 1, ttlMs: 1000 }, c.now);
    expect(withdrawAll(budget)).toBe(1);
    c.t = 1_000_000;
    expect(withdrawAll(budget)).toBe(1);
  });

  it('applies a new ratio and floor at once, and starts afresh on a new ttl', () => {
    const c = clock();
    const budget = new RetryBudget({ ratio: 0, minRetriesPerSecond: 1, ttlMs: 10_000 }, c.now);
    expect(withdrawAll(budget)).toBe(10);
    budget.configure({ ratio: 0, minRetriesPerSecond: 3, ttlMs: 10_000 });
    expect(withdrawAll(budget)).toBe(20);
    budget.configure({ ratio: 0, minRetriesPerSecond: 3, ttlMs: 5000 });
    expect(withdrawAll(budget)).toBe(15);
  });

  it('reads performance.now by default, so fake timers drive it', () => {
    vi.useFakeTimers();
    const budget = new RetryBudget({ ratio: 0, minRetriesPerSecond: 1, ttlMs: 1000 });
    expect(withdrawAll(budget)).toBe(1);
    vi.advanceTimersByTime(1000);
    expect(withdrawAll(budget)).toBe(1);
  });

  describe('amplification bound', () => {
    const cfg: RetryBudgetConfig = { ratio: 0.2, minRetriesPerSecond: 10, ttlMs: 10_000 };

    it('with every request failing and wanting 3 retries, retries stay within ratio × requests + min × (T + ttl)', () => {
      const c = clock();
      const budget = new RetryBudget(cfg, c.now);
      const periodMs = 60_000;
      let requests = 0;
      let retries = 0;
      // 100 requests a second for 60 s; each retry fails too and wants another.
      for (c.t = 0; c.t < periodMs; c.t += 10) {
        budget.deposit();
        requests++;
        for (let r = 0; r < 3 && budget.tryWithdraw(); r++) retries++;
      }
      const limit = cfg.ratio * requests + (cfg.minRetriesPerSecond * (periodMs + cfg.ttlMs)) / 1000;
      expect(limit).toBe(bound(cfg, requests, periodMs));
      expect(retries).toBeLessThanOrEqual(limit);
      // And the budget is not stingier than promised: at least ratio × requests + min × T, less one window's slack.
      expect(retries).toBeGreaterThanOrEqual(cfg.ratio * requests + (cfg.minRetriesPerSecond * periodMs) / 1000 - 0.1 * (cfg.ratio * 1000 + 100));
    });

    it('holds for bursts timed at bucket edges', () => {
      const c = clock();
      const budget = new RetryBudget(cfg, c.now);
      const periodMs = 30_000;
      let requests = 0;
      let retries = 0;
      // A burst of requests at the end of each bucket, retries at the start of the next.
      for (let b = 0; b < 30; b++) {
        c.t = b * 1000 + 999;
        for (let i = 0; i < 500; i++) budget.deposit();
        requests += 500;
        c.t = b * 1000 + 1000;
        if (c.t < periodMs) retries += withdrawAll(budget);
      }
      expect(retries).toBeLessThanOrEqual(bound(cfg, requests, periodMs));
      expect(retries).toBeLessThanOrEqual(cfg.ratio * requests + (cfg.minRetriesPerSecond * (periodMs + cfg.ttlMs)) / 1000);
    });

    it('holds for random traffic over random periods (checked against the general formula)', () => {
      for (let seed = 1; seed <= 20; seed++) {
        const rand = seededRandom(seed);
        const c = clock(Math.floor(rand() * 100_000));
        const start = c.t;
        const config: RetryBudgetConfig = {
          ratio: Math.round(rand() * 100) / 100,
          minRetriesPerSecond: Math.floor(rand() * 20),
          ttlMs: 1000 + Math.floor(rand() * 9) * 1000,
        };
        const budget = new RetryBudget(config, c.now);
        const periodMs = Math.floor(rand() * 50_000) + 1;
        let requests = 0;
        let retries = 0;
        while (c.t - start < periodMs) {
          const burst = rand() < 0.1 ? 200 : 1 + Math.floor(rand() * 5);
          for (let i = 0; i < burst; i++) budget.deposit();
          requests += burst;
          const want = Math.floor(rand() * burst * 4);
          for (let i = 0; i < want && budget.tryWithdraw(); i++) retries++;
          c.t += 1 + Math.floor(rand() * 300);
        }
        expect(retries, `seed ${seed}`).toBeLessThanOrEqual(bound(config, requests, periodMs));
      }
    });
  });
});
