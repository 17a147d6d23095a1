import { afterEach, describe, expect, it, vi } from 'vitest';
import { latestReading, monotonicNow, useClock } from '../../../src/net/monotonic-clock.js';
import { epochOffset, hrDifference, toHrTime, toPerfMs } from '../../../src/otel/span-clock.js';

afterEach(() => {
  vi.restoreAllMocks();
  // Back to the clock the test setup gives every test (test/setup/clock.ts).
  useClock({ now: () => globalThis.performance.now() });
});

describe('span clock', () => {
  it('turns milliseconds into [seconds, nanoseconds], carrying a rounded-up second', () => {
    expect(toHrTime(1_500.25)).toEqual([1, 500_250_000]);
    expect(toHrTime(1_999.9999999)).toEqual([2, 0]);
    expect(hrDifference([5, 100], [3, 200])).toEqual([1, 999_999_900]);
  });

  it('reads a TimeInput as the SDK does: a number up to now is a monotonic reading, a larger one epoch ms', () => {
    const now = monotonicNow();
    const offset = epochOffset();
    expect(toPerfMs(now - 5, offset)).toBe(now - 5);
    const epoch = Date.now() - 5;
    expect(toPerfMs(epoch, offset)).toBeCloseTo(epoch - offset, 6);
    expect(toPerfMs(new Date(epoch), offset)).toBeCloseTo(epoch - offset, 6);
    expect(toPerfMs([Math.floor(epoch / 1000), (epoch % 1000) * 1e6], offset)).toBeCloseTo(epoch - offset, 3);
  });

  it('reads the clock for a number past the latest reading, and not for one before it', () => {
    let t = 5_000;
    let reads = 0;
    useClock({
      now: () => {
        reads++;
        return t;
      },
    });
    monotonicNow();
    const offset = epochOffset();
    expect(latestReading()).toBe(5_000);
    reads = 0;
    // The mesh's own times are readings already taken: no read to place them.
    expect(toPerfMs(4_999, offset)).toBe(4_999);
    expect(reads).toBe(0);
    // Later than the latest reading but not than now: a performance timestamp still, learned by one read.
    t = 6_000;
    expect(toPerfMs(5_500, offset)).toBe(5_500);
    expect(reads).toBe(1);
    // Later than now: epoch milliseconds.
    expect(toPerfMs(7_000, offset)).toBe(7_000 - offset);
  });

  it('maps the monotonic clock onto the wall clock to within a couple of milliseconds', () => {
    const now = monotonicNow();
    expect(Math.abs(now + epochOffset() - Date.now())).toBeLessThanOrEqual(2);
  });

  it('follows a step of the wall clock at its next check, a second later at most, and not before', () => {
    // A clock the test moves, so the checks fall where the test wants.
    let t = monotonicNow() + 10_000;
    useClock({ now: () => t });
    const t1 = monotonicNow();
    const before = epochOffset();
    const real = Date.now;
    vi.spyOn(Date, 'now').mockImplementation(() => real() + 60_000);
    // Within the second after a check the offset stands.
    t = t1 + 500;
    monotonicNow();
    expect(epochOffset()).toBe(before);
    // The next check sees the step: the same instant now reads 60 s later on the wall clock.
    t = t1 + 1_001;
    monotonicNow();
    expect(t + epochOffset() - (t1 + before)).toBeGreaterThanOrEqual(60_000);
    expect(t + epochOffset() - (t1 + before)).toBeLessThan(61_100);
  });
});
