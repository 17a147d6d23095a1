/**
 * `createMesh({ balancers })`: custom policies (or replacements for built-in
 * ones) registered before the first config is applied, so a config file or
 * code options can name them from the start. Names are checked here, where
 * the mistake is made: a factory under a name config can never select
 * (`fastest` rather than `example.com/fastest` or `myorg.Fastest`) would
 * otherwise sit unused while the config that names it is rejected.
 */
import { CUSTOM_POLICY_RULE, isBuiltinLbPolicy, isCustomLbPolicyName } from '../config/lb-policy-name.js';
import { MeshError } from '../errors.js';
import type { Registry } from '../registry.js';
import type { PickerFactory } from './types.js';

export function registerPolicies(registry: Registry<PickerFactory>, policies: Readonly<Record<string, PickerFactory>>): void {
  for (const [name, factory] of Object.entries(policies)) {
    if (!isBuiltinLbPolicy(name) && !isCustomLbPolicyName(name)) {
      throw new MeshError(
        'MESH_INVALID_ARGUMENT',
        `balancers: config could never select a policy named ${JSON.stringify(name)}; name it after a built-in policy to replace that one, or as ${CUSTOM_POLICY_RULE}`,
        { details: { policy: name } },
      );
    }
    if (typeof factory !== 'function') {
      throw new MeshError('MESH_INVALID_ARGUMENT', `balancers: ${JSON.stringify(name)} must be a picker factory (a function), got ${typeof factory}`, {
        details: { policy: name },
      });
    }
    // set, not register: a built-in name means "replace it", as for discovery providers.
    registry.set(name, factory);
  }
}
