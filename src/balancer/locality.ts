/**
 * Priority and locality failover with Envoy's arithmetic, over any policy.
 *
 * Endpoints are grouped into ordered tiers: by priority, and within a
 * priority (when locality-aware) the local zone first, then the rest of the
 * local region, then the regions the local one fails over to (Istio's
 * `failover`, in order), then everywhere else. That is the order istiod
 * writes into Envoy priorities for a client. With `failoverPriority`
 * (labels in order) the tiers are istiod's for that setting instead: first
 * the endpoints that match this process on every label, then those that
 * match on all but the last, and so on.
 *
 * With `distribute` (locality-distribution.ts) a priority is not ranked
 * but shared out: each locality it names takes its written share, scaled by
 * its health (Envoy's locality-weighted balancing, which istiod's weights
 * drive), and the localities it does not name take nothing.
 *
 * A tier's health is healthy/total × 1.4 (Envoy's overprovisioning factor),
 * capped at 100%. Load goes to tiers in order until 100% is placed, so the
 * preferred tier keeps all traffic until fewer than ~72% of its endpoints
 * are healthy and then spills only the shortfall onward; a tier with no
 * healthy endpoint gets nothing. When the tiers' health adds up to less than
 * 100%, loads are scaled up in proportion (Envoy's "normalized total
 * availability"), so the healthy endpoints that exist take all the traffic.
 *
 * Panic mode: when the healthy share of all endpoints is below the panic
 * threshold and the tiers together cannot absorb the load (normalized health
 * below 100%), health is ignored and every endpoint (healthy or not) is
 * balanced across as one tier. The reasoning is Envoy's: once most endpoints
 * look unhealthy, the health signal is more likely wrong than right, and
 * piling all traffic on the few survivors would take them down too.
 *
 * Everything is computed when the picker is built; a pick draws one number
 * (or derives it from the request hash), finds its tier by binary search
 * over at most a few dozen bounds, and delegates to that tier's picker.
 */
import { mix32 } from './hash.js';
import { distributeEndpoints, type LocalityShares, localityKey, writtenLocalityWeights } from './locality-distribution.js';
import type { BalancedEndpoint, Picker, PickerFactory, PickerOptions } from './types.js';

export interface TieredEndpoint extends BalancedEndpoint {
  readonly region: string;
  readonly zone: string;
  /** Read only for `failoverLabels`. */
  readonly labels?: Readonly<Record<string, string>>;
  /** 0 is the most preferred. */
  readonly priority: number;
  /** Healthy by discovery and not ejected by outlier detection. */
  readonly healthy: boolean;
  /** A control plane's written weight for the endpoint's locality (discovery/endpoint.ts). */
  readonly localityWeight?: number | undefined;
}

export interface LocalityOptions {
  /** This process's locality; '' when unknown, which matches nothing. */
  readonly localRegion: string;
  readonly localZone: string;
  readonly localityAware: boolean;
  /** Percent, 0 to 100; DEFAULT_PANIC_THRESHOLD when omitted; 0 never panics. */
  readonly panicThreshold?: number;
  /** The regions the local region fails over to, most preferred first (before every other region). */
  readonly failoverRegions?: readonly string[];
  /**
   * failoverPriority: label keys in order, each with this process's value
   * ('' when it has none, which matches an endpoint that has none too, as
   * in istiod). Replaces the zone/region order when not empty.
   */
  readonly failoverLabels?: readonly (readonly [key: string, value: string])[];
  /**
   * distribute: the split of the rule this process's locality matches. Each
   * priority's traffic is shared between the localities it names instead of
   * going zone first; localities it does not name get none.
   */
  readonly distribution?: LocalityShares;
}

/** The label keys that name an endpoint's locality, read from `region` and `zone` rather than its labels. */
export const REGION_LABEL = 'topology.kubernetes.io/region';
export const ZONE_LABEL = 'topology.kubernetes.io/zone';

export const OVERPROVISIONING_FACTOR = 1.4;
export const DEFAULT_PANIC_THRESHOLD = 50;

/**
 * Where a tier's endpoints sit relative to this process: 'zone', 'region',
 * 'failover:<region>', 'other'; 'labels:<matched>/<of>' under
 * failoverPriority; 'locality:<region>/<zone>' under distribute; 'any'
 * when not locality-aware or in panic.
 */
export type TierLocality = string;

/** One tier as the admin page shows it. Percentages are 0 to 100. */
export interface TierInfo {
  readonly priority: number;
  readonly locality: TierLocality;
  readonly healthy: number;
  readonly total: number;
  readonly health: number;
  readonly load: number;
}

// Decorrelates the tier choice from the child's use of the same hash: without
// it, the keys a tier receives would all come from one slice of the hash
// space and land on one slice of that tier's ring.
const TIER_SALT = 0x5bd1e995;
const TWO_POW_32 = 4294967296;

export class LocalityPicker<E extends TieredEndpoint> implements Picker<E> {
  readonly size: number;
  /** True when health is being ignored because too few endpoints are healthy. */
  readonly panic: boolean;
  readonly tiers: readonly TierInfo[];
  readonly #pickers: readonly Picker<E>[];
  /** Upper bounds of each active tier's share of [0, 1), ascending; the last is Infinity. */
  readonly #bounds: Float64Array;
  readonly #only: Picker<E> | undefined;
  readonly #random: () => number;

  constructor(
    tiers: readonly TierInfo[],
    pickers: readonly Picker<E>[],
    bounds: Float64Array,
    panic: boolean,
    random: () => number,
  ) {
    this.tiers = Object.freeze(tiers.map((t) => Object.freeze(t)));
    this.panic = panic;
    this.#pickers = pickers;
    this.#bounds = bounds;
    this.#only = pickers.length === 1 ? pickers[0] : undefined;
    this.#random = random;
    let size = 0;
    for (const p of pickers) size += p.size;
    this.size = size;
  }

  pick(hash?: number): E | undefined {
    const only = this.#only;
    if (only !== undefined) return only.pick(hash);
    const bounds = this.#bounds;
    if (bounds.length === 0) return undefined;
    // A hashed request picks its tier from its hash too, so a key keeps
    // going to the same tier (and so the same endpoint) while health holds.
    const u = hash === undefined ? this.#random() : mix32(hash ^ TIER_SALT) / TWO_POW_32;
    let lo = 0;
    let hi = bounds.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (u < bounds[mid]!) hi = mid;
      else lo = mid + 1;
    }
    return this.#pickers[lo]!.pick(hash);
  }
}

/** True when the picker is a locality picker in panic mode. */
export function isPanicking(picker: Picker<BalancedEndpoint>): boolean {
  return picker instanceof LocalityPicker && picker.panic;
}

/** What ranking reads of an endpoint. */
export type RankedPlace = Pick<TieredEndpoint, 'region' | 'zone' | 'labels'>;

/**
 * How endpoints rank within a priority: `ranks` tiers, `rankOf` an
 * endpoint's (0 is preferred), `name` a rank's TierInfo locality. The
 * control plane ranks by it too, for the client that asks, so Envoy and
 * gRPC clients get the same tiers as priorities.
 */
export interface LocalityRanking {
  readonly ranks: number;
  rankOf(e: RankedPlace): number;
  name(rank: number): TierLocality;
}

function labelOf(e: RankedPlace, key: string): string {
  if (key === REGION_LABEL) return e.region;
  if (key === ZONE_LABEL) return e.zone;
  return e.labels?.[key] ?? '';
}

export function localityRanking(locality: LocalityOptions): LocalityRanking {
  if (!locality.localityAware) return { ranks: 1, rankOf: () => 0, name: () => 'any' };
  const labels = locality.failoverLabels ?? [];
  if (labels.length > 0) {
    const n = labels.length;
    return {
      ranks: n + 1,
      rankOf(e) {
        let matched = 0;
        while (matched < n && labelOf(e, labels[matched]![0]) === labels[matched]![1]) matched++;
        return n - matched;
      },
      name: (rank) => `labels:${n - rank}/${n}`,
    };
  }
  const { localRegion, localZone } = locality;
  // Failing over presumes a local region to fail over from.
  const failover = localRegion === '' ? [] : (locality.failoverRegions ?? []).filter((r) => r !== localRegion);
  const other = 2 + failover.length;
  return {
    ranks: other + 1,
    rankOf(e) {
      if (localRegion !== '' && e.region === localRegion) return localZone !== '' && e.zone === localZone ? 0 : 1;
      const i = failover.indexOf(e.region);
      return i < 0 ? other : 2 + i;
    },
    name: (rank) => (rank === 0 ? 'zone' : rank === 1 ? 'region' : rank === other ? 'other' : `failover:${failover[rank - 2]}`),
  };
}

export function buildLocalityPicker<E extends TieredEndpoint>(
  endpoints: readonly E[],
  factory: PickerFactory,
  pickerOptions: PickerOptions,
  locality: LocalityOptions,
): LocalityPicker<E> {
  const random = pickerOptions.random ?? Math.random;
  const threshold = locality.panicThreshold ?? DEFAULT_PANIC_THRESHOLD;
  // A written split drops the localities it gives nothing, and shares each priority out instead of ranking it.
  const distributed = !locality.localityAware
    ? undefined
    : locality.distribution !== undefined
      ? distributeEndpoints(endpoints, locality.distribution)
      : writtenLocalityWeights(endpoints);
  const placed = distributed?.kept ?? endpoints;
  let healthyCount = 0;
  for (const e of placed) if (e.healthy) healthyCount++;
  const total = placed.length;

  if (total === 0) return new LocalityPicker([], [], new Float64Array(0), false, random);
  // Group by (priority, locality rank); the numeric id sorts in tier order.
  const rank = localityRanking(distributed === undefined ? locality : { ...locality, localityAware: false });
  const groups = new Map<number, E[]>();
  for (const e of placed) {
    const id = e.priority * rank.ranks + rank.rankOf(e);
    const group = groups.get(id);
    if (group === undefined) groups.set(id, [e]);
    else group.push(e);
  }
  const ids = [...groups.keys()].sort((a, b) => a - b);

  const healths: number[] = [];
  let healthSum = 0;
  for (const id of ids) {
    const health = healthOf(groups.get(id)!);
    healths.push(health);
    healthSum += health;
  }
  const normalizedTotal = Math.min(100, healthSum);

  // Envoy's rule: panic only when the tiers together cannot take the load
  // (normalized health below 100%); a dead zone beside a healthy one fails
  // over instead of spraying traffic at the dead endpoints.
  if (normalizedTotal < 100 && (healthyCount * 100) / total < threshold) {
    const info: TierInfo = {
      priority: 0,
      locality: 'any',
      healthy: healthyCount,
      total,
      health: (healthyCount * 100) / total,
      load: 100,
    };
    const all = factory(placed, pickerOptions);
    return new LocalityPicker([info], [all], Float64Array.of(Number.POSITIVE_INFINITY), true, random);
  }

  const tiers: TierInfo[] = [];
  const pickers: Picker<E>[] = [];
  const bounds: number[] = [];
  let placedLoad = 0;
  const push = (info: TierInfo, members: readonly E[]) => {
    tiers.push(info);
    const healthyMembers = members.filter((e) => e.healthy);
    if (info.load > 0 && healthyMembers.length > 0) {
      placedLoad += info.load;
      pickers.push(factory(healthyMembers, pickerOptions));
      bounds.push(placedLoad / 100);
    }
  };
  let remaining = 100;
  for (let t = 0; t < ids.length; t++) {
    const id = ids[t]!;
    const members = groups.get(id)!;
    const health = healths[t]!;
    const load = normalizedTotal === 0 ? 0 : Math.min(remaining, (health * 100) / normalizedTotal);
    remaining -= load;
    const priority = Math.floor(id / rank.ranks);
    if (distributed !== undefined) shareOut(members, priority, load, distributed.localityWeights, push);
    else push({ priority, locality: rank.name(id % rank.ranks), healthy: countHealthy(members), total: members.length, health, load }, members);
  }
  // Rounding must never leave a draw just below 1 without a tier.
  if (bounds.length > 0) bounds[bounds.length - 1] = Number.POSITIVE_INFINITY;
  return new LocalityPicker(tiers, pickers, Float64Array.from(bounds), false, random);
}

function countHealthy(members: readonly TieredEndpoint[]): number {
  let healthy = 0;
  for (const e of members) if (e.healthy) healthy++;
  return healthy;
}

/** A tier's health: its healthy share × the overprovisioning factor, capped at 100. */
function healthOf(members: readonly TieredEndpoint[]): number {
  return Math.min(100, (OVERPROVISIONING_FACTOR * 100 * countHealthy(members)) / members.length);
}

/**
 * One priority's `load` split between its localities by Envoy's
 * locality-weighted arithmetic: each gets its weight × its health, in
 * proportion, so a locality that loses endpoints hands its share to the
 * others once it is under ~72% healthy.
 */
function shareOut<E extends TieredEndpoint>(
  members: readonly E[],
  priority: number,
  load: number,
  weights: ReadonlyMap<string, number>,
  push: (info: TierInfo, members: readonly E[]) => void,
): void {
  const byLocality = new Map<string, E[]>();
  for (const e of members) {
    const key = localityKey(e);
    const list = byLocality.get(key);
    if (list === undefined) byLocality.set(key, [e]);
    else list.push(e);
  }
  const effective = [...byLocality].map(([key, list]) => (weights.get(key) ?? 0) * healthOf(list));
  const sum = effective.reduce((a, b) => a + b, 0);
  let i = 0;
  for (const list of byLocality.values()) {
    const first = list[0]!;
    push(
      {
        priority,
        locality: `locality:${first.region}/${first.zone}`,
        healthy: countHealthy(list),
        total: list.length,
        health: healthOf(list),
        load: sum === 0 ? 0 : (load * effective[i]!) / sum,
      },
      list,
    );
    i++;
  }
}
