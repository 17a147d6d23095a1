/**
 * A loadBalancer block's `failover`, `failoverPriority` and `distribute`,
 * read for this process: the regions its own region fails over to, its own
 * value of each priority label (region and zone from its locality, the rest
 * from `mesh.labels`), as istiod reads a proxy's labels and locality; or the
 * split of the `distribute` rule its locality matches. With `distribute` set
 * and no rule matching, locality places no traffic at all (`localityAware`
 * off), as istiod then writes neither weights nor failover priorities.
 */

import type { LocalityOptions } from './locality.js';
import { REGION_LABEL, ZONE_LABEL } from './locality.js';
import { type DistributeRule, sharesFor } from './locality-distribution.js';

interface FailoverSettings {
  readonly failover?: readonly { readonly from: string; readonly to: string }[] | undefined;
  readonly failoverPriority?: readonly string[] | undefined;
  readonly distribute?: readonly DistributeRule[] | undefined;
}

interface Workload {
  readonly region: string;
  readonly zone: string;
  readonly labels?: Readonly<Record<string, string>> | undefined;
}

export function failoverOptions(
  lb: FailoverSettings,
  self: Workload,
): Partial<Pick<LocalityOptions, 'failoverRegions' | 'failoverLabels' | 'distribution' | 'localityAware'>> {
  if (lb.distribute !== undefined) {
    const distribution = sharesFor(lb.distribute, self.region, self.zone);
    return distribution === undefined ? { localityAware: false } : { distribution };
  }
  const out: { failoverRegions?: string[]; failoverLabels?: Array<[string, string]> } = {};
  if (lb.failover !== undefined) out.failoverRegions = lb.failover.filter((f) => f.from === self.region).map((f) => f.to);
  if (lb.failoverPriority !== undefined) {
    out.failoverLabels = lb.failoverPriority.map((key) => [
      key,
      key === REGION_LABEL ? self.region : key === ZONE_LABEL ? self.zone : (self.labels?.[key] ?? ''),
    ]);
  }
  return out;
}
