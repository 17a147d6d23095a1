/**
 * Locality failover beyond the built-in zone → region → elsewhere order,
 * as Istio's `localityLbSetting` writes it: `failover` names the regions
 * a region's clients fall back to, in order, before any other region;
 * `failoverPriority` orders endpoints by how many of a list of labels they
 * share with this process instead (istiod's priorities for that setting).
 * Both are `loadBalancer` fields, so mesh, service and subset levels
 * combine them as they combine the rest.
 */
import { z } from 'zod';
import { LABEL_KEY } from './label-schema.js';
import { effectiveLoadBalancer, type LbConfigIssue } from './lb-levels.js';

const region = z.string().min(1, { error: 'must name a region' });

export const failoverSchema = z
  .array(z.strictObject({ from: region, to: region }))
  .superRefine((list, ctx) => {
    list.forEach((f, i) => {
      if (f.from === f.to) ctx.addIssue({ code: 'custom', path: [i, 'to'], message: `fails "${f.from}" over to itself; name another region` });
    });
  });

export const failoverPrioritySchema = z
  .array(
    z.string().regex(LABEL_KEY, {
      error: (iss) =>
        `${JSON.stringify(iss.input)} is not a label key (an optional "prefix/", then up to 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit)`,
    }),
  )
  .min(1, { error: 'must list at least one label; leave it out for the zone and region order' });

interface FailoverLevel {
  readonly policy?: string | undefined;
  readonly config?: Readonly<Record<string, unknown>> | undefined;
  readonly failover?: readonly unknown[] | undefined;
  readonly failoverPriority?: readonly string[] | undefined;
  readonly distribute?: readonly unknown[] | undefined;
}

interface FailoverShape {
  readonly mesh: { readonly loadBalancer?: FailoverLevel | undefined };
  readonly services: Readonly<
    Record<string, { readonly loadBalancer?: FailoverLevel | undefined; readonly subsets?: Readonly<Record<string, { readonly loadBalancer?: FailoverLevel | undefined }>> | undefined }>
  >;
}

/**
 * Two of `failover`, `failoverPriority` and `distribute` in one effective
 * block (written together, or one inherited beside another): istiod
 * refuses distribute beside failover and combines the other pairs; this
 * mesh places traffic by one of them, so it says so.
 */
export function failoverIssues(cfg: FailoverShape): LbConfigIssue[] {
  const issues: LbConfigIssue[] = [];
  const check = (path: (string | number)[], levels: readonly (FailoverLevel | undefined)[]) => {
    const lb = effectiveLoadBalancer(levels);
    const set = (['failover', 'failoverPriority', 'distribute'] as const).filter((k) => lb[k] !== undefined);
    if (set.length < 2) return;
    issues.push({
      path: [...path, 'loadBalancer'],
      message: `sets (or inherits) ${set.join(' and ')}; proxyless places traffic between localities by one of them, so keep one`,
    });
  };
  check(['mesh'], [cfg.mesh.loadBalancer]);
  for (const [name, svc] of Object.entries(cfg.services)) {
    check(['services', name], [cfg.mesh.loadBalancer, svc.loadBalancer]);
    for (const [subset, sub] of Object.entries(svc.subsets ?? {})) {
      check(['services', name, 'subsets', subset], [cfg.mesh.loadBalancer, svc.loadBalancer, sub.loadBalancer]);
    }
  }
  return issues;
}
