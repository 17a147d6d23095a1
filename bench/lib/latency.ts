/** Percentiles of a perf_hooks histogram recorded in ns, as µs with one decimal. */
import type { RecordableHistogram } from 'node:perf_hooks';
import type { Latency } from './types.js';

export function latencyOf(h: RecordableHistogram): Latency {
  const us = (ns: number) => Math.round(ns / 100) / 10;
  if (h.count === 0) return { p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 };
  return {
    p50: us(h.percentile(50)),
    p90: us(h.percentile(90)),
    p99: us(h.percentile(99)),
    p999: us(h.percentile(99.9)),
    max: us(h.max),
    mean: us(h.mean),
  };
}
