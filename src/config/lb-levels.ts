/**
 * How the `loadBalancer` blocks of the mesh, a service and a subset combine
 * into the one a picker is built from: field by field, the more specific
 * level winning, with one exception. A `config` belongs to the policy it was
 * written for, so a level that names another policy starts without the
 * inherited one instead of handing policy B the settings of policy A.
 *
 * The data plane (client/destination.ts), the control plane
 * (control/cluster-resources.ts), the schema's check below and the merge of
 * config layers (merge.ts) all use this, so they never disagree on what a
 * level inherits.
 */
import { isBuiltinLbPolicy } from './lb-policy-name.js';

/** The fields this module reads; the schema's LoadBalancerConfig has them. */
interface LbLevel {
  readonly policy?: string | undefined;
  readonly config?: Readonly<Record<string, unknown>> | undefined;
}

export const DEFAULT_LB_POLICY = 'peak-ewma';

/**
 * Whether `over`, laid over `under`, names another policy than the one
 * `under`'s config was written for. When `under` names none, its config is
 * kept: which policy it was for is not known here (a mesh level can only
 * have named the default, which takes no config and is rejected anyway).
 */
export function dropsConfigOf(under: LbLevel, over: LbLevel): boolean {
  return under.config !== undefined && under.policy !== undefined && over.policy !== undefined && over.policy !== under.policy;
}

/** The effective block for `levels`, least specific first (mesh, service, subset); `policy` always set. */
export function effectiveLoadBalancer<T extends LbLevel>(levels: readonly (T | undefined)[]): T & { policy: string } {
  let out: Partial<T> = {};
  for (const level of levels) {
    if (level === undefined) continue;
    if (dropsConfigOf(out, level)) {
      const { config: _dropped, ...rest } = out;
      out = rest as Partial<T>;
    }
    out = { ...out, ...level };
  }
  return { ...out, policy: out.policy ?? DEFAULT_LB_POLICY } as T & { policy: string };
}

export interface LbConfigIssue {
  readonly path: (string | number)[];
  readonly message: string;
}

interface LbConfigShape {
  readonly mesh: { readonly loadBalancer?: LbLevel | undefined };
  readonly services: Readonly<Record<string, { readonly loadBalancer?: LbLevel | undefined; readonly subsets?: Readonly<Record<string, { readonly loadBalancer?: LbLevel | undefined }>> | undefined }>>;
}

/**
 * A `config` at a level that names no policy of its own, where the policy it
 * inherits is built in: the built-ins take no config, so it would be ignored.
 * (A level naming a built-in beside a config is the block schema's to reject.)
 */
export function inheritedConfigIssues(cfg: LbConfigShape): LbConfigIssue[] {
  const issues: LbConfigIssue[] = [];
  // `owners` name the levels above this one, least specific first, for the message.
  const check = (path: (string | number)[], levels: readonly (LbLevel | undefined)[], owners: readonly string[]) => {
    const own = levels.at(-1);
    if (own?.config === undefined || own.policy !== undefined) return;
    const policy = effectiveLoadBalancer(levels).policy;
    if (!isBuiltinLbPolicy(policy)) return;
    const namer = levels.slice(0, -1).findLastIndex((level) => level?.policy !== undefined);
    issues.push({
      path: [...path, 'loadBalancer', 'config'],
      message: `only a custom policy takes a config; this level names no policy and inherits "${policy}" from ${owners[namer] ?? 'the default'}, which is built in; name the custom policy here, or remove config`,
    });
  };
  check(['mesh'], [cfg.mesh.loadBalancer], []);
  for (const [name, svc] of Object.entries(cfg.services)) {
    check(['services', name], [cfg.mesh.loadBalancer, svc.loadBalancer], ['the mesh']);
    for (const [subset, sub] of Object.entries(svc.subsets ?? {})) {
      check(['services', name, 'subsets', subset], [cfg.mesh.loadBalancer, svc.loadBalancer, sub.loadBalancer], ['the mesh', `service "${name}"`]);
    }
  }
  return issues;
}
