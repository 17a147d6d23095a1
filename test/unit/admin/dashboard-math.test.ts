/**
 * The dashboard's arithmetic, compiled from the very source the page embeds.
 * `quantile` must agree with Prometheus' histogram_quantile.
 */
import { expect, test } from 'vitest';
import { DASHBOARD_MATH } from '../../../src/admin/dashboard-math.js';

interface Snapshot {
  t: number;
  requests: number;
  errors: number;
  buckets: number[];
  le: number[];
}
interface Math {
  quantile(q: number, le: number[], counts: number[]): number | null;
  delta(before: number[], after: number[]): number[];
  windowPoint(base: Snapshot, cur: Snapshot, qs: number[]): { t: number; rps: number; err: number | null; q: (number | null)[] } | null;
}
const m = new Function(`${DASHBOARD_MATH}\nreturn { quantile, delta, windowPoint };`)() as Math;

const LE = [1, 5, 10, 50];

test('interpolates linearly inside the bucket holding the rank', () => {
  // 10 in (0,1], 10 in (1,5], 20 in (5,10]: the median (rank 20) is the top of (1,5].
  const counts = [10, 20, 40, 40, 40];
  expect(m.quantile(0.5, LE, counts)).toBe(5);
  expect(m.quantile(0.25, LE, counts)).toBe(1);
  expect(m.quantile(0.75, LE, counts)).toBe(7.5);
  // The first bucket's lower edge is 0.
  expect(m.quantile(0.1, LE, counts)).toBeCloseTo(0.4);
});

test('a rank in +Inf answers the highest finite bound; no observations answer null', () => {
  expect(m.quantile(0.99, LE, [0, 0, 0, 1, 10])).toBe(50);
  expect(m.quantile(0.5, LE, [0, 0, 0, 0, 0])).toBeNull();
  expect(m.quantile(0.5, [], [3])).toBeNull();
});

test('delta subtracts bucket by bucket, and a counter reset restarts from the new counts', () => {
  expect(m.delta([1, 2, 3], [2, 4, 9])).toEqual([1, 2, 6]);
  expect(m.delta([5, 6, 7], [1, 1, 2])).toEqual([1, 1, 2]);
});

test('windowPoint turns two cumulative snapshots into rate, error share and percentiles', () => {
  const base = { t: 10_000, requests: 100, errors: 5, buckets: [50, 90, 100, 100, 100], le: LE };
  const cur = { t: 15_000, requests: 150, errors: 10, buckets: [50, 90, 130, 150, 150], le: LE };
  const p = m.windowPoint(base, cur, [0.5, 0.9]);
  expect(p).toEqual({ t: 15_000, rps: 10, err: 0.1, q: [expect.any(Number), expect.any(Number)] });
  // The 50 new requests: 30 in (5,10], 20 in (10,50]: p50 (rank 25) interpolates in (5,10].
  expect(p?.q[0]).toBeCloseTo(5 + 5 * (25 / 30));
  expect(p?.q[1]).toBeCloseTo(10 + 40 * (15 / 20));
  expect(m.windowPoint(cur, cur, [0.5])).toBeNull();
  const idle = m.windowPoint(cur, { ...cur, t: 16_000 }, [0.5]);
  expect(idle).toEqual({ t: 16_000, rps: 0, err: null, q: [null] });
});
