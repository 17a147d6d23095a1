/**
 * A loadBalancer block's `failover` and `failoverPriority`, read for this
 * process: the regions its own region fails over to, and its own value of
 * each priority label (region and zone from its locality, the rest from
 * `mesh.labels`), as istiod reads a proxy's labels and locality.
 */
import type { LocalityOptions } from './locality.js';
import { REGION_LABEL, ZONE_LABEL } from './locality.js';

interface FailoverSettings {
  readonly failover?: readonly { readonly from: string; readonly to: string }[] | undefined;
  readonly failoverPriority?: readonly string[] | undefined;
}

interface Workload {
  readonly region: string;
  readonly zone: string;
  readonly labels?: Readonly<Record<string, string>> | undefined;
}

export function failoverOptions(lb: FailoverSettings, self: Workload): Pick<LocalityOptions, 'failoverRegions' | 'failoverLabels'> {
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
