import { describe, expect, it } from 'vitest';
import { PoolLimits } from '../../../src/resilience/pool-limits.js';

describe('PoolLimits', () => {
  it('admits requests up to maxRequests and again after one ends', () => {
    const limits = new PoolLimits({ maxRequests: 2 });
    expect(limits.tryAdmitRequest()).toBe(true);
    expect(limits.tryAdmitRequest()).toBe(true);
    expect(limits.tryAdmitRequest()).toBe(false);
    expect(limits.active).toBe(2);
    limits.endRequest();
    expect(limits.active).toBe(1);
    expect(limits.tryAdmitRequest()).toBe(true);
  });

  it('limits pending requests and retries separately', () => {
    const limits = new PoolLimits({ maxPendingRequests: 1, maxRetries: 1 });
    expect(limits.tryAdmitPending()).toBe(true);
    expect(limits.tryAdmitPending()).toBe(false);
    expect(limits.tryAdmitRetry()).toBe(true);
    expect(limits.tryAdmitRetry()).toBe(false);
    expect(limits.tryAdmitRequest()).toBe(true);
    limits.endPending();
    limits.endRetry();
    expect(limits.pending).toBe(0);
    expect(limits.retries).toBe(0);
    expect(limits.tryAdmitPending()).toBe(true);
    expect(limits.tryAdmitRetry()).toBe(true);
  });

  it('treats an unset limit as unlimited', () => {
    const limits = new PoolLimits({});
    for (let i = 0; i < 100_000; i++) {
      expect(limits.tryAdmitRequest()).toBe(true);
      expect(limits.tryAdmitPending()).toBe(true);
      expect(limits.tryAdmitRetry()).toBe(true);
    }
    expect([limits.active, limits.pending, limits.retries]).toEqual([100_000, 100_000, 100_000]);
  });

  it('never lets a counter go below zero', () => {
    const limits = new PoolLimits({ maxRequests: 1, maxPendingRequests: 1, maxRetries: 1 });
    limits.endRequest();
    limits.endPending();
    limits.endRetry();
    expect([limits.active, limits.pending, limits.retries]).toEqual([0, 0, 0]);
    expect(limits.tryAdmitRequest()).toBe(true);
    expect(limits.tryAdmitRequest()).toBe(false);
  });

  it('applies new limits to the next admission and keeps calls already admitted', () => {
    const limits = new PoolLimits({ maxRequests: 3 });
    limits.tryAdmitRequest();
    limits.tryAdmitRequest();
    limits.configure({ maxRequests: 1 });
    expect(limits.active).toBe(2);
    expect(limits.tryAdmitRequest()).toBe(false);
    limits.endRequest();
    limits.endRequest();
    expect(limits.tryAdmitRequest()).toBe(true);
    limits.configure({});
    expect(limits.tryAdmitRequest()).toBe(true);
  });
});
