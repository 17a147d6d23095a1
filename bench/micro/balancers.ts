/**
 * Microbenchmark: ns per pick for every load-balancer policy over 10 and
 * 1,000 endpoints, plus the locality picker over 3 zones, and what building
 * each picker costs. Target: a pick in ≤ 200 ns at 1,000 endpoints.
 *
 * Run: npx tsx bench/micro/balancers.ts   (about 10 s)
 *
 * Each cell is the median of several timed rounds after a warm-up, so JIT
 * tiering and GC pauses do not land in the number. Endpoints carry live
 * in-flight counts and real peak-EWMA estimates, so the load-aware pickers
 * do their full arithmetic (two Math.exp and one performance.now per pick).
 * Every policy is driven through one call site, as a cluster's picker is in
 * the request path, so the numbers include a polymorphic call.
 */
import { buildLocalityPicker, type TieredEndpoint } from '../../src/balancer/locality.js';
import { PeakEwma, peakEwmaPicker } from '../../src/balancer/peak-ewma.js';
import { builtinPolicies } from '../../src/balancer/policies.js';
import type { Picker, PickerFactory } from '../../src/balancer/types.js';
import { markdownTable } from '../lib/table.js';

class BenchEndpoint implements TieredEndpoint {
  readonly ewma = new PeakEwma();
  constructor(
    readonly key: string,
    readonly weight: number,
    public inFlight: number,
    readonly region: string,
    readonly zone: string,
    readonly healthy: boolean,
    readonly priority = 0,
  ) {}
  latencyCost(now: number): number {
    return this.ewma.cost(now);
  }
}

/** Deterministic inputs, so runs compare. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ZONES = ['eu-a', 'eu-b', 'eu-c'];

function makeEndpoints(n: number, weighted: boolean): BenchEndpoint[] {
  const random = seeded(n);
  const now = performance.now();
  return Array.from({ length: n }, (_, i) => {
    const zone = ZONES[i % 3]!;
    // In the local zone, 60% healthy: the locality picker then splits 84/16
    // between two tiers, so the bench exercises tier selection too.
    const healthy = zone !== 'eu-a' || i % 5 < 3;
    const e = new BenchEndpoint(
      `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:8080`,
      weighted ? 1 + (i % 7) : 1,
      Math.floor(random() * 8),
      'eu',
      zone,
      healthy,
    );
    e.ewma.observe(5 + random() * 20, now - random() * 1000);
    return e;
  });
}

const HASHES = (() => {
  const random = seeded(7);
  return Uint32Array.from({ length: 4096 }, () => Math.floor(random() * 2 ** 32));
})();

let sink = 0;

function timeRound(picker: Picker<BenchEndpoint>, hashed: boolean, iterations: number): number {
  const start = process.hrtime.bigint();
  if (hashed) {
    for (let i = 0; i < iterations; i++) sink += picker.pick(HASHES[i & 4095])!.inFlight;
  } else {
    for (let i = 0; i < iterations; i++) sink += picker.pick()!.inFlight;
  }
  return Number(process.hrtime.bigint() - start) / iterations;
}

const WARMUP = 300_000;
const ITERATIONS = 500_000;
const ROUNDS = 7;

function nsPerPick(picker: Picker<BenchEndpoint>, hashed: boolean): number {
  timeRound(picker, hashed, WARMUP);
  const rounds = Array.from({ length: ROUNDS }, () => timeRound(picker, hashed, ITERATIONS));
  rounds.sort((a, b) => a - b);
  return rounds[ROUNDS >> 1]!;
}

function buildMs(build: () => unknown): number {
  build(); // warm the builder too
  const start = process.hrtime.bigint();
  const times = 3;
  for (let i = 0; i < times; i++) build();
  return Number(process.hrtime.bigint() - start) / times / 1e6;
}

interface Case {
  name: string;
  hashed: boolean;
  weighted: boolean;
  build: (eps: BenchEndpoint[]) => Picker<BenchEndpoint>;
}

const policies = new Map(builtinPolicies());
const factory = (name: string): PickerFactory => policies.get(name as never)!;
const options = { random: Math.random };

const cases: Case[] = [];
for (const [name, f] of builtinPolicies()) {
  const hashed = name === 'ring-hash' || name === 'maglev';
  cases.push({ name, hashed, weighted: false, build: (eps) => f(eps, options) });
  if (name === 'round-robin' || name === 'random') {
    cases.push({ name: `${name} (weights 1–7)`, hashed, weighted: true, build: (eps) => f(eps, options) });
  }
}
const locality = { localRegion: 'eu', localZone: 'eu-a', localityAware: true, panicThreshold: 50 };
cases.push({
  name: 'locality, 3 zones × peak-ewma',
  hashed: false,
  weighted: false,
  build: (eps) => buildLocalityPicker(eps, (e, o) => peakEwmaPicker(e, o), options, locality),
});
cases.push({
  name: 'locality, 3 zones × ring-hash',
  hashed: true,
  weighted: false,
  build: (eps) => buildLocalityPicker(eps, factory('ring-hash'), options, locality),
});

const rows: string[][] = [];
for (const c of cases) {
  const small = makeEndpoints(10, c.weighted);
  const large = makeEndpoints(1000, c.weighted);
  const ns10 = nsPerPick(c.build(small), c.hashed);
  const ns1000 = nsPerPick(c.build(large), c.hashed);
  const build = buildMs(() => c.build(large));
  rows.push([c.name, ns10.toFixed(1), ns1000.toFixed(1), build < 0.1 ? build.toFixed(3) : build.toFixed(2)]);
}

console.log(`Node ${process.version}, ${ITERATIONS.toLocaleString('en-US')} picks × ${ROUNDS} rounds, median\n`);
console.log(
  markdownTable(
    ['policy', 'ns/pick, 10 endpoints', 'ns/pick, 1,000 endpoints', 'build, 1,000 endpoints (ms)'],
    rows,
    ['left', 'right', 'right', 'right'],
  ),
);
if (sink === 42) console.log(''); // keeps the picks observable
