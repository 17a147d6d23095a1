/**
 * Which of a cluster's load-balancer candidates this mesh uses: the first
 * one whose policy it has, built in or registered, as grpc-go skips a
 * TypedStruct naming a policy it has not registered and takes the next
 * entry (gRFC A52). A cluster with no usable candidate is a problem that
 * rejects the whole update (a NACK naming the cluster and every policy
 * tried), and the mesh keeps its last good config.
 *
 * Why here, when the xDS layer is translated, and not in the decoder or in
 * the mesh's config check: the decoder does not know a mesh's registry, and
 * the decoded cluster is kept across updates, so a choice made there would
 * go stale; the config model holds one policy per level, so by the time
 * config reaches the mesh's check (config/lb-policy-check.ts) the list is
 * gone. Translation is the one step that has both the ordered list and
 * (through the xDS client's options) the registry, and it runs again for
 * every update, so each update is judged by the registry as it is then.
 */
import { type ConfigIssue, formatPath } from '../../config/config-error.js';
import type { RegisteredPolicies } from '../../config/lb-policy-check.js';
import { isBuiltinLbPolicy, LB_POLICIES } from '../../config/lb-policy-name.js';
import type { LbInput } from './decode-cluster-lb.js';
import type { Warn } from './decode-route-action.js';

/** Without a registry (an XdsClient built outside a mesh), only the built-ins are usable. */
export const BUILTIN_POLICIES_ONLY: RegisteredPolicies = {
  has: isBuiltinLbPolicy,
  names: () => [...LB_POLICIES],
};

export type LbChoice = { readonly lb: LbInput } | { readonly issue: ConfigIssue };

export function chooseLoadBalancer(
  cluster: string,
  service: string,
  candidates: readonly LbInput[],
  registered: RegisteredPolicies,
  warn: Warn,
): LbChoice {
  const usable = (policy: string) => isBuiltinLbPolicy(policy) || registered.has(policy);
  const index = candidates.findIndex((lb) => usable(lb.policy));
  const chosen = candidates[index];
  if (chosen !== undefined) {
    if (index > 0) {
      const skipped = candidates.slice(0, index).map((lb) => JSON.stringify(lb.policy));
      warn(`Cluster "${cluster}"`, `load-balancing ${skipped.length === 1 ? 'policy' : 'policies'} ${skipped.join(', ')} not registered in this mesh; using "${chosen.policy}", the next one listed`);
    }
    return { lb: chosen };
  }
  const tried = candidates.map((lb) => JSON.stringify(lb.policy)).join(', ');
  return {
    issue: {
      path: formatPath(['services', service, 'loadBalancer', 'policy']),
      message: `Cluster "${cluster}" lists load-balancing ${candidates.length === 1 ? 'policy' : 'policies'} ${tried}, and none is registered in this mesh (registered: ${registered.names().join(', ')}); register one with createMesh({ balancers }) or mesh.balancers.register()`,
    },
  };
}
