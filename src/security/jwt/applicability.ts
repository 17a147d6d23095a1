/**
 * Which RequestAuthentication policies apply to a workload, by Istio's rule:
 * a policy in the workload's own namespace or in the root namespace
 * (mesh-wide), whose selector's labels are all on the workload. No selector
 * selects every workload its namespace reaches. Every applicable policy's
 * rules are combined; none overrides another.
 */
import type { RequestAuthenticationPolicy } from './model.js';

export interface Workload {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Istio's root namespace (default "istio-system"). */
  readonly rootNamespace: string;
}

export function appliesTo(policy: RequestAuthenticationPolicy, workload: Workload): boolean {
  // targetRef(s) bind a policy to Gateway API gateways, which an in-process
  // workload never is.
  if (policy.targetsGateways) return false;
  if (policy.namespace !== workload.namespace && policy.namespace !== workload.rootNamespace) return false;
  if (policy.selector === undefined) return true;
  for (const key in policy.selector) {
    if (workload.labels[key] !== policy.selector[key]) return false;
  }
  return true;
}
