/**
 * How late the event loop runs, for load shedding: a proxy cannot see this,
 * an in-process mesh can. One monitor per process (perf_hooks'
 * monitorEventLoopDelay), shared by every mesh that asks, started on first
 * use and stopped when the last user lets go.
 *
 * Two readings, the larger wins:
 * - the recent p99 of the monitor's histogram, sampled every SAMPLE_MS;
 * - the stall in progress: how long ago the sampling timer last ran. A
 *   handler that blocks the loop delays every request read in the same
 *   turn, and the histogram only learns of it on the next turn; the stall
 *   reading sees it while that turn is still going.
 *
 * Both timers are unref'd: they never keep a finished process alive.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { monotonicNow } from '../net/monotonic-clock.js';

type IntervalHistogram = ReturnType<typeof monitorEventLoopDelay>;

const SAMPLE_MS = 50;
const RESOLUTION_MS = 10;

interface Shared {
  readonly histogram: IntervalHistogram;
  readonly timer: NodeJS.Timeout;
  users: number;
  delayMs: number;
  lastTick: number;
}

let shared: Shared | undefined;

function tick(s: Shared): void {
  s.lastTick = monotonicNow();
  s.delayMs = s.histogram.count > 0 ? s.histogram.percentile(99) / 1e6 : 0;
  s.histogram.reset();
}

/** A handle on the shared monitor; release() it when done. */
export interface LoopDelay {
  /** The current event-loop delay estimate, in ms. */
  delayMs(): number;
  release(): void;
}

export function acquireLoopDelay(): LoopDelay {
  if (shared === undefined) {
    const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    histogram.enable();
    const s: Shared = { histogram, timer: setInterval(() => tick(s), SAMPLE_MS), users: 0, delayMs: 0, lastTick: monotonicNow() };
    s.timer.unref();
    shared = s;
  }
  const s = shared;
  s.users++;
  let released = false;
  return {
    delayMs: () => Math.max(s.delayMs, monotonicNow() - s.lastTick - SAMPLE_MS),
    release: () => {
      if (released) return;
      released = true;
      if (--s.users > 0) return;
      clearInterval(s.timer);
      s.histogram.disable();
      if (shared === s) shared = undefined;
    },
  };
}
