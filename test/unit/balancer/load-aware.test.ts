/**
 * Least-request and peak-EWMA against a slow replica, in a small
 * discrete-event simulation: virtual time, no timers, no sleeps.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { leastRequestPicker } from '../../../src/balancer/least-request.js';
import { PeakEwma, peakEwmaPicker, UNOBSERVED_PENDING_PENALTY } from '../../../src/balancer/peak-ewma.js';
import { randomPicker } from '../../../src/balancer/random.js';
import type { Picker } from '../../../src/balancer/types.js';
import { endpoints, seeded, type TestEndpoint } from './support.js';

interface Completion {
  at: number;
  sentAt: number;
  endpoint: TestEndpoint;
}

/** A binary min-heap of completions by time; the simulation's event queue. */
class Events {
  readonly #heap: Completion[] = [];
  get size(): number {
    return this.#heap.length;
  }
  peek(): Completion | undefined {
    return this.#heap[0];
  }
  push(c: Completion): void {
    const h = this.#heap;
    h.push(c);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]!.at <= c.at) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = c;
  }
  pop(): Completion | undefined {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= h.length) break;
      if (child + 1 < h.length && h[child + 1]!.at < h[child]!.at) child++;
      if (h[child]!.at >= last.at) break;
      h[i] = h[child]!;
      i = child;
    }
    h[i] = last;
    return top;
  }
}

/**
 * Three replicas; the third is 10× slower. Requests arrive as a Poisson
 * stream (mean gap `gapMs`); each picked endpoint holds its request for its
 * service time (±50% uniform jitter), and on completion its in-flight count
 * drops and its peak-EWMA observes the round trip. Returns each replica's
 * share of picks.
 */
function simulate(
  build: (eps: TestEndpoint[], clock: () => number) => Picker<TestEndpoint>,
  { requests = 20_000, gapMs = 2, seed = 42 } = {},
): number[] {
  const serviceMs = [10, 10, 100];
  const eps = endpoints(3);
  const random = seeded(seed);
  let now = 0;
  const picker = build(eps, () => now);
  const events = new Events();
  const picks = [0, 0, 0];
  const complete = (until: number) => {
    for (let next = events.peek(); next !== undefined && next.at <= until; next = events.peek()) {
      events.pop();
      now = next.at;
      next.endpoint.inFlight--;
      next.endpoint.ewma.observe(next.at - next.sentAt, next.at);
    }
  };
  for (let r = 0; r < requests; r++) {
    const arrival = now - Math.log(1 - random()) * gapMs;
    complete(arrival);
    now = arrival;
    const e = picker.pick()!;
    const i = eps.indexOf(e);
    picks[i]!++;
    e.inFlight++;
    events.push({ at: now + serviceMs[i]! * (0.5 + random()), sentAt: now, endpoint: e });
  }
  complete(Number.POSITIVE_INFINITY);
  for (const e of eps) expect(e.inFlight).toBe(0);
  return picks.map((p) => p / requests);
}

const fastShare = (shares: number[]) => shares[0]! + shares[1]!;

describe('with one replica of three 10× slower', () => {
  it('random (the control) sends the slow replica its third', () => {
    const shares = simulate((eps, _clock) => randomPicker(eps, { random: seeded(1) }));
    expect(fastShare(shares)).toBeLessThan(0.7);
  });

  it('least-request sends ≥ 80% of traffic to the fast replicas', () => {
    const shares = simulate((eps) => leastRequestPicker(eps, { random: seeded(2) }));
    expect(fastShare(shares)).toBeGreaterThanOrEqual(0.8);
  });

  it('peak-EWMA sends ≥ 80% of traffic to the fast replicas', () => {
    const shares = simulate((eps, clock) => peakEwmaPicker(eps, { random: seeded(3) }, clock));
    expect(fastShare(shares)).toBeGreaterThanOrEqual(0.8);
  });

  it('peak-EWMA avoids the slow replica even at light load, where in-flight counts say nothing', () => {
    // One request every 50 ms: in-flight is almost always 0 everywhere, so
    // least-request is a coin toss and only latency can tell replicas apart.
    const light = { requests: 5000, gapMs: 50 };
    const ewma = simulate((eps, clock) => peakEwmaPicker(eps, { random: seeded(4) }, clock), light);
    const least = simulate((eps) => leastRequestPicker(eps, { random: seeded(4) }), light);
    expect(fastShare(ewma)).toBeGreaterThanOrEqual(0.8);
    expect(fastShare(ewma)).toBeGreaterThan(fastShare(least));
  });
});

describe('least-request', () => {
  it('keeps in-flight counts level across equal endpoints (P2C)', () => {
    const eps = endpoints(10);
    const picker = leastRequestPicker(eps, { random: seeded(5) });
    for (let i = 0; i < 1000; i++) picker.pick()!.inFlight++;
    const counts = eps.map((e) => e.inFlight);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(3);
  });

  it('never picks the busier of two endpoints', () => {
    const [a, b] = endpoints(2);
    a!.inFlight = 5;
    const picker = leastRequestPicker([a!, b!], { random: seeded(6) });
    for (let i = 0; i < 100; i++) expect(picker.pick()).toBe(b);
  });
});

describe('PeakEwma', () => {
  it('costs 0 before any response', () => {
    expect(new PeakEwma().cost(1000)).toBe(0);
  });

  it('jumps up to a slower response at once', () => {
    const ewma = new PeakEwma();
    ewma.observe(10, 0);
    ewma.observe(200, 1);
    expect(ewma.cost(1)).toBe(200);
  });

  it('moves towards a faster response with weight exp(-elapsed / tau)', () => {
    const ewma = new PeakEwma(1000);
    ewma.observe(100, 0);
    ewma.observe(10, 1000);
    const w = Math.exp(-1);
    expect(ewma.cost(1000)).toBeCloseTo(100 * w + 10 * (1 - w), 10);
    // Frequent fast samples converge on the fast latency.
    for (let t = 1010; t < 20_000; t += 10) ewma.observe(10, t);
    expect(ewma.cost(20_000)).toBeCloseTo(10, 0);
  });

  it('decays towards 0 while idle, so a once-slow replica is retried', () => {
    const ewma = new PeakEwma();
    ewma.observe(100, 0);
    expect(ewma.cost(10_000)).toBeCloseTo(100 * Math.exp(-1), 10);
    expect(ewma.cost(10_000)).toBe(ewma.cost(10_000)); // reading does not move it
    expect(new PeakEwma().tau).toBe(10_000);
  });

  it('still counts a response faster than the clock resolution as an observation', () => {
    const ewma = new PeakEwma();
    ewma.observe(0, 5);
    expect(ewma.cost(5)).toBeGreaterThan(0);
  });

  it('rejects a decay time that is not positive', () => {
    expect(() => new PeakEwma(0)).toThrow(RangeError);
  });
});

describe('peak-EWMA picker', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('probes a new endpoint once, and not again until it answers', () => {
    const [known, fresh] = endpoints(2);
    known!.ewma.observe(10, 0);
    const picker = peakEwmaPicker([known!, fresh!], { random: seeded(7) }, () => 1);
    expect(picker.pick()).toBe(fresh); // cost 0: nothing known, nothing pending
    fresh!.inFlight++;
    for (let i = 0; i < 50; i++) expect(picker.pick()).toBe(known); // penalty while the probe is out
    fresh!.inFlight--;
    fresh!.ewma.observe(5, 1);
    expect(picker.pick()).toBe(fresh); // answered, and faster
  });

  it('orders unknown endpoints with pending requests by load', () => {
    const [a, b] = endpoints(2);
    a!.inFlight = 3;
    b!.inFlight = 1;
    const picker = peakEwmaPicker([a!, b!], { random: seeded(8) }, () => 0);
    for (let i = 0; i < 20; i++) expect(picker.pick()).toBe(b);
    expect(UNOBSERVED_PENDING_PENALTY).toBeGreaterThan(1e9);
  });

  it('reads performance.now() at most once per pick', () => {
    const spy = vi.spyOn(performance, 'now');
    const eps = endpoints(5);
    eps.forEach((e, i) => {
      e.ewma.observe(10 + i, 0);
    });
    const picker = peakEwmaPicker(eps, { random: seeded(9) });
    for (let i = 0; i < 100; i++) picker.pick();
    expect(spy.mock.calls.length).toBeLessThanOrEqual(100);
    expect(spy.mock.calls.length).toBeGreaterThan(0);
  });
});
