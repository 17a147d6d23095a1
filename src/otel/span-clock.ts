/**
 * Span times for the mesh's span recorder. A span keeps two readings of
 * the mesh's monotonic clock (perf_hooks' `performance.now()`) and the epoch offset of its start: its
 * duration is exact on the monotonic clock, and its timestamps are
 * converted to the SDK's `[seconds, nanoseconds]` only when an exporter
 * reads them, off the request path.
 *
 * The offset between the monotonic clock and the wall clock drifts (NTP
 * steps the wall clock; the monotonic one never jumps). The SDK reads
 * `Date.now()` at every span start for that; here the offset is
 * re-measured at most once a second (of the mesh's clock, as last read by
 * anyone: see latestReading()) and adopted only when it has moved by a
 * millisecond or more, so spans from one second line up to the microsecond
 * with each other, and all within about two milliseconds of the wall clock
 * (`Date.now()` counts whole milliseconds). A step of the wall clock reaches
 * new spans within a second.
 */
import { performance } from 'node:perf_hooks';
import type { HrTime, TimeInput } from '@opentelemetry/api';
import { latestReading, monotonicNow } from '../net/monotonic-clock.js';

const ORIGIN = performance.timeOrigin;
const RECHECK_MS = 1000;
/** Measured on the first span, not at import. */
let offset = Number.NaN;
let measuredAt = Number.POSITIVE_INFINITY;
let nextCheck = Number.NEGATIVE_INFINITY;

/** Epoch ms = a monotonicNow() reading + epochOffset(). */
export function epochOffset(): number {
  const latest = latestReading();
  // A reading before the last measurement means another clock source (useClock, in tests): measure again.
  if (latest >= nextCheck || latest < measuredAt) {
    // A fresh reading: the latest may be old, and the offset is measured against it.
    const perfNow = monotonicNow();
    measuredAt = perfNow;
    nextCheck = perfNow + RECHECK_MS;
    const measured = Date.now() - (ORIGIN + perfNow);
    // Negated so the first measurement (against NaN) is adopted too.
    if (!(Math.abs(measured - offset) < 1)) offset = measured;
  }
  return ORIGIN + offset;
}

/** Milliseconds (epoch or relative) as the SDK's HrTime. */
export function toHrTime(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.round((ms - seconds * 1000) * 1e6);
  // Rounding can land on a full second.
  return nanos >= 1e9 ? [seconds + 1, nanos - 1e9] : [seconds, nanos];
}

/**
 * A TimeInput as a monotonic clock reading, read the SDK's way: a number
 * no later than now is a performance timestamp, a larger one epoch
 * milliseconds; a Date or an HrTime is epoch time. A number no later than
 * the latest reading is decided without reading the clock: the mesh's own
 * times all are.
 */
export function toPerfMs(input: TimeInput, epochOffsetMs: number): number {
  if (typeof input === 'number') return input <= latestReading() || input <= monotonicNow() ? input : input - epochOffsetMs;
  if (input instanceof Date) return input.getTime() - epochOffsetMs;
  return input[0] * 1000 + input[1] / 1e6 - epochOffsetMs;
}

/** The api's TimeInput: a number, a Date or an HrTime pair. */
export function isTimeInput(v: unknown): v is TimeInput {
  return typeof v === 'number' || v instanceof Date || (Array.isArray(v) && v.length === 2 && typeof v[0] === 'number' && typeof v[1] === 'number');
}

export function isHrTime(v: TimeInput): v is HrTime {
  return Array.isArray(v);
}

/** `a - b` for two HrTimes. */
export function hrDifference(a: HrTime, b: HrTime): HrTime {
  let seconds = a[0] - b[0];
  let nanos = a[1] - b[1];
  if (nanos < 0) {
    seconds -= 1;
    nanos += 1e9;
  }
  return [seconds, nanos];
}
