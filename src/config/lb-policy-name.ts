/**
 * What `loadBalancer.policy` may say: one of the built-in policies, or a
 * custom policy under a qualified name, in one of two forms:
 *
 * - `<prefix>/<name>`, as Kubernetes names extended resources
 *   (`example.com/gpu`);
 * - a dotted protobuf-style name with a package (`myorg.FewestInFlight`),
 *   as gRPC names custom policies: an xDS Cluster selects one with a
 *   TypedStruct whose `type_url` ends in that name (gRFC A52), so a policy
 *   registered under it is chosen by gRPC clients and proxyless alike.
 *
 * Why custom names must be qualified (a slash, or at least one dot): the
 * schema can then still reject a misspelt built-in ("round_robin",
 * "fastest") at the boundary, in every source, including `proxyless
 * validate` and the control plane, which cannot see what a process
 * registers in code. Qualification also keeps custom names clear of
 * built-ins the mesh may add later. Whether a qualified name is registered is
 * checked per mesh, when config is applied (lb-policy-check.ts).
 */
import { z } from 'zod';
import { shown } from './fields.js';

export const LB_POLICIES = ['peak-ewma', 'least-request', 'round-robin', 'random', 'ring-hash', 'maglev'] as const;
export type LbPolicyName = (typeof LB_POLICIES)[number];

const SEGMENT = '[a-z0-9]([-a-z0-9.]*[a-z0-9])?';
const PREFIXED = new RegExp(`^${SEGMENT}/${SEGMENT}$`);
const IDENTIFIER = '[A-Za-z_][A-Za-z0-9_]*';
const DOTTED = new RegExp(`^${IDENTIFIER}(\\.${IDENTIFIER})+$`);
const BUILTIN = new Set<string>(LB_POLICIES);

/** The longest prefixed name: a DNS-subdomain-sized prefix, a label-sized name. */
const MAX_PREFIX = 253;
const MAX_NAME = 63;
/** The longest dotted name: the same bound as a DNS name; protobuf sets none, but a name this long is a mistake. */
const MAX_DOTTED = 253;

export const CUSTOM_POLICY_RULE =
  'a custom policy registered in code under a qualified name: "<prefix>/<name>" (lowercase letters, digits, "-" and ".", each part starting and ending with a letter or digit), such as "example.com/fastest", or gRPC\'s dotted form (identifiers of letters, digits and "_", not starting with a digit, joined by at least one "."), such as "myorg.FewestInFlight"';

export function isBuiltinLbPolicy(name: string): name is LbPolicyName {
  return BUILTIN.has(name);
}

/** A custom name in gRPC's dotted form, the one an xDS TypedStruct can carry. */
export function isDottedLbPolicyName(name: string): boolean {
  return DOTTED.test(name) && name.length <= MAX_DOTTED;
}

/** A name config can select a custom policy by (whether or not it is registered). */
export function isCustomLbPolicyName(name: string): boolean {
  if (isDottedLbPolicyName(name)) return true;
  if (!PREFIXED.test(name)) return false;
  const slash = name.indexOf('/');
  return slash <= MAX_PREFIX && name.length - slash - 1 <= MAX_NAME;
}

export const lbPolicyNameSchema = z.string().refine((name) => isBuiltinLbPolicy(name) || isCustomLbPolicyName(name), {
  error: (iss) => `must be one of ${LB_POLICIES.map((p) => JSON.stringify(p)).join(', ')}, or ${CUSTOM_POLICY_RULE}; got ${shown(iss.input)}`,
});
