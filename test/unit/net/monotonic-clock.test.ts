import { afterEach, expect, it, vi } from 'vitest';
import { monotonicNow, useClock } from '../../../src/net/monotonic-clock.js';

afterEach(() => {
  vi.useRealTimers();
  // Back to what test/setup/clock.ts installs for the rest of the suite.
  useClock({ now: () => globalThis.performance.now() });
});

it('reads perf_hooks by default, which fake timers leave alone', () => {
  useClock();
  vi.useFakeTimers({ toFake: ['performance'] });
  const before = monotonicNow();
  vi.advanceTimersByTime(60_000);
  const after = monotonicNow();
  expect(after).toBeGreaterThanOrEqual(before);
  // The faked global moved a minute; the real clock did not.
  expect(after - before).toBeLessThan(30_000);
  expect(globalThis.performance.now()).toBeGreaterThanOrEqual(60_000);
});

it('follows the source given to useClock, as the test setup does with the global', () => {
  vi.useFakeTimers({ toFake: ['performance'] });
  const before = monotonicNow();
  vi.advanceTimersByTime(60_000);
  expect(monotonicNow() - before).toBe(60_000);

  let t = 5;
  useClock({ now: () => t });
  expect(monotonicNow()).toBe(5);
  t = 7.5;
  expect(monotonicNow()).toBe(7.5);
});
