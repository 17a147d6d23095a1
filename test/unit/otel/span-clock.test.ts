import { afterEach, describe, expect, it, vi } from 'vitest';
import { monotonicNow } from '../../../src/net/monotonic-clock.js';
import { epochOffset, hrDifference, toHrTime, toPerfMs } from '../../../src/otel/span-clock.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('span clock', () => {
  it('turns milliseconds into [seconds, nanoseconds], carrying a rounded-up second', () => {
    expect(toHrTime(1_500.25)).toEqual([1, 500_250_000]);
    expect(toHrTime(1_999.9999999)).toEqual([2, 0]);
    expect(hrDifference([5, 100], [3, 200])).toEqual([1, 999_999_900]);
  });

  it('reads a TimeInput as the SDK does: a number up to now is a monotonic reading, a larger one epoch ms', () => {
    const now = monotonicNow();
    const offset = epochOffset(now);
    expect(toPerfMs(now - 5, now, offset)).toBe(now - 5);
    const epoch = Date.now() - 5;
    expect(toPerfMs(epoch, now, offset)).toBeCloseTo(epoch - offset, 6);
    expect(toPerfMs(new Date(epoch), now, offset)).toBeCloseTo(epoch - offset, 6);
    expect(toPerfMs([Math.floor(epoch / 1000), (epoch % 1000) * 1e6], now, offset)).toBeCloseTo(epoch - offset, 3);
  });

  it('maps the monotonic clock onto the wall clock to within a couple of milliseconds', () => {
    const now = monotonicNow();
    expect(Math.abs(now + epochOffset(now) - Date.now())).toBeLessThanOrEqual(2);
  });

  it('follows a step of the wall clock at its next check, a second later at most, and not before', () => {
    // Readings of the monotonic clock made up ahead of the real one, so the checks fall where the test wants.
    const t1 = monotonicNow() + 10_000;
    const before = epochOffset(t1);
    const real = Date.now;
    vi.spyOn(Date, 'now').mockImplementation(() => real() + 60_000);
    // Within the second after a check the offset stands.
    expect(epochOffset(t1 + 500)).toBe(before);
    // The next check sees the step: the same instant now reads 60 s later on the wall clock.
    const t2 = t1 + 1_001;
    expect(t2 + epochOffset(t2) - (t1 + before)).toBeGreaterThanOrEqual(60_000);
    expect(t2 + epochOffset(t2) - (t1 + before)).toBeLessThan(61_100);
  });
});
