/**
 * Settings Envoy's Cluster has no field for, which proxyless's own control
 * plane sends beside the standard ones in
 * `metadata.filter_metadata["io.proxyless"]` (a Struct): the exact
 * loadBalancer block (peak-EWMA, say, where `lb_policy` can only say
 * ROUND_ROBIN for gRPC clients' sake), the error-rate circuit breaker and
 * the retry budget. Other control planes never send it; other clients
 * ignore it.
 */
import type { z } from 'zod';
import { circuitBreakerSchema, retryBudgetSchema } from '../../config/resilience-schema.js';
import { loadBalancerSchema } from '../../config/schema.js';
import { toConfigIssues } from '../../config/validate.js';
import type { ProtoReader } from './proto-reader.js';
import { fromStruct } from './struct-json.js';

export const PROXYLESS_METADATA = 'io.proxyless';

const BLOCKS: readonly [string, z.ZodType][] = [
  ['loadBalancer', loadBalancerSchema],
  ['circuitBreaker', circuitBreakerSchema],
  ['retryBudget', retryBudgetSchema],
];

/** The model blocks the cluster's proxyless metadata carries, each checked against the model's schema. */
export function proxylessSettings(cluster: ProtoReader): Record<string, unknown> {
  const struct = cluster.msg('metadata')?.msg('filter_metadata')?.msg(PROXYLESS_METADATA);
  if (struct === undefined) return {};
  const meta = fromStruct(struct);
  const out: Record<string, unknown> = {};
  for (const [key, schema] of BLOCKS) {
    const value = meta[key];
    // An empty or null block says nothing, as an absent one.
    if (value === undefined || value === null || (typeof value === 'object' && Object.keys(value).length === 0)) continue;
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      const issue = toConfigIssues(parsed.error.issues, value)[0];
      struct.fail(key, `${issue?.path ? `${issue.path}: ` : ''}${issue?.message ?? 'is invalid'}`);
    }
    out[key] = value;
  }
  return out;
}
