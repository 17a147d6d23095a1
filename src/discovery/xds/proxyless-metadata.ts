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

export const PROXYLESS_METADATA = 'io.proxyless';

/** Struct values: protobufjs names them in camelCase (a built-in well-known type); snake_case is accepted too. */
function pick(v: ProtoReader, name: string): string {
  return v.raw[name] !== undefined ? name : name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

function fromValue(v: ProtoReader): unknown {
  const kind = v.oneof('kind').replace(/([A-Z])/g, (c) => `_${c.toLowerCase()}`);
  switch (kind) {
    case 'number_value':
      return v.num(pick(v, 'number_value'));
    case 'string_value':
      return v.str(pick(v, 'string_value'));
    case 'bool_value':
      return v.bool(pick(v, 'bool_value'));
    case 'struct_value': {
      const s = v.msg(pick(v, 'struct_value'));
      return s === undefined ? {} : fromStruct(s);
    }
    case 'list_value':
      return (v.msg(pick(v, 'list_value'))?.list('values') ?? []).map(fromValue);
    default:
      return undefined;
  }
}

/** A google.protobuf.Struct as plain JSON (nulls dropped). */
export function fromStruct(s: ProtoReader): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const fields = s.raw.fields;
  if (typeof fields !== 'object' || fields === null) return out;
  for (const key of Object.keys(fields)) {
    const v = s.msg('fields')?.msg(key);
    const value = v === undefined ? undefined : fromValue(v);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

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
    if (value === undefined || (typeof value === 'object' && value !== null && Object.keys(value).length === 0)) continue;
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      const issue = toConfigIssues(parsed.error.issues, value)[0];
      struct.fail(key, `${issue?.path ? `${issue.path}: ` : ''}${issue?.message ?? 'is invalid'}`);
    }
    out[key] = value;
  }
  return out;
}
