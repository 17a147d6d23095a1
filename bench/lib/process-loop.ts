/**
 * The closed loop a bench client process runs: `concurrency` callers
 * sending one request after another, a warm-up, then a measured run of a
 * fixed number of requests. Read in the process itself: its CPU per
 * request, its GC pause per request (perf_hooks 'gc' entries; a process in
 * V8's pretenuring mode pauses ~10 times longer) and its req/s.
 */
import { PerformanceObserver } from 'node:perf_hooks';

export interface LoopReading {
  readonly cpuUs: number;
  /** The kernel's part of cpuUs (socket reads and writes, epoll): callgrind's instruction counts leave it out. */
  readonly systemUs: number;
  readonly gcPauseUs: number;
  readonly rps: number;
  /**
   * Minor page faults per 1,000 requests: kernel time that no system call
   * shows, mostly V8 growing its young generation page by page.
   */
  readonly faultsPerK: number;
  /** Context switches (voluntary + involuntary) per 1,000 requests: how often the loop slept or was preempted. */
  readonly switchesPerK: number;
}

/** `total` requests from `concurrency` callers, each sending one after another. */
export async function runLoop(once: () => Promise<void>, total: number, concurrency = 50): Promise<void> {
  let sent = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (sent++ < total) await once();
    }),
  );
}

export async function measureLoop(once: () => Promise<void>, warmup: number, total: number, concurrency = 50): Promise<LoopReading> {
  await runLoop(once, warmup, concurrency);
  let pauseMs = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) pauseMs += entry.duration;
  });
  observer.observe({ entryTypes: ['gc'] });
  const cpu = process.cpuUsage();
  const before = process.resourceUsage();
  const started = performance.now();
  await runLoop(once, total, concurrency);
  const elapsed = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const after = process.resourceUsage();
  observer.disconnect();
  const perK = (n: number) => (n * 1000) / total;
  return {
    cpuUs: (used.user + used.system) / total,
    systemUs: used.system / total,
    gcPauseUs: (pauseMs * 1000) / total,
    rps: (total * 1000) / elapsed,
    faultsPerK: perK(after.minorPageFault - before.minorPageFault),
    switchesPerK: perK(after.voluntaryContextSwitches - before.voluntaryContextSwitches + after.involuntaryContextSwitches - before.involuntaryContextSwitches),
  };
}
