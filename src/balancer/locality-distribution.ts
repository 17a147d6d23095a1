/**
 * Istio's `localityLbSetting.distribute`: a written split of a client's
 * traffic between localities. Each rule names the localities it applies to
 * (`from`) and what share each destination locality gets (`to`); a
 * destination no entry names gets nothing, not even when the others fail.
 *
 * Localities are written `region/zone/sub-zone`; a trailing `*` (or a
 * pattern that stops early) matches everything below it. proxyless has no
 * sub-zones, so a pattern ends at the zone or with `*`. The first rule whose
 * `from` matches the client applies. Within it, an entry's share is split
 * between the localities it matches in proportion to their own weight (the
 * sum of their endpoints' weights), as istiod splits it; a locality two
 * entries match is taken by the first one written.
 *
 * Both planes use this: the data plane to split a priority's traffic
 * (locality.ts), the control plane to write locality weights for each
 * client (control/local-endpoints.ts).
 */

/** A locality pattern: `*` matches any value. */
export interface LocalityPattern {
  readonly region: string;
  readonly zone: string;
}

export interface DistributeRule {
  readonly from: string;
  readonly to: Readonly<Record<string, number>>;
}

/** The destination patterns of the rule that applies, each with its share (the shares add up to 100). */
export type LocalityShares = readonly (readonly [LocalityPattern, number])[];

/** The pattern `text` stands for, or a message saying why it is not one. */
export function parseLocalityPattern(text: string): LocalityPattern | string {
  const parts = text.split('/');
  if (parts.length > 3) return 'has more than three parts; a locality is region/zone/sub-zone';
  if (parts.some((p) => p === '')) return 'has an empty part; write region, region/zone or end with "*"';
  const last = parts[parts.length - 1]!;
  if (parts.slice(0, -1).some((p) => p.includes('*')) || (last.includes('*') && last !== '*')) {
    return 'may hold one "*", as its whole last part (e.g. "us-east/*")';
  }
  if (parts.length === 3 && parts[2] !== '*') return 'names a sub-zone; proxyless localities have none, so end at the zone or with "/*"';
  return { region: parts[0]!, zone: parts[1] ?? '*' };
}

export function patternMatches(p: LocalityPattern, region: string, zone: string): boolean {
  return (p.region === '*' || p.region === region) && (p.zone === '*' || p.zone === zone);
}

/** Whether `a` matches every locality `b` does (so `b`, written after it, could never apply). */
export function patternCovers(a: LocalityPattern, b: LocalityPattern): boolean {
  return a.region === '*' || (a.region === b.region && (a.zone === '*' || a.zone === b.zone));
}

/** The split for a client in (`region`, `zone`): the first rule whose `from` matches, or undefined when none does. */
export function sharesFor(rules: readonly DistributeRule[], region: string, zone: string): LocalityShares | undefined {
  for (const rule of rules) {
    const from = parseLocalityPattern(rule.from);
    if (typeof from === 'string' || !patternMatches(from, region, zone)) continue;
    const out: (readonly [LocalityPattern, number])[] = [];
    for (const [text, share] of Object.entries(rule.to)) {
      const to = parseLocalityPattern(text);
      if (typeof to !== 'string') out.push([to, share]);
    }
    return out;
  }
  return undefined;
}

export interface WeighedLocality {
  readonly region: string;
  readonly zone: string;
  /** Its own weight: the sum of its endpoints' weights. */
  readonly weight: number;
}

/**
 * Each locality's weight under `shares`, in the order given: the share of
 * the first entry that matches it, split between the localities that entry
 * takes in proportion to their own weights; 0 for a locality no entry takes.
 */
export function distributedWeights(localities: readonly WeighedLocality[], shares: LocalityShares): number[] {
  const taker = localities.map((l) => shares.findIndex(([p]) => patternMatches(p, l.region, l.zone)));
  const totals = shares.map((_, i) => localities.reduce((sum, l, j) => (taker[j] === i ? sum + l.weight : sum), 0));
  return localities.map((l, j) => {
    const i = taker[j]!;
    return i < 0 || totals[i]! <= 0 ? 0 : (shares[i]![1] * l.weight) / totals[i]!;
  });
}

interface PlacedEndpoint {
  readonly region: string;
  readonly zone: string;
  readonly weight: number;
  readonly priority: number;
  readonly localityWeight?: number | undefined;
}

/** The locality of `e` within its priority, as `localityWeights` keys it. */
export function localityKey(e: PlacedEndpoint): string {
  return `${e.priority}\u0000${e.region}\u0000${e.zone}`;
}

/**
 * The endpoints `shares` sends traffic to, and each of their localities'
 * weight (keyed by `localityKey`). The split is made within each priority,
 * so a failover priority gets its share the same way once it takes traffic.
 */
export function distributeEndpoints<E extends PlacedEndpoint>(
  endpoints: readonly E[],
  shares: LocalityShares,
): { kept: E[]; localityWeights: Map<string, number> } {
  const localities = new Map<string, WeighedLocality & { priority: number }>();
  for (const e of endpoints) {
    const key = localityKey(e);
    const l = localities.get(key);
    localities.set(key, { region: e.region, zone: e.zone, priority: e.priority, weight: (l?.weight ?? 0) + e.weight });
  }
  const localityWeights = new Map<string, number>();
  for (const priority of new Set([...localities.values()].map((l) => l.priority))) {
    const keys = [...localities.keys()].filter((k) => localities.get(k)!.priority === priority);
    const weights = distributedWeights(
      keys.map((k) => localities.get(k)!),
      shares,
    );
    keys.forEach((k, i) => {
      if (weights[i]! > 0) localityWeights.set(k, weights[i]!);
    });
  }
  return { kept: endpoints.filter((e) => localityWeights.has(localityKey(e))), localityWeights };
}

/**
 * The locality weights a control plane wrote into the endpoints (istiod's
 * `distribute`, served to a client that does not have the rule itself), or
 * undefined when it wrote none: then the priority is ranked by zone as
 * usual. A locality without one, beside others with one, weighs the sum of
 * its endpoints' weights, as it would have been written.
 */
export function writtenLocalityWeights<E extends PlacedEndpoint>(
  endpoints: readonly E[],
): { kept: readonly E[]; localityWeights: Map<string, number> } | undefined {
  if (!endpoints.some((e) => e.localityWeight !== undefined)) return undefined;
  const written = new Map<string, number>();
  for (const e of endpoints) if (e.localityWeight !== undefined) written.set(localityKey(e), e.localityWeight);
  const localityWeights = new Map(written);
  for (const e of endpoints) {
    const key = localityKey(e);
    if (!written.has(key)) localityWeights.set(key, (localityWeights.get(key) ?? 0) + e.weight);
  }
  return { kept: endpoints, localityWeights };
}
