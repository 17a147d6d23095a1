/**
 * `distribute`: locality patterns, the rule a client's locality picks, how
 * a share is split between the localities it names, and the picker that
 * shares a priority out by weight × health.
 */
import { describe, expect, it } from 'vitest';
import { failoverOptions } from '../../../src/balancer/failover-options.js';
import { buildLocalityPicker, type LocalityOptions, } from '../../../src/balancer/locality.js';
import { type DistributeRule, distributedWeights, parseLocalityPattern, sharesFor } from '../../../src/balancer/locality-distribution.js';
import { roundRobinPicker } from '../../../src/balancer/round-robin.js';
import { seeded, TieredTestEndpoint } from './support.js';

type Placed = TieredTestEndpoint;

/** `zone(...)` with a control plane's written locality weight. */
function weighed(list: Placed[], weight: number): Placed[] {
  for (const e of list) e.localityWeight = weight;
  return list;
}

function zone(region: string, name: string, count: number, healthy = count, priority = 0): Placed[] {
  return Array.from({ length: count }, (_, i) => new TieredTestEndpoint(`${name}-${i}-p${priority}:80`, region, name, i < healthy, priority));
}

function shares(picker: { pick(): Placed | undefined }, n = 40_000): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const e = picker.pick()!;
    out[e.zone] = (out[e.zone] ?? 0) + 1 / n;
  }
  return out;
}

const RULES: DistributeRule[] = [
  { from: 'eu/eu-a', to: { 'eu/eu-a': 80, 'eu/eu-b': 20 } },
  { from: 'eu/*', to: { 'eu/*': 50, us: 50 } },
];

function options(region: string, zoneName: string, rules: readonly DistributeRule[] = RULES): LocalityOptions {
  return { localRegion: region, localZone: zoneName, localityAware: true, panicThreshold: 50, ...failoverOptions({ distribute: rules }, { region, zone: zoneName }) };
}

describe('locality patterns and rules', () => {
  it('reads region, region/zone and a trailing "*"', () => {
    expect(parseLocalityPattern('eu')).toEqual({ region: 'eu', zone: '*' });
    expect(parseLocalityPattern('eu/*')).toEqual({ region: 'eu', zone: '*' });
    expect(parseLocalityPattern('eu/eu-a')).toEqual({ region: 'eu', zone: 'eu-a' });
    expect(parseLocalityPattern('eu/eu-a/*')).toEqual({ region: 'eu', zone: 'eu-a' });
    expect(parseLocalityPattern('*')).toEqual({ region: '*', zone: '*' });
    expect(parseLocalityPattern('*/eu-a')).toMatch(/one "\*", as its whole last part/);
  });

  it('takes the first rule whose from matches the client, and none for a client no rule names', () => {
    expect(sharesFor(RULES, 'eu', 'eu-a')?.map(([p, n]) => [p.zone, n])).toEqual([
      ['eu-a', 80],
      ['eu-b', 20],
    ]);
    expect(sharesFor(RULES, 'eu', 'eu-c')?.map(([p, n]) => [`${p.region}/${p.zone}`, n])).toEqual([
      ['eu/*', 50],
      ['us/*', 50],
    ]);
    expect(sharesFor(RULES, 'us', 'us-a')).toBeUndefined();
    // With distribute set, a client no rule names gets no locality preference, as from istiod.
    expect(failoverOptions({ distribute: RULES }, { region: 'us', zone: 'us-a' })).toEqual({ localityAware: false });
  });

  it("splits an entry's share between the localities it takes by their own weight; the first written entry takes a locality", () => {
    const weights = distributedWeights(
      [
        { region: 'eu', zone: 'eu-a', weight: 3 },
        { region: 'eu', zone: 'eu-b', weight: 1 },
        { region: 'us', zone: 'us-a', weight: 5 },
        { region: 'ap', zone: 'ap-a', weight: 5 },
      ],
      sharesFor([{ from: '*', to: { 'eu/eu-b': 10, eu: 60, us: 30 } }], 'x', 'y')!,
    );
    expect(weights).toEqual([60, 10, 30, 0]);
    expect(distributedWeights([{ region: 'eu', zone: 'eu-a', weight: 3 }, { region: 'eu', zone: 'eu-b', weight: 1 }], [[{ region: 'eu', zone: '*' }, 100]])).toEqual([75, 25]);
  });
});

describe('the distributed picker', () => {
  it('sends each named locality its share and the others nothing', () => {
    const eps = [...zone('eu', 'eu-a', 3), ...zone('eu', 'eu-b', 3), ...zone('us', 'us-a', 3)];
    const picker = buildLocalityPicker(eps, roundRobinPicker, { random: seeded(1) }, options('eu', 'eu-a'));
    const s = shares(picker);
    expect(s['eu-a']).toBeCloseTo(0.8, 1);
    expect(s['eu-b']).toBeCloseTo(0.2, 1);
    expect(s['us-a']).toBeUndefined();
    expect(picker.size).toBe(6);
    expect(picker.tiers.map((t) => [t.locality, Math.round(t.load)])).toEqual([
      ['locality:eu/eu-a', 80],
      ['locality:eu/eu-b', 20],
    ]);
  });

  it('scales a share by the locality health, so a failing locality hands its traffic to the others', () => {
    // eu-a 1 of 5 healthy: health 28%, effective 80 × 28 = 2,240 against eu-b's 20 × 100 = 2,000.
    const eps = [...zone('eu', 'eu-a', 5, 1), ...zone('eu', 'eu-b', 5)];
    const picker = buildLocalityPicker(eps, roundRobinPicker, { random: seeded(2) }, { ...options('eu', 'eu-a'), panicThreshold: 0 });
    expect(shares(picker)['eu-a']).toBeCloseTo(2240 / 4240, 1);
    const dead = buildLocalityPicker([...zone('eu', 'eu-a', 5, 0), ...zone('eu', 'eu-b', 5)], roundRobinPicker, { random: seeded(3) }, options('eu', 'eu-a'));
    expect(shares(dead)).toEqual({ 'eu-b': expect.closeTo(1, 5) });
  });

  it('shares a failover priority out the same way once it takes the traffic', () => {
    const eps = [...zone('eu', 'eu-a', 2, 0), ...zone('eu', 'eu-a', 2, 2, 1), ...zone('eu', 'eu-b', 2, 2, 1)];
    const picker = buildLocalityPicker(eps, roundRobinPicker, { random: seeded(4) }, { ...options('eu', 'eu-a'), panicThreshold: 0 });
    const s = shares(picker);
    expect(s['eu-a']).toBeCloseTo(0.8, 1);
    expect(s['eu-b']).toBeCloseTo(0.2, 1);
    expect(picker.tiers.map((t) => [t.priority, t.locality, Math.round(t.load)])).toEqual([
      [0, 'locality:eu/eu-a', 0],
      [1, 'locality:eu/eu-a', 80],
      [1, 'locality:eu/eu-b', 20],
    ]);
  });

  it('with localityAware off, distribute changes nothing', () => {
    const eps = [...zone('eu', 'eu-a', 1), ...zone('us', 'us-a', 1)];
    const picker = buildLocalityPicker(eps, roundRobinPicker, { random: seeded(5) }, { ...options('eu', 'eu-a'), localityAware: false });
    expect(picker.tiers.map((t) => t.locality)).toEqual(['any']);
    expect(picker.size).toBe(2);
  });

  it('shares a priority by the locality weights a control plane wrote, when it wrote any, instead of ranking by zone', () => {
    const local: LocalityOptions = { localRegion: 'eu', localZone: 'eu-a', localityAware: true, panicThreshold: 50 };
    const eps = [...weighed(zone('eu', 'eu-a', 2), 30), ...weighed(zone('eu', 'eu-b', 2), 70)];
    const picker = buildLocalityPicker(eps, roundRobinPicker, { random: seeded(6) }, local);
    const s = shares(picker);
    expect(s['eu-a']).toBeCloseTo(0.3, 1);
    expect(s['eu-b']).toBeCloseTo(0.7, 1);
    // Without written weights the same endpoints are ranked: all to the local zone.
    expect(shares(buildLocalityPicker([...zone('eu', 'eu-a', 2), ...zone('eu', 'eu-b', 2)], roundRobinPicker, { random: seeded(7) }, local))).toEqual({
      'eu-a': expect.closeTo(1, 5),
    });
  });
});
