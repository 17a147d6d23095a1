/**
 * The mesh's monotonic clock, in milliseconds: deadlines, durations,
 * budgets, breakers, outlier ejections and latency estimates all read it,
 * so they agree with each other.
 *
 * It reads perf_hooks' `performance`, not the global one. Node defines the
 * global `performance` as a lazy accessor, so every read of it is an
 * inline-cache miss and a getter call (~180 instructions under callgrind),
 * and a request read it three to five times.
 *
 * Fake timers replace only the global. The test suite's setup file
 * (test/setup/clock.ts) points the clock at the global with useClock(), so
 * tests that fake `performance` drive every clock of the mesh.
 */
import { performance as nodePerformance } from 'node:perf_hooks';

export interface ClockSource {
  now(): number;
}

let source: ClockSource = nodePerformance;
let latest = 0;

/** Milliseconds since an arbitrary origin; never goes backwards. */
export function monotonicNow(): number {
  latest = source.now();
  return latest;
}

/**
 * The latest reading monotonicNow() returned, without reading the clock:
 * any time a caller got from it is no later than this. The span recorder
 * uses it to tell a time the mesh read from an epoch time without a read
 * of its own.
 */
export function latestReading(): number {
  return latest;
}

/** @internal Reads `clock` from now on; without an argument, perf_hooks' clock again. */
export function useClock(clock?: ClockSource): void {
  source = clock ?? nodePerformance;
  latest = 0;
}
