import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeadlineWheel, sharedWheel, type TimerEntry } from '../../../src/resilience/deadline-wheel.js';
import { seededRandom } from '../../helpers/seeded-random.js';

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** Records the fake clock's time at each firing, by label. */
function recorder() {
  const fired: Array<[string, number]> = [];
  const at = (label: string) => () => {
    fired.push([label, performance.now()]);
  };
  return { fired, at };
}

describe('DeadlineWheel', () => {
  it('fires an entry at its time, not before, using the faked performance.now by default', () => {
    const wheel = new DeadlineWheel();
    const { fired, at } = recorder();
    const t0 = performance.now();
    wheel.schedule(t0 + 100, at('a'));
    vi.advanceTimersByTime(99);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual([['a', t0 + 100]]);
    expect(wheel.size).toBe(0);
  });

  it('fires entries in deadline order, ties in scheduling order', () => {
    const wheel = new DeadlineWheel();
    const { fired, at } = recorder();
    const t0 = performance.now();
    wheel.schedule(t0 + 30, at('c'));
    wheel.schedule(t0 + 10, at('a'));
    wheel.schedule(t0 + 20, at('b1'));
    wheel.schedule(t0 + 20, at('b2'));
    vi.advanceTimersByTime(50);
    expect(fired.map(([l]) => l)).toEqual(['a', 'b1', 'b2', 'c']);
    expect(fired.map(([, t]) => t - t0)).toEqual([10, 20, 20, 30]);
  });

  it('fires every due entry in one timer callback', () => {
    const wheel = new DeadlineWheel();
    const { fired, at } = recorder();
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) wheel.schedule(t0 + 10, at(`e${i}`));
    vi.advanceTimersByTime(10);
    expect(fired).toHaveLength(5);
  });

  it('uses one Node timer for any number of entries', () => {
    const wheel = new DeadlineWheel();
    const t0 = performance.now();
    for (let i = 0; i < 1000; i++) wheel.schedule(t0 + 1000 + i, () => {});
    expect(vi.getTimerCount()).toBe(1);
    expect(wheel.size).toBe(1000);
  });

  it('re-arms only for an entry due more than 1 ms before the armed one', () => {
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const wheel = new DeadlineWheel();
    const { fired, at } = recorder();
    const t0 = performance.now();
    wheel.schedule(t0 + 100, at('first'));
    expect(spy).toHaveBeenCalledTimes(1);
    wheel.schedule(t0 + 200, at('later'));
    wheel.schedule(t0 + 99.5, at('coalesced'));
    expect(spy).toHaveBeenCalledTimes(1);
    wheel.schedule(t0 + 50, at('earlier'));
    expect(spy).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(100);
    // The coalesced entry rides the timer armed for 100: at most 1 ms late, never early.
    expect(fired).toEqual([
      ['earlier', t0 + 50],
      ['coalesced', t0 + 100],
      ['first', t0 + 100],
    ]);
  });

  it('wakes once for a fractional deadline, never early', () => {
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const wheel = new DeadlineWheel();
    const fn = vi.fn();
    const t0 = performance.now();
    wheel.schedule(t0 + 10.5, fn);
    vi.advanceTimersByTime(10);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(spy).toHaveBeenCalledTimes(1);
  });

  it('unrefs its timer so it never keeps the process alive', () => {
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const wheel = new DeadlineWheel();
    wheel.schedule(performance.now() + 10, () => {});
    const handle = spy.mock.results[0]?.value as NodeJS.Timeout;
    expect(handle.hasRef()).toBe(false);
  });

  it('does not fire a cancelled entry, and cancel is idempotent', () => {
    const wheel = new DeadlineWheel();
    const { fired, at } = recorder();
    const t0 = performance.now();
    const a = wheel.schedule(t0 + 10, at('a'));
    wheel.schedule(t0 + 20, at('b'));
    a.cancel();
    a.cancel();
    expect(wheel.size).toBe(1);
    vi.advanceTimersByTime(30);
    expect(fired.map(([l]) => l)).toEqual(['b']);
    expect(wheel.size).toBe(0);
  });

  it('compacts when cancelled entries pass half the heap, so memory follows live entries', () => {
    const wheel = new DeadlineWheel();
    const t0 = performance.now();
    const entries: TimerEntry[] = [];
    for (let i = 0; i < 1000; i++) entries.push(wheel.schedule(t0 + 10_000 + i, () => {}));
    for (let i = 0; i < 900; i++) entries[i]!.cancel();
    expect(wheel.size).toBe(100);
    // Once compacted, the remaining entries still fire, in order, and nothing else does.
    const fired: number[] = [];
    for (let i = 900; i < 1000; i++) {
      entries[i]!.cancel();
      entries[i] = wheel.schedule(t0 + 10_000 + i, () => fired.push(i));
    }
    vi.advanceTimersByTime(20_000);
    expect(fired).toEqual(Array.from({ length: 100 }, (_, k) => 900 + k));
    expect(wheel.size).toBe(0);
  });

  it('releases the timer when every entry is cancelled', () => {
    const wheel = new DeadlineWheel();
    const e = wheel.schedule(performance.now() + 1000, () => {});
    expect(vi.getTimerCount()).toBe(1);
    e.cancel();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('cancelling after firing is a no-op', () => {
    const wheel = new DeadlineWheel();
    const e = wheel.schedule(performance.now() + 5, () => {});
    vi.advanceTimersByTime(5);
    e.cancel();
    expect(wheel.size).toBe(0);
    const fn = vi.fn();
    wheel.schedule(performance.now() + 5, fn);
    vi.advanceTimersByTime(5);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('passes the entry, with its context, to the callback', () => {
    const wheel = new DeadlineWheel();
    const seen: unknown[] = [];
    const onFire = (entry: TimerEntry<{ id: number }>) => seen.push(entry.context.id);
    const e1 = wheel.schedule(performance.now() + 1, onFire, { id: 1 });
    wheel.schedule(performance.now() + 2, onFire, { id: 2 });
    expect(e1.context).toEqual({ id: 1 });
    vi.advanceTimersByTime(2);
    expect(seen).toEqual([1, 2]);
  });

  it('fires an entry whose time has already passed on the next tick', () => {
    const wheel = new DeadlineWheel();
    const fn = vi.fn();
    wheel.schedule(performance.now() - 50, fn);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(0);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('lets a callback schedule and cancel other entries', () => {
    const wheel = new DeadlineWheel();
    const { fired, at } = recorder();
    const t0 = performance.now();
    const victim = wheel.schedule(t0 + 10, at('victim'));
    wheel.schedule(t0 + 10, at('x'));
    const order: string[] = [];
    wheel.schedule(t0 + 5, () => {
      order.push('canceller');
      victim.cancel();
      wheel.schedule(t0 + 20, at('child'));
    });
    vi.advanceTimersByTime(20);
    expect(order).toEqual(['canceller']);
    expect(fired.map(([l, t]) => [l, t - t0])).toEqual([
      ['x', 10],
      ['child', 20],
    ]);
  });

  it('defers an entry a callback schedules for "now" to the next tick instead of looping', () => {
    const wheel = new DeadlineWheel();
    let runs = 0;
    const again = (): void => {
      runs++;
      // Bounded, so a wheel that loops fails this test instead of hanging it.
      if (runs < 100) wheel.schedule(performance.now(), again);
    };
    wheel.schedule(performance.now() + 1, again);
    vi.advanceTimersByTime(1);
    expect(runs).toBe(1);
    vi.advanceTimersByTime(1);
    expect(runs).toBeGreaterThanOrEqual(2);
    expect(runs).toBeLessThanOrEqual(3);
  });

  it('still fires the other due entries when one callback throws, then surfaces the error', () => {
    const wheel = new DeadlineWheel();
    const t0 = performance.now();
    const after = vi.fn();
    wheel.schedule(t0 + 10, () => {
      throw new Error('boom');
    });
    wheel.schedule(t0 + 10, after);
    wheel.schedule(t0 + 50, after);
    expect(() => vi.advanceTimersByTime(10)).toThrow('boom');
    expect(after).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(40);
    expect(after).toHaveBeenCalledTimes(2);
  });

  it('honours an injected clock', () => {
    let now = 1_000_000;
    const wheel = new DeadlineWheel({ now: () => now });
    const fn = vi.fn();
    wheel.schedule(now + 30, fn);
    now += 30;
    vi.advanceTimersByTime(30);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('waits again when the timer fires before the injected clock reaches the deadline', () => {
    let now = 0;
    const wheel = new DeadlineWheel({ now: () => now });
    const fn = vi.fn();
    wheel.schedule(30, fn);
    vi.advanceTimersByTime(30);
    expect(fn).not.toHaveBeenCalled();
    now = 30;
    vi.advanceTimersByTime(30);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('close drops every entry, clears its timer and refuses new ones', () => {
    const wheel = new DeadlineWheel();
    const fn = vi.fn();
    const e = wheel.schedule(performance.now() + 10, fn);
    wheel.close();
    expect(wheel.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    e.cancel();
    vi.advanceTimersByTime(100);
    expect(fn).not.toHaveBeenCalled();
    expect(() => wheel.schedule(performance.now() + 10, fn)).toThrow(expect.objectContaining({ code: 'MESH_CLOSED' }));
  });

  it('stops firing mid-tick when a callback closes the wheel', () => {
    const wheel = new DeadlineWheel();
    const t0 = performance.now();
    const later = vi.fn();
    wheel.schedule(t0 + 10, () => wheel.close());
    wheel.schedule(t0 + 10, later);
    vi.advanceTimersByTime(10);
    expect(later).not.toHaveBeenCalled();
  });

  it('matches a brute-force model under random schedules and cancels', () => {
    const rand = seededRandom(42);
    const wheel = new DeadlineWheel();
    const t0 = performance.now();
    const fired: number[] = [];
    const expected: Array<{ id: number; at: number; live: boolean }> = [];
    const entries: TimerEntry[] = [];
    for (let id = 0; id < 500; id++) {
      const at = t0 + Math.floor(rand() * 1000);
      expected.push({ id, at, live: true });
      entries.push(wheel.schedule(at, () => fired.push(id)));
      if (rand() < 0.6) {
        const victim = Math.floor(rand() * entries.length);
        entries[victim]!.cancel();
        expected[victim]!.live = false;
      }
    }
    expect(wheel.size).toBe(expected.filter((e) => e.live).length);
    vi.advanceTimersByTime(1000);
    const want = expected
      .filter((e) => e.live)
      .sort((a, b) => a.at - b.at || a.id - b.id)
      .map((e) => e.id);
    expect(fired).toEqual(want);
  });
  it('matches the model while firing, cancelling and scheduling interleave over many compactions', () => {
    // A burst, then steady churn: pops, compactions and new entries interleave.
    const rand = seededRandom(7);
    const wheel = new DeadlineWheel();
    const t0 = performance.now();
    const firedAt = new Map<number, number>();
    const due = new Map<number, number>();
    const entries: TimerEntry[] = [];
    for (let id = 0; id < 6000; id++) {
      // A burst of 3,000 first, then one new entry per millisecond.
      if (id >= 3000) vi.advanceTimersByTime(1);
      const at = performance.now() - t0 + 5 + Math.floor(rand() * 200);
      due.set(id, at);
      entries.push(
        wheel.schedule(t0 + at, () => {
          expect(firedAt.has(id)).toBe(false);
          firedAt.set(id, performance.now() - t0);
        }),
      );
      if (rand() < 0.7) {
        const victim = Math.floor(rand() * entries.length);
        entries[victim]!.cancel();
        // Cancelling an entry that already fired changes nothing.
        if (!firedAt.has(victim)) due.delete(victim);
      }
    }
    vi.advanceTimersByTime(1000);
    expect([...firedAt.keys()].sort((a, b) => a - b)).toEqual([...due.keys()].sort((a, b) => a - b));
    // Each at its time, never before it, and at most the coalescing millisecond (plus rounding) after.
    for (const [id, at] of due) {
      expect(firedAt.get(id)!).toBeGreaterThanOrEqual(at);
      expect(firedAt.get(id)!).toBeLessThanOrEqual(at + 2);
    }
    expect(wheel.size).toBe(0);
  });
});

describe('sharedWheel', () => {
  it('is one lazily created wheel, replaced once closed', () => {
    const a = sharedWheel();
    expect(sharedWheel()).toBe(a);
    a.close();
    const b = sharedWheel();
    expect(b).not.toBe(a);
    expect(b.closed).toBe(false);
  });
});
