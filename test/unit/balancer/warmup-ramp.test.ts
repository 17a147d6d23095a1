/**
 * Slow start: Envoy's weight curve, who counts as new (joined after the
 * first ready set, window started when ready), and the ramp's own timer,
 * which steps while anything warms and stops when nothing does.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type WarmingEndpoint, WarmupRamp, warmupFactor } from '../../../src/balancer/warmup-ramp.js';
import { effectiveWarmup, warmupIssues } from '../../../src/config/warmup-schema.js';

describe('warmupFactor', () => {
  it("follows Envoy's curve: max(minimum, (max(age, 1 s) / window) ^ (1 / aggression))", () => {
    const linear = { duration: 100_000 };
    expect(warmupFactor(0, linear)).toBe(0.1); // 1 s / 100 s = 1%, under the 10% floor
    expect(warmupFactor(25_000, linear)).toBeCloseTo(0.25, 12);
    expect(warmupFactor(50_000, linear)).toBeCloseTo(0.5, 12);
    expect(warmupFactor(99_999, linear)).toBeCloseTo(0.99999, 12);
    expect(warmupFactor(100_000, linear)).toBe(1);
    expect(warmupFactor(1e9, linear)).toBe(1);
    // The first second counts as a whole one, so a window of a second or less never ramps.
    expect(warmupFactor(0, { duration: 1_000 })).toBe(1);

    // Aggression 2 ramps faster at first (square root), 0.5 slower (square).
    expect(warmupFactor(25_000, { duration: 100_000, aggression: 2 })).toBeCloseTo(0.5, 12);
    expect(warmupFactor(50_000, { duration: 100_000, aggression: 0.5 })).toBeCloseTo(0.25, 12);

    // The floor holds whatever the curve says; 0 lets the curve start from the first second's share.
    expect(warmupFactor(20_000, { duration: 100_000, aggression: 0.5, minimumPercent: 30 })).toBeCloseTo(0.3, 12);
    expect(warmupFactor(0, { duration: 10_000, minimumPercent: 0 })).toBeCloseTo(0.1, 12);
    expect(warmupFactor(0, { duration: 100_000, minimumPercent: 0 })).toBeCloseTo(0.01, 12);
  });

  it('never leaves (0, 1]', () => {
    for (const duration of [1, 999, 1_000, 60_000]) {
      for (const aggression of [0.01, 0.5, 1, 3, 100]) {
        for (const minimumPercent of [0, 10, 100]) {
          for (const age of [0, 1, 500, 1_000, 30_000, 59_999, 60_000]) {
            const f = warmupFactor(age, { duration, aggression, minimumPercent });
            expect(f).toBeGreaterThan(0);
            expect(f).toBeLessThanOrEqual(1);
          }
        }
      }
    }
  });
});

function ep(key: string, ready = true): WarmingEndpoint {
  return { key, ready, warmth: 1 };
}

describe('WarmupRamp', () => {
  const warmup = { duration: 10_000 };
  let step: ReturnType<typeof vi.fn<() => void>>;
  let ramp: WarmupRamp;

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    step = vi.fn<() => void>();
    ramp = new WarmupRamp(step);
  });
  afterEach(() => {
    ramp.close();
    vi.useRealTimers();
  });

  it('leaves the first ready set at full weight and ramps one that joins later', () => {
    const a = ep('a');
    const b = ep('b');
    ramp.apply([a, b], warmup, 0);
    expect([a.warmth, b.warmth]).toEqual([1, 1]);
    expect(vi.getTimerCount()).toBe(0);

    const c = ep('c');
    ramp.apply([a, b, c], warmup, 3_000);
    expect([a.warmth, b.warmth]).toEqual([1, 1]);
    expect(c.warmth).toBe(0.1);

    ramp.apply([a, b, c], warmup, 8_000);
    expect(c.warmth).toBeCloseTo(0.5, 12);
    ramp.apply([a, b, c], warmup, 13_000);
    expect(c.warmth).toBe(1);
  });

  it('starts the window when an endpoint becomes ready, not when it is listed', () => {
    ramp.apply([ep('a')], warmup, 0);
    const late = ep('b', false);
    ramp.apply([ep('a'), late], warmup, 1_000);
    expect(late.warmth).toBe(1); // not ready: no picker gets it, and its clock has not started
    const ready = ep('b');
    ramp.apply([ep('a'), ready], warmup, 60_000);
    expect(ready.warmth).toBe(0.1);
    // Its window runs from 60 s, when it became ready: halfway at 65 s.
    ramp.apply([ep('a'), ready], warmup, 65_000);
    expect(ready.warmth).toBeCloseTo(0.5, 12);
  });

  it('does not count a first set with nothing ready as the established one', () => {
    ramp.apply([], warmup, 0);
    ramp.apply([ep('a', false)], warmup, 1_000);
    const a = ep('a');
    ramp.apply([a], warmup, 2_000);
    expect(a.warmth).toBe(1);
  });

  it('warms an endpoint again after it left, or stopped being ready, and came back', () => {
    ramp.apply([ep('a'), ep('b')], warmup, 0);
    ramp.apply([ep('a')], warmup, 1_000);
    const back = ep('b');
    ramp.apply([ep('a'), back], warmup, 2_000);
    expect(back.warmth).toBe(0.1);

    ramp.apply([ep('a'), ep('b')], warmup, 20_000);
    ramp.apply([ep('a'), ep('b', false)], warmup, 21_000);
    const again = ep('b');
    ramp.apply([ep('a'), again], warmup, 22_000);
    expect(again.warmth).toBe(0.1);
  });

  it('gives every endpoint its full weight with no warmup, yet still notes who is new', () => {
    ramp.apply([ep('a')], undefined, 0);
    const b = ep('b');
    ramp.apply([ep('a'), b], undefined, 1_000);
    expect(b.warmth).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
    // Warmup turned on 2 s later: b is 2 s into its window.
    ramp.apply([ep('a'), b], { duration: 4_000 }, 3_000);
    expect(b.warmth).toBeCloseTo(0.5, 12);
  });

  it('steps while an endpoint warms, lands on the end of its window, then stops', () => {
    ramp.apply([ep('a')], warmup, 0);
    const b = ep('b');
    let now = 0;
    step.mockImplementation(() => ramp.apply([ep('a'), b], warmup, now));
    ramp.apply([ep('a'), b], warmup, now);
    // 20 steps a window: every 500 ms for 10 s.
    const seen: number[] = [];
    for (let i = 0; i < 25 && vi.getTimerCount() > 0; i++) {
      now += 500;
      vi.advanceTimersByTime(500);
      seen.push(b.warmth);
    }
    expect(step).toHaveBeenCalledTimes(20);
    expect(seen.at(-1)).toBe(1);
    expect(seen[9]).toBeCloseTo(0.5, 12);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThanOrEqual(seen[i - 1]!);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps its steps between 250 ms and 5 s, and shortens the last one to end on time', () => {
    ramp.apply([ep('a')], { duration: 600_000 }, 0);
    ramp.apply([ep('a'), ep('b')], { duration: 600_000 }, 0);
    vi.advanceTimersByTime(4_999);
    expect(step).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(step).toHaveBeenCalledTimes(1);

    const short = new WarmupRamp(step);
    // 3 s / 20 would be 150 ms. (A window of 1 s or less never ramps: Envoy counts the first second as a whole one.)
    short.apply([ep('a')], { duration: 3_000 }, 0);
    short.apply([ep('a'), ep('b')], { duration: 3_000 }, 0);
    step.mockClear();
    vi.advanceTimersByTime(249);
    expect(step).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(step).toHaveBeenCalledTimes(1);
    short.close();

    // 10 s window, joined at 0, applied again at 9.8 s: the next step is at 10 s, not 10.3 s.
    const last = new WarmupRamp(step);
    last.apply([ep('a')], warmup, 0);
    last.apply([ep('a'), ep('b')], warmup, 0);
    last.apply([ep('a'), ep('b')], warmup, 9_800);
    step.mockClear();
    vi.advanceTimersByTime(200);
    expect(step).toHaveBeenCalledTimes(1);
    last.close();
  });

  it('close() cancels the next step', () => {
    ramp.apply([ep('a')], warmup, 0);
    ramp.apply([ep('a'), ep('b')], warmup, 0);
    expect(vi.getTimerCount()).toBe(1);
    ramp.close();
    vi.advanceTimersByTime(60_000);
    expect(step).not.toHaveBeenCalled();
  });
});

describe('which services warm', () => {
  const w = { duration: 30_000 };

  it("takes the service's warmup over the mesh's, and the mesh's only where every picker can ramp", () => {
    const mesh = { policy: 'peak-ewma', warmup: w };
    expect(effectiveWarmup(mesh, {})).toEqual(w);
    expect(effectiveWarmup(mesh, { loadBalancer: { warmup: { duration: 5_000 } } })).toEqual({ duration: 5_000 });
    expect(effectiveWarmup(mesh, { loadBalancer: { policy: 'ring-hash' } })).toBeUndefined();
    expect(effectiveWarmup(mesh, { subsets: { v1: { loadBalancer: { policy: 'maglev' } } } })).toBeUndefined();
    expect(effectiveWarmup(mesh, { loadBalancer: { policy: 'acme.fewest' } })).toBeUndefined();
    for (const policy of ['round-robin', 'least-request', 'random', 'peak-ewma']) {
      expect(effectiveWarmup({ policy }, { loadBalancer: { policy, warmup: w } })).toEqual(w);
    }
    expect(effectiveWarmup({ policy: 'peak-ewma' }, {})).toBeUndefined();
  });

  it("refuses a subset's own warmup, and a service's beside a picker that hashes", () => {
    const issues = warmupIssues({
      mesh: { loadBalancer: { policy: 'peak-ewma', warmup: w } },
      services: {
        carts: { loadBalancer: { policy: 'ring-hash', warmup: w } },
        users: { loadBalancer: { warmup: w }, subsets: { v2: { loadBalancer: { policy: 'maglev' } } } },
        orders: { subsets: { v1: { loadBalancer: { warmup: w } } } },
        // Inherited from the mesh: a default, skipped where it cannot apply.
        search: { loadBalancer: { policy: 'ring-hash' } },
      },
    });
    expect(issues).toEqual([
      {
        path: ['services', 'carts', 'loadBalancer', 'warmup'],
        message: expect.stringContaining(`the service's policy "ring-hash" cannot ramp`),
      },
      {
        path: ['services', 'users', 'loadBalancer', 'warmup'],
        message: expect.stringContaining('subset "v2" uses "maglev", which cannot ramp'),
      },
      {
        path: ['services', 'orders', 'subsets', 'v1', 'loadBalancer', 'warmup'],
        message: expect.stringContaining('move it to services.orders.loadBalancer.warmup'),
      },
    ]);
  });
});
