import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  budgetFromHeaders,
  currentDeadline,
  DEADLINE_HEADER,
  deadlineFromBudget,
  formatGrpcTimeout,
  remainingMs,
  runWithDeadline,
  withDeadline,
} from '../../../src/resilience/deadline-context.js';

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

function headers(h: Record<string, string>): (name: string) => string | undefined {
  return (name) => h[name];
}

describe('withDeadline', () => {
  it('has no deadline outside any scope', () => {
    expect(currentDeadline()).toBeUndefined();
  });

  it('sets a deadline timeoutMs from now, visible inside fn only', () => {
    const t0 = performance.now();
    const seen = withDeadline(250, () => currentDeadline());
    expect(seen).toEqual({ at: t0 + 250, source: 'timeout' });
    expect(currentDeadline()).toBeUndefined();
  });

  it('returns what fn returns', () => {
    expect(withDeadline(10, () => 42)).toBe(42);
  });

  it('keeps the earlier deadline when nested: an inner timeout never extends the outer one', () => {
    const t0 = performance.now();
    withDeadline(100, () => {
      expect(withDeadline(500, () => currentDeadline()?.at)).toBe(t0 + 100);
      expect(withDeadline(30, () => currentDeadline()?.at)).toBe(t0 + 30);
      expect(currentDeadline()?.at).toBe(t0 + 100);
    });
  });

  it('carries the deadline across awaits and timers', async () => {
    const t0 = performance.now();
    const result = withDeadline(1000, async () => {
      await Promise.resolve();
      await new Promise<void>((resolve) => setTimeout(resolve, 10));
      return currentDeadline()?.at;
    });
    await vi.advanceTimersByTimeAsync(10);
    expect(await result).toBe(t0 + 1000);
  });

  it('adds no deadline for an infinite timeout, and keeps an outer one', () => {
    expect(withDeadline(Number.POSITIVE_INFINITY, () => currentDeadline())).toBeUndefined();
    const t0 = performance.now();
    withDeadline(100, () => {
      expect(withDeadline(Number.POSITIVE_INFINITY, () => currentDeadline()?.at)).toBe(t0 + 100);
    });
  });

  it('rejects a NaN timeout', () => {
    expect(() => withDeadline(Number.NaN, () => 1)).toThrow(expect.objectContaining({ code: 'MESH_INVALID_ARGUMENT' }));
  });
});

describe('runWithDeadline', () => {
  it('sets exactly the given deadline, even a later one than the current', () => {
    withDeadline(10, () => {
      const later = { at: performance.now() + 1000, source: 'inherited' } as const;
      expect(runWithDeadline(later, () => currentDeadline())).toBe(later);
    });
  });

  it('clears the deadline when given undefined', () => {
    withDeadline(10, () => {
      expect(runWithDeadline(undefined, () => currentDeadline())).toBeUndefined();
    });
  });

  it('runs fn when there is no deadline anywhere', () => {
    expect(runWithDeadline(undefined, () => 'ran')).toBe('ran');
  });
});

describe('deadlineFromBudget and remainingMs', () => {
  it('turns an inbound budget into an inherited deadline and back into whole ms', () => {
    const d = deadlineFromBudget(500, 1000);
    expect(d).toEqual({ at: 1500, source: 'inherited' });
    expect(remainingMs(d, 1200.7)).toBe(299);
    expect(remainingMs(d, 2000)).toBe(0);
  });
});

describe('budgetFromHeaders', () => {
  it(`reads ${DEADLINE_HEADER} first`, () => {
    expect(budgetFromHeaders(headers({ 'x-mesh-timeout-ms': '1500', 'grpc-timeout': '1S' }))).toBe(1500);
  });

  it('accepts 0 (the caller has no time left)', () => {
    expect(budgetFromHeaders(headers({ 'x-mesh-timeout-ms': '0' }))).toBe(0);
  });

  it.each([
    ['2H', 7_200_000],
    ['3M', 180_000],
    ['4S', 4000],
    ['250m', 250],
    ['1500u', 1.5],
    ['2000000n', 2],
    ['99999999m', 99_999_999],
  ])('reads grpc-timeout %s as %d ms', (value, ms) => {
    expect(budgetFromHeaders(headers({ 'grpc-timeout': value }))).toBe(ms);
  });

  it('falls back to x-envoy-expected-rq-timeout-ms', () => {
    expect(budgetFromHeaders(headers({ 'x-envoy-expected-rq-timeout-ms': '750' }))).toBe(750);
  });

  it('returns undefined with none of the headers', () => {
    expect(budgetFromHeaders(headers({ 'content-type': 'text/plain' }))).toBeUndefined();
  });

  it.each([
    ['x-mesh-timeout-ms', '-5'],
    ['x-mesh-timeout-ms', '1.5'],
    ['x-mesh-timeout-ms', '10s'],
    ['x-mesh-timeout-ms', ''],
    ['x-mesh-timeout-ms', '1234567890123456'],
    ['grpc-timeout', '100'],
    ['grpc-timeout', '123456789S'],
    ['grpc-timeout', '5s'],
    ['grpc-timeout', 'S'],
    ['grpc-timeout', '-1S'],
    ['x-envoy-expected-rq-timeout-ms', 'soon'],
  ])('ignores malformed %s: %j', (name, value) => {
    expect(budgetFromHeaders(headers({ [name]: value }))).toBeUndefined();
  });

  it('skips a malformed header and reads the next one in order', () => {
    expect(budgetFromHeaders(headers({ 'x-mesh-timeout-ms': 'abc', 'grpc-timeout': '2S' }))).toBe(2000);
    expect(budgetFromHeaders(headers({ 'grpc-timeout': 'bad', 'x-envoy-expected-rq-timeout-ms': '300' }))).toBe(300);
  });

  it('tolerates surrounding whitespace', () => {
    expect(budgetFromHeaders(headers({ 'x-mesh-timeout-ms': ' 42 ' }))).toBe(42);
  });
});

describe('formatGrpcTimeout', () => {
  it.each([
    [2000, '2S'],
    [7_200_000, '2H'],
    [180_000, '3M'],
    [1500, '1500m'],
    [250, '250m'],
    [1.5, '1500u'],
    [0.000_002, '2n'],
    [0.3, '300u'],
    [2.675, '2675u'],
    [100_000_000, '100000S'],
    [10_000_000_000, '10000000S'],
  ])('formats %d ms as %s', (ms, text) => {
    expect(formatGrpcTimeout(ms)).toBe(text);
  });

  it('rounds up to the finest unit that fits when no unit is exact', () => {
    // 123456.7891234 ms = 123456789123.4 ns: too many digits for n and u; m rounds up.
    expect(formatGrpcTimeout(123_456.789_123_4)).toBe('123457m');
    expect(formatGrpcTimeout(1e-9)).toBe('1n');
  });

  it('writes no more than 8 digits, capping at 99999999H', () => {
    expect(formatGrpcTimeout(1e30)).toBe('99999999H');
    expect(formatGrpcTimeout(Number.POSITIVE_INFINITY)).toBe('99999999H');
    for (const ms of [0.123456789, 12345.678901, 98765432.1, 123456789012]) {
      expect(formatGrpcTimeout(ms)).toMatch(/^\d{1,8}[HMSmun]$/);
    }
  });

  it('writes 0n for no time left', () => {
    expect(formatGrpcTimeout(0)).toBe('0n');
    expect(formatGrpcTimeout(-5)).toBe('0n');
    expect(formatGrpcTimeout(Number.NaN)).toBe('0n');
  });

  it('round-trips through budgetFromHeaders', () => {
    for (const ms of [1, 2.5, 1000, 59_000, 3_600_000, 0.25, 86_400_000]) {
      expect(budgetFromHeaders(headers({ 'grpc-timeout': formatGrpcTimeout(ms) }))).toBeCloseTo(ms, 9);
    }
  });
});
