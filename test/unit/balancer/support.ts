/**
 * Shared fixtures for the balancer tests: a seeded RNG (so every run draws
 * the same numbers and a failure reproduces) and a mutable endpoint whose
 * live counters the tests drive by hand.
 */

import type { TieredEndpoint } from '../../../src/balancer/locality.js';
import { PeakEwma } from '../../../src/balancer/peak-ewma.js';
import type { BalancedEndpoint } from '../../../src/balancer/types.js';

/** mulberry32: tiny, fast, and good enough for test draws in [0, 1). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class TestEndpoint implements BalancedEndpoint {
  inFlight = 0;
  readonly ewma = new PeakEwma();
  constructor(
    readonly key: string,
    readonly weight = 1,
  ) {}
  latencyCost(now: number): number {
    return this.ewma.cost(now);
  }
}

/** An endpoint in a locality and priority, as the locality picker sees it; `localityWeight` as a control plane may write it. */
export class TieredTestEndpoint extends TestEndpoint implements TieredEndpoint {
  localityWeight: number | undefined;
  constructor(
    key: string,
    readonly region: string,
    readonly zone: string,
    readonly healthy = true,
    readonly priority = 0,
  ) {
    super(key);
  }
}

export function endpoints(n: number, weight: (i: number) => number = () => 1, prefix = '10.0'): TestEndpoint[] {
  return Array.from({ length: n }, (_, i) => new TestEndpoint(`${prefix}.${i >> 8}.${i & 255}:8080`, weight(i)));
}

/** How many times each endpoint was returned, by key. */
export function tally(picks: Iterable<BalancedEndpoint | undefined>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of picks) {
    if (e === undefined) throw new Error('picker returned undefined');
    counts.set(e.key, (counts.get(e.key) ?? 0) + 1);
  }
  return counts;
}

export function* times<T>(n: number, f: (i: number) => T): Generator<T> {
  for (let i = 0; i < n; i++) yield f(i);
}

/** Largest relative deviation of observed shares from weight shares (0.05 = ±5%). */
export function worstWeightError(counts: Map<string, number>, eps: readonly BalancedEndpoint[], picks: number): number {
  const total = eps.reduce((s, e) => s + e.weight, 0);
  let worst = 0;
  for (const e of eps) {
    const expected = (picks * e.weight) / total;
    worst = Math.max(worst, Math.abs((counts.get(e.key) ?? 0) - expected) / expected);
  }
  return worst;
}
