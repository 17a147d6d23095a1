/**
 * Priority/locality failover and panic mode, with Envoy's numbers.
 */
import { describe, expect, it } from 'vitest';
import { hashString } from '../../../src/balancer/hash.js';
import {
  buildLocalityPicker,
  isPanicking,
  type LocalityOptions,
} from '../../../src/balancer/locality.js';
import { ringHashPicker } from '../../../src/balancer/ring-hash.js';
import { roundRobinPicker } from '../../../src/balancer/round-robin.js';
import { seeded, TieredTestEndpoint } from './support.js';

type Tiered = TieredTestEndpoint;

const local: LocalityOptions = { localRegion: 'eu', localZone: 'eu-a', localityAware: true, panicThreshold: 50 };

/** `count` endpoints in one zone, the first `healthy` of them healthy. */
function zone(region: string, name: string, count: number, healthy = count, priority = 0): Tiered[] {
  return Array.from(
    { length: count },
    (_, i) => new TieredTestEndpoint(`${name}-${i}:80`, region, name, i < healthy, priority),
  );
}

/** Share of `n` picks that landed in each zone. */
function zoneShares(picker: { pick(hash?: number): Tiered | undefined }, n = 20_000): Map<string, number> {
  const shares = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const e = picker.pick();
    if (e === undefined) throw new Error('no endpoint');
    shares.set(e.zone, (shares.get(e.zone) ?? 0) + 1 / n);
  }
  return shares;
}

describe('locality failover', () => {
  it('keeps all traffic in the local zone while it is healthy', () => {
    const eps = [...zone('eu', 'eu-a', 3), ...zone('eu', 'eu-b', 3), ...zone('us', 'us-a', 3)];
    const picker = buildLocalityPicker(eps, roundRobinPicker, { random: seeded(1) }, local);
    expect(zoneShares(picker).get('eu-a')).toBeCloseTo(1, 10);
    expect(picker.panic).toBe(false);
    expect(picker.size).toBe(3);
    expect(picker.tiers.map((t) => [t.locality, t.load])).toEqual([
      ['zone', 100],
      ['region', 0],
      ['other', 0],
    ]);
  });

  it('moves traffic to the next zone in the region when the local zone has no healthy endpoint', () => {
    const eps = [...zone('eu', 'eu-a', 3, 0), ...zone('eu', 'eu-b', 3), ...zone('us', 'us-a', 3)];
    const picker = buildLocalityPicker(eps, roundRobinPicker, { random: seeded(2) }, { ...local, panicThreshold: 0 });
    expect(zoneShares(picker).get('eu-b')).toBeCloseTo(1, 10);
  });

  it('moves traffic out of the region when the whole region is down', () => {
    const eps = [...zone('eu', 'eu-a', 2, 0), ...zone('eu', 'eu-b', 2, 0), ...zone('us', 'us-a', 8)];
    const picker = buildLocalityPicker(eps, roundRobinPicker, { random: seeded(3) }, local);
    expect(picker.panic).toBe(false); // 8 of 12 healthy
    expect(zoneShares(picker).get('us-a')).toBeCloseTo(1, 10);
  });

  it('spills in proportion at partial health (health × 1.4 overprovisioning)', () => {
    // 3 of 5 local endpoints healthy: health 60% × 1.4 = 84%, so 84% stays
    // local and the 16% shortfall goes to the next zone.
    const eps = [...zone('eu', 'eu-a', 5, 3), ...zone('eu', 'eu-b', 5), ...zone('us', 'us-a', 5)];
    const picker = buildLocalityPicker(eps, roundRobinPicker, { random: seeded(4) }, local);
    expect(picker.tiers.map((t) => t.load)).toEqual([84, 16, 0]);
    const shares = zoneShares(picker, 100_000);
    expect(shares.get('eu-a')).toBeCloseTo(0.84, 2);
    expect(shares.get('eu-b')).toBeCloseTo(0.16, 2);
    expect(shares.get('us-a')).toBeUndefined();
  });

  it('keeps all traffic local while at least ~72% of the local zone is healthy', () => {
    const eps = [...zone('eu', 'eu-a', 4, 3), ...zone('eu', 'eu-b', 4)];
    const picker = buildLocalityPicker(eps, roundRobinPicker, { random: seeded(5) }, local);
    expect(picker.tiers.map((t) => t.load)).toEqual([100, 0]); // 75% × 1.4 ≥ 100%
  });

  it('scales loads up when all tiers together are under 100% health', () => {
    // Local 1/5 healthy (28%), next zone 1/5 healthy (28%): 56% in total,
    // so each gets 28 / 56 = half of the traffic.
    const eps = [...zone('eu', 'eu-a', 5, 1), ...zone('eu', 'eu-b', 5, 1)];
    const picker = buildLocalityPicker(eps, roundRobinPicker, { random: seeded(6) }, { ...local, panicThreshold: 0 });
    expect(picker.tiers.map((t) => t.load)).toEqual([50, 50]);
    const shares = zoneShares(picker);
    expect(shares.get('eu-a')).toBeCloseTo(0.5, 1);
  });

  it('orders by priority before locality', () => {
    const eps = [...zone('us', 'us-a', 2, 2, 0), ...zone('eu', 'eu-a', 2, 2, 1)];
    const picker = buildLocalityPicker(eps, roundRobinPicker, { random: seeded(7) }, local);
    expect(picker.tiers.map((t) => [t.priority, t.locality])).toEqual([
      [0, 'other'],
      [1, 'zone'],
    ]);
    expect(zoneShares(picker).get('us-a')).toBeCloseTo(1, 10);
  });

  it('ignores locality when not locality-aware, but still fails over by priority', () => {
    const eps = [...zone('eu', 'eu-a', 2), ...zone('us', 'us-a', 2), ...zone('ap', 'ap-a', 2, 2, 1)];
    const picker = buildLocalityPicker(eps, roundRobinPicker, { random: seeded(8) }, { ...local, localityAware: false });
    const shares = zoneShares(picker);
    expect(shares.get('eu-a')).toBeCloseTo(0.5, 10);
    expect(shares.get('us-a')).toBeCloseTo(0.5, 10);
    expect(picker.tiers.map((t) => t.locality)).toEqual(['any', 'any']);
  });

  it('treats an unknown local zone as matching nothing', () => {
    const eps = [...zone('', '', 2), ...zone('eu', 'eu-a', 2)];
    const picker = buildLocalityPicker(eps, roundRobinPicker, {}, { ...local, localRegion: '', localZone: '' });
    expect(picker.tiers.map((t) => t.locality)).toEqual(['other']);
  });

  it("fails over to the regions Istio's failover names, in order, before any other region", () => {
    const eps = [...zone('eu', 'eu-a', 2, 0), ...zone('us', 'us-a', 2), ...zone('ap', 'ap-a', 2), ...zone('sa', 'sa-a', 2)];
    const options = { ...local, panicThreshold: 0, failoverRegions: ['ap', 'sa'] };
    let picker = buildLocalityPicker(eps, roundRobinPicker, { random: seeded(9) }, options);
    expect(picker.tiers.map((t) => [t.locality, t.load])).toEqual([
      ['zone', 0],
      ['failover:ap', 100],
      ['failover:sa', 0],
      ['other', 0],
    ]);
    expect(zoneShares(picker).get('ap-a')).toBeCloseTo(1, 10);
    // The first failover region down too: the next one, still not us.
    const apDown = [...zone('eu', 'eu-a', 2, 0), ...zone('us', 'us-a', 2), ...zone('ap', 'ap-a', 2, 0), ...zone('sa', 'sa-a', 2)];
    picker = buildLocalityPicker(apDown, roundRobinPicker, { random: seeded(10) }, options);
    expect(zoneShares(picker).get('sa-a')).toBeCloseTo(1, 10);
    // Without failover, us, ap and sa are one "other" tier.
    picker = buildLocalityPicker(eps, roundRobinPicker, { random: seeded(11) }, { ...local, panicThreshold: 0 });
    expect(zoneShares(picker).get('us-a')).toBeCloseTo(1 / 3, 1);
    // Failing over from an unknown region means nothing: no local region to leave.
    picker = buildLocalityPicker(eps, roundRobinPicker, {}, { ...options, localRegion: '', localZone: '' });
    expect(picker.tiers.map((t) => t.locality)).toEqual(['other']);
    // The local region itself listed as a target changes nothing.
    picker = buildLocalityPicker(eps, roundRobinPicker, {}, { ...options, failoverRegions: ['eu', 'sa'] });
    expect(picker.tiers.map((t) => t.locality)).toEqual(['zone', 'failover:sa', 'other']);
  });

  it('orders by how many failoverPriority labels an endpoint shares with this process, as istiod does', () => {
    class Labelled extends TieredTestEndpoint {
      constructor(key: string, region: string, zoneName: string, readonly labels: Record<string, string>, healthy = true) {
        super(key, region, zoneName, healthy);
      }
    }
    const net = 'topology.istio.io/network';
    const region = 'topology.kubernetes.io/region';
    const eps = [
      new Labelled('a:1', 'eu', 'eu-a', { [net]: 'n1' }),
      new Labelled('b:1', 'us', 'us-a', { [net]: 'n1' }),
      new Labelled('c:1', 'eu', 'eu-b', { [net]: 'n2' }),
      new Labelled('d:1', 'eu', 'eu-c', {}),
    ];
    const options = { ...local, failoverLabels: [[net, 'n1'], [region, 'eu']] as const };
    const picker = buildLocalityPicker(eps, roundRobinPicker, {}, options);
    // a matches both, b only the network, c and d neither (the first label decides).
    expect(picker.tiers.map((t) => [t.locality, t.total, t.load])).toEqual([
      ['labels:2/2', 1, 100],
      ['labels:1/2', 1, 0],
      ['labels:0/2', 2, 0],
    ]);
    // A label this process lacks matches an endpoint that lacks it too ('' = ''), as in istiod.
    const bare = buildLocalityPicker(eps, roundRobinPicker, {}, { ...local, failoverLabels: [[net, '']] });
    expect(bare.tiers.map((t) => [t.locality, t.total])).toEqual([
      ['labels:1/1', 1],
      ['labels:0/1', 3],
    ]);
    // Not locality-aware: no ordering at all.
    expect(buildLocalityPicker(eps, roundRobinPicker, {}, { ...options, localityAware: false }).tiers.map((t) => t.locality)).toEqual(['any']);
  });

  it('sends a hashed request to the same endpoint every time, and spreads hashed keys over the tiers', () => {
    const eps = [...zone('eu', 'eu-a', 5, 3), ...zone('eu', 'eu-b', 5)];
    const picker = buildLocalityPicker(eps, ringHashPicker, { random: seeded(9) }, local);
    let local_ = 0;
    for (let i = 0; i < 10_000; i++) {
      const h = hashString(`user-${i}`);
      const e = picker.pick(h)!;
      expect(picker.pick(h)).toBe(e);
      if (e.zone === 'eu-a') local_++;
    }
    expect(local_ / 10_000).toBeCloseTo(0.84, 1);
  });
});

describe('panic threshold', () => {
  const mixed = () => zone('eu', 'eu-a', 10, 4); // 40% healthy

  it('balances across all endpoints, healthy or not, below the threshold', () => {
    const picker = buildLocalityPicker(mixed(), roundRobinPicker, { random: seeded(10) }, local);
    expect(picker.panic).toBe(true);
    expect(isPanicking(picker)).toBe(true);
    expect(picker.size).toBe(10);
    const seen = new Set<string>();
    let unhealthy = 0;
    for (let i = 0; i < 100; i++) {
      const e = picker.pick()!;
      seen.add(e.key);
      if (!e.healthy) unhealthy++;
    }
    expect(seen.size).toBe(10);
    expect(unhealthy).toBe(60);
  });

  it('ignores locality in panic mode', () => {
    const eps = [...zone('eu', 'eu-a', 5, 0), ...zone('us', 'us-a', 5, 1)]; // 10% healthy, us tier at 28%
    const picker = buildLocalityPicker(eps, roundRobinPicker, { random: seeded(11) }, local);
    expect(picker.panic).toBe(true);
    expect(zoneShares(picker).get('eu-a')).toBeCloseTo(0.5, 10);
  });

  it('does not panic while other tiers can take the load (Envoy: normalized health at 100%)', () => {
    // 10 dead local endpoints beside 3 healthy remote ones: 23% healthy overall,
    // below the threshold, but the remote tier alone is at 100% health.
    const eps = [...zone('eu', 'eu-a', 10, 0), ...zone('us', 'us-a', 3, 3)];
    const picker = buildLocalityPicker(eps, roundRobinPicker, { random: seeded(14) }, local);
    expect(picker.panic).toBe(false);
    for (let i = 0; i < 200; i++) expect(picker.pick()!.healthy).toBe(true);
  });

  it('uses only healthy endpoints at or above the threshold', () => {
    const eps = zone('eu', 'eu-a', 10, 5); // exactly 50%
    const picker = buildLocalityPicker(eps, roundRobinPicker, { random: seeded(12) }, local);
    expect(picker.panic).toBe(false);
    for (let i = 0; i < 100; i++) expect(picker.pick()!.healthy).toBe(true);
  });

  it('defaults to 50%', () => {
    const { panicThreshold: _, ...noThreshold } = local;
    expect(buildLocalityPicker(zone('eu', 'eu-a', 10, 4), roundRobinPicker, {}, noThreshold).panic).toBe(true);
    expect(buildLocalityPicker(zone('eu', 'eu-a', 10, 5), roundRobinPicker, {}, noThreshold).panic).toBe(false);
  });

  it('never panics at threshold 0: only healthy endpoints, and none at all when none is healthy', () => {
    const off = { ...local, panicThreshold: 0 };
    const some = buildLocalityPicker(mixed(), roundRobinPicker, { random: seeded(13) }, off);
    expect(some.panic).toBe(false);
    expect(some.size).toBe(4);
    for (let i = 0; i < 100; i++) expect(some.pick()!.healthy).toBe(true);
    const none = buildLocalityPicker(zone('eu', 'eu-a', 3, 0), roundRobinPicker, {}, off);
    expect(none.panic).toBe(false);
    expect(none.size).toBe(0);
    expect(none.pick()).toBeUndefined();
    expect(none.pick(123)).toBeUndefined();
  });

  it('panics when nothing is healthy and the threshold is above 0', () => {
    const picker = buildLocalityPicker(zone('eu', 'eu-a', 3, 0), roundRobinPicker, {}, local);
    expect(picker.panic).toBe(true);
    expect(picker.pick()).toBeDefined();
  });
});

describe('edge cases', () => {
  it('returns undefined from an empty set', () => {
    const picker = buildLocalityPicker([], roundRobinPicker, {}, local);
    expect(picker.pick()).toBeUndefined();
    expect(picker.size).toBe(0);
    expect(picker.panic).toBe(false);
  });

  it('works with a single endpoint', () => {
    const [only] = zone('eu', 'eu-b', 1);
    const picker = buildLocalityPicker([only!], roundRobinPicker, {}, local);
    for (let i = 0; i < 10; i++) expect(picker.pick()).toBe(only);
  });

  it('isPanicking is false for pickers that are not locality pickers', () => {
    expect(isPanicking(roundRobinPicker([], {}))).toBe(false);
  });
});
