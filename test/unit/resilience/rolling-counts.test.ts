import { describe, expect, it } from 'vitest';
import { RollingCounts } from '../../../src/resilience/rolling-counts.js';

describe('RollingCounts', () => {
  it('sums both counters over the window', () => {
    const w = new RollingCounts(1000, 10);
    w.roll(0);
    w.add(1, 0);
    w.roll(450);
    w.add(2, 1);
    expect([w.a, w.b]).toEqual([3, 1]);
  });

  it('drops each bucket as it leaves the window', () => {
    const w = new RollingCounts(1000, 10);
    for (let t = 0; t < 1000; t += 100) {
      w.roll(t);
      w.add(1, 1);
    }
    expect(w.a).toBe(10);
    w.roll(1000);
    expect(w.a).toBe(9);
    w.roll(1350);
    expect(w.a).toBe(6);
    w.roll(5000);
    expect([w.a, w.b]).toEqual([0, 0]);
  });

  it('keeps counting into the newest bucket if the clock steps back', () => {
    const w = new RollingCounts(1000, 10);
    w.roll(500);
    w.add(1, 0);
    w.roll(100);
    w.add(1, 0);
    w.roll(1499);
    expect(w.a).toBe(2);
    w.roll(1500);
    expect(w.a).toBe(0);
  });

  it('handles a clock that starts below zero', () => {
    const w = new RollingCounts(1000, 10);
    w.roll(-250);
    w.add(1, 0);
    w.roll(0);
    w.add(1, 0);
    expect(w.a).toBe(2);
    // -250 falls in the bucket [-300, -200), which leaves the window at 700.
    w.roll(699);
    expect(w.a).toBe(2);
    w.roll(700);
    expect(w.a).toBe(1);
  });

  it('starts empty on a new span, and keeps counts when the span is unchanged', () => {
    const w = new RollingCounts(1000, 10);
    w.roll(0);
    w.add(5, 5);
    w.setSpan(1000);
    expect(w.a).toBe(5);
    w.setSpan(2000);
    expect([w.a, w.b]).toEqual([0, 0]);
  });
});
