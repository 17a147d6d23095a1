import { describe, expect, it } from 'vitest';
import { LatencyWindow } from '../../../src/resilience/latency-window.js';

function recordAll(w: LatencyWindow, values: readonly number[]): void {
  for (const v of values) w.record(v);
}

describe('LatencyWindow', () => {
  it('has no quantile until it holds minSamples', () => {
    const w = new LatencyWindow({ minSamples: 20 });
    recordAll(w, Array.from({ length: 19 }, (_, i) => i));
    expect(w.quantile(0.95)).toBeUndefined();
    w.record(19);
    expect(w.quantile(0.95)).toBe(18);
  });

  it('reads the nearest-rank quantile', () => {
    const w = new LatencyWindow({ minSamples: 1 });
    // 1..100 in shuffled order
    recordAll(w, Array.from({ length: 100 }, (_, i) => ((i * 37) % 100) + 1));
    expect(w.quantile(0.95)).toBe(95);
    expect(w.quantile(0.5)).toBe(50);
    expect(w.quantile(0)).toBe(1);
    expect(w.quantile(1)).toBe(100);
  });

  it('keeps only the most recent capacity samples', () => {
    const w = new LatencyWindow({ capacity: 10, minSamples: 1, recomputeEvery: 1 });
    recordAll(w, Array.from({ length: 10 }, () => 1000));
    recordAll(w, Array.from({ length: 10 }, (_, i) => i + 1));
    expect(w.count).toBe(10);
    expect(w.quantile(1)).toBe(10);
    expect(w.quantile(0.5)).toBe(5);
  });

  it('re-sorts at most every recomputeEvery records', () => {
    const w = new LatencyWindow({ capacity: 512, minSamples: 20, recomputeEvery: 64 });
    recordAll(w, Array.from({ length: 20 }, () => 10));
    expect(w.quantile(0.95)).toBe(10);
    recordAll(w, Array.from({ length: 63 }, () => 500));
    // 63 new records since the last sort: the cached snapshot still answers.
    expect(w.quantile(0.95)).toBe(10);
    w.record(500);
    expect(w.quantile(0.95)).toBe(500);
  });

  it('ignores samples that are not a finite, non-negative number', () => {
    const w = new LatencyWindow({ minSamples: 1 });
    recordAll(w, [Number.NaN, -1, Number.POSITIVE_INFINITY]);
    expect(w.count).toBe(0);
    w.record(7);
    expect(w.quantile(0.95)).toBe(7);
  });

  it('defaults to 512 samples, 20 minimum', () => {
    const w = new LatencyWindow();
    recordAll(w, Array.from({ length: 600 }, (_, i) => i));
    expect(w.count).toBe(512);
    // Samples 88..599 remain; nearest rank for 0.95 of 512 is the 487th.
    expect(w.quantile(0.95)).toBe(88 + 486);
  });
});
