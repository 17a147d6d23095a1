/**
 * Every load-balancer policy a config names must be registered in the mesh
 * that applies it. The schema only knows which names are well formed; the
 * registry belongs to one Mesh, so this check runs with the mesh's other
 * semantic checks, before the snapshot is swapped in. A config naming a
 * missing policy is rejected whole and the previous one keeps serving, rather
 * than failing later, when a picker is built for an endpoint update.
 */
import { type ConfigIssue, formatPath } from './config-error.js';
import type { LoadBalancerConfig, MeshConfig } from './schema.js';

/** What the check needs of the mesh's `Registry<PickerFactory>`. */
export interface RegisteredPolicies {
  has(name: string): boolean;
  names(): string[];
}

export function checkLbPolicies(config: MeshConfig, registered: RegisteredPolicies): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const check = (path: readonly string[], owner: string, lb: LoadBalancerConfig | undefined) => {
    const policy = lb?.policy;
    if (policy === undefined || registered.has(policy)) return;
    issues.push({
      path: formatPath([...path, 'loadBalancer', 'policy']),
      message: `${owner} names load-balancer policy "${policy}", which is not registered in this mesh (registered: ${registered.names().join(', ')}); register it with createMesh({ balancers }) or mesh.balancers.register() before applying this config`,
    });
  };
  // The mesh-wide policy is checked even when every service overrides it: it is the default for the next service added.
  check(['mesh'], 'the mesh default', config.mesh.loadBalancer);
  for (const [name, svc] of Object.entries(config.services)) {
    check(['services', name], `service "${name}"`, svc.loadBalancer);
    for (const [subset, sub] of Object.entries(svc.subsets ?? {})) {
      check(['services', name, 'subsets', subset], `subset "${subset}" of service "${name}"`, sub.loadBalancer);
    }
  }
  return issues;
}
