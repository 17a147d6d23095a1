/**
 * What `loadBalancer.policy` may say: one of the built-in policies, or a
 * custom policy under a qualified name, `<prefix>/<name>` (as Kubernetes
 * names extended resources, `example.com/gpu`).
 *
 * Why custom names must carry a prefix: the schema can then still reject a
 * misspelt built-in ("round_robin", "fastest") at the boundary, in every
 * source, including `proxyless validate` and the control plane, which cannot
 * see what a process registers in code. The prefix also keeps custom names
 * clear of built-ins the mesh may add later. Whether a qualified name is
 * registered is checked per mesh, when config is applied (lb-policy-check.ts).
 */
import { z } from 'zod';
import { shown } from './fields.js';

export const LB_POLICIES = ['peak-ewma', 'least-request', 'round-robin', 'random', 'ring-hash', 'maglev'] as const;
export type LbPolicyName = (typeof LB_POLICIES)[number];

const SEGMENT = '[a-z0-9]([-a-z0-9.]*[a-z0-9])?';
const CUSTOM_POLICY = new RegExp(`^${SEGMENT}/${SEGMENT}$`);
const BUILTIN = new Set<string>(LB_POLICIES);

/** The longest custom name: a DNS-subdomain-sized prefix, a label-sized name. */
const MAX_PREFIX = 253;
const MAX_NAME = 63;

export const CUSTOM_POLICY_RULE =
  'a custom policy registered in code under "<prefix>/<name>" (lowercase letters, digits, "-" and ".", each part starting and ending with a letter or digit), such as "example.com/fastest"';

export function isBuiltinLbPolicy(name: string): name is LbPolicyName {
  return BUILTIN.has(name);
}

/** A name config can select a custom policy by (whether or not it is registered). */
export function isCustomLbPolicyName(name: string): boolean {
  if (!CUSTOM_POLICY.test(name)) return false;
  const slash = name.indexOf('/');
  return slash <= MAX_PREFIX && name.length - slash - 1 <= MAX_NAME;
}

export const lbPolicyNameSchema = z.string().refine((name) => isBuiltinLbPolicy(name) || isCustomLbPolicyName(name), {
  error: (iss) => `must be one of ${LB_POLICIES.map((p) => JSON.stringify(p)).join(', ')}, or ${CUSTOM_POLICY_RULE}; got ${shown(iss.input)}`,
});
