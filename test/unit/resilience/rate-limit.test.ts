import { afterEach, describe, expect, it, vi } from 'vitest';
import { TokenBucket } from '../../../src/resilience/rate-limit.js';

afterEach(() => {
  vi.useRealTimers();
});

function setup(maxTokens: number, tokensPerFill: number, fillIntervalMs: number) {
  const c = { t: 1000 };
  const bucket = new TokenBucket({ maxTokens, tokensPerFill, fillIntervalMs }, () => c.t);
  return { c, bucket };
}

function takeAll(bucket: TokenBucket): number {
  let n = 0;
  while (bucket.tryTake()) n++;
  return n;
}

describe('TokenBucket', () => {
  it('starts full and refuses once empty', () => {
    const { bucket } = setup(5, 5, 1000);
    expect(bucket.tokens).toBe(5);
    expect(takeAll(bucket)).toBe(5);
    expect(bucket.tryTake()).toBe(false);
    expect(bucket.tokens).toBe(0);
  });

  it('refills only at whole fill intervals, as Envoy does', () => {
    const { c, bucket } = setup(10, 3, 1000);
    takeAll(bucket);
    c.t += 999;
    expect(bucket.tryTake()).toBe(false);
    c.t += 1;
    expect(takeAll(bucket)).toBe(3);
  });

  it('adds every missed interval at once, up to the capacity', () => {
    const { c, bucket } = setup(10, 3, 1000);
    takeAll(bucket);
    c.t += 2500;
    expect(bucket.tokens).toBe(6);
    c.t += 1_000_000;
    expect(bucket.tokens).toBe(10);
  });

  it('keeps its fill phase: a read mid-interval does not delay the next fill', () => {
    const { c, bucket } = setup(10, 1, 1000);
    takeAll(bucket);
    c.t += 1500;
    expect(takeAll(bucket)).toBe(1);
    c.t += 500; // 2000 ms after the bucket emptied: the second fill is due
    expect(takeAll(bucket)).toBe(1);
  });

  it('holds the rate over a long run', () => {
    const { c, bucket } = setup(100, 100, 1000);
    let taken = 0;
    // Ask for far more than the limit, every 7 ms for 10 s.
    for (let i = 0; i < 10_000 / 7; i++) {
      for (let j = 0; j < 5; j++) if (bucket.tryTake()) taken++;
      c.t += 7;
    }
    // The initial 100 plus 100 per whole second elapsed (9 full fills before 10 s).
    expect(taken).toBe(100 + 9 * 100);
  });

  it('configure changes the rate at once and clamps tokens to a smaller capacity', () => {
    const { c, bucket } = setup(10, 10, 1000);
    bucket.configure({ maxTokens: 4, tokensPerFill: 2, fillIntervalMs: 500 });
    expect(bucket.tokens).toBe(4);
    takeAll(bucket);
    c.t += 500;
    expect(bucket.tokens).toBe(2);
  });

  it('reads performance.now by default, so fake timers drive it', () => {
    vi.useFakeTimers();
    const bucket = new TokenBucket({ maxTokens: 1, tokensPerFill: 1, fillIntervalMs: 100 });
    expect(bucket.tryTake()).toBe(true);
    expect(bucket.tryTake()).toBe(false);
    vi.advanceTimersByTime(100);
    expect(bucket.tryTake()).toBe(true);
  });
});
