/**
 * A cluster's load-balancing policy: the legacy `lb_policy` enum with its
 * ring-hash / maglev / least-request configs, or the typed
 * `load_balancing_policy` list, read as gRPC reads it (gRFC A52).
 *
 * The typed list decodes to candidates in the control plane's order: custom
 * policies named by TypedStructs, then the first built-in (anything after a
 * built-in could never be chosen). Which custom policy a process has is its
 * mesh's business, not the resource's, so the decoder does not choose:
 * choose-lb-policy.ts takes the first candidate the mesh has when the
 * cluster is translated. Entries the mesh cannot use at all (an Envoy type
 * it does not know, a TypedStruct naming no valid policy) are skipped with a
 * warning; a list left with no candidate is rejected here.
 */
import type { LbPolicyName } from '../../config/schema.js';
import type { Warn } from './decode-route-action.js';
import { typeNameOf, unpackAny } from './envoy-protos.js';
import { ProtoReader } from './proto-reader.js';
import { customPolicy, isTypedStruct } from './typed-struct-policy.js';

export interface LbInput {
  /** A built-in, or a custom policy a TypedStruct named (not yet known to be registered). */
  policy: string;
  ringSize?: { min: number; max: number };
  maglevTableSize?: number;
  panicThreshold?: number;
  /** A custom policy's TypedStruct value. */
  config?: Record<string, unknown>;
  /** Slow start (`slow_start_config`), in the model's `loadBalancer.warmup` fields. */
  warmup?: { duration: number; minimumPercent?: number; aggression?: number };
}

const LEGACY: Readonly<Record<string, LbPolicyName>> = {
  ROUND_ROBIN: 'round-robin',
  LEAST_REQUEST: 'least-request',
  RING_HASH: 'ring-hash',
  MAGLEV: 'maglev',
  RANDOM: 'random',
};

const TYPED: Readonly<Record<string, LbPolicyName>> = {
  'envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin': 'round-robin',
  'envoy.extensions.load_balancing_policies.least_request.v3.LeastRequest': 'least-request',
  'envoy.extensions.load_balancing_policies.ring_hash.v3.RingHash': 'ring-hash',
  'envoy.extensions.load_balancing_policies.maglev.v3.Maglev': 'maglev',
  'envoy.extensions.load_balancing_policies.random.v3.Random': 'random',
};
const WRR_LOCALITY = 'envoy.extensions.load_balancing_policies.wrr_locality.v3.WrrLocality';

/** gRFC A52: a policy list nested (through WrrLocality) more than this many levels below the cluster's is invalid. */
export const MAX_POLICY_DEPTH = 16;

function ringSize(r: ProtoReader | undefined): { min: number; max: number } | undefined {
  if (r === undefined) return undefined;
  const min = r.wrapped('minimum_ring_size') ?? 1024;
  const max = r.wrapped('maximum_ring_size') ?? 8_388_608;
  return { min, max };
}

/**
 * A SlowStartConfig (the cluster's or the typed policies' common one; both
 * have these fields). No window, or a zero one, is Envoy's "off". The
 * aggression is a RuntimeDouble: its default value is what applies, as in
 * an Envoy whose runtime does not set the key (this process reads none).
 */
function slowStart(r: ProtoReader | undefined): LbInput['warmup'] {
  if (r === undefined) return undefined;
  const duration = r.durationMs('slow_start_window');
  if (duration === undefined || duration === 0) return undefined;
  const out: NonNullable<LbInput['warmup']> = { duration };
  const aggression = r.msg('aggression');
  if (aggression !== undefined) {
    out.aggression = aggression.num('default_value');
    // Checked here, not only by the model's schema, so the rejection names Envoy's field.
    if (!(out.aggression > 0) || !Number.isFinite(out.aggression)) {
      aggression.fail('default_value', `must be greater than 0 (1 ramps linearly), got ${out.aggression}`);
    }
  }
  const minimum = r.msg('min_weight_percent');
  if (minimum !== undefined) {
    out.minimumPercent = minimum.num('value');
    if (!(out.minimumPercent >= 0 && out.minimumPercent <= 100)) minimum.fail('value', `must be a percentage from 0 to 100, got ${out.minimumPercent}`);
  }
  return out;
}

function withWarmup(lb: LbInput, warmup: LbInput['warmup']): LbInput {
  return warmup === undefined ? lb : { ...lb, warmup };
}

function builtin(policy: LbPolicyName, typeUrl: string, bytes: Uint8Array, path: string): LbInput {
  // Random has no proto in the bundled set; its config is empty anyway.
  if (policy === 'random') return { policy };
  const cfg = new ProtoReader(unpackAny(typeUrl, bytes), path);
  if (policy === 'ring-hash') {
    return { policy, ringSize: { min: cfg.wrapped('minimum_ring_size') ?? 1024, max: cfg.wrapped('maximum_ring_size') ?? 8_388_608 } };
  }
  if (policy === 'maglev') {
    const size = cfg.wrapped('table_size');
    return size === undefined ? { policy } : { policy, maglevTableSize: size };
  }
  // RoundRobin and LeastRequest: the two Envoy ramps.
  return withWarmup({ policy }, slowStart(cfg.msg('slow_start_config')));
}

/** Candidates in order, and whether the list ended at a built-in (so outer entries are never reached). */
interface Candidates {
  readonly list: LbInput[];
  readonly final: boolean;
}

function typedPolicies(policies: ProtoReader, depth: number, warn: Warn): Candidates {
  if (depth > MAX_POLICY_DEPTH) {
    policies.fail('policies', `load-balancing policies nest more than ${MAX_POLICY_DEPTH} levels deep (through WrrLocality); gRPC rejects that too (gRFC A52)`);
  }
  const list: LbInput[] = [];
  for (const p of policies.list('policies')) {
    const any = p.msg('typed_extension_config')?.msg('typed_config');
    const typeUrl = any?.str('type_url') ?? '';
    const name = typeNameOf(typeUrl);
    const bytes = any?.bytes('value') ?? new Uint8Array();
    const at = `${p.path}.typed_extension_config.typed_config`;
    if (name === WRR_LOCALITY) {
      // Locality weights are the endpoints' business here; the child policy picks.
      const child = new ProtoReader(unpackAny(typeUrl, bytes), at).msg('endpoint_picking_policy');
      if (child === undefined) continue;
      const inner = typedPolicies(child, depth + 1, warn);
      list.push(...inner.list);
      if (inner.final) return { list, final: true };
      continue;
    }
    if (isTypedStruct(name)) {
      const custom = customPolicy(typeUrl, bytes, at, warn);
      if (custom !== undefined) list.push({ policy: custom.policy, config: custom.config });
      continue;
    }
    const policy = TYPED[name];
    if (policy === undefined) {
      warn(p.path, `load-balancing policy ${name || '(none)'} is not supported; trying the next one`);
      continue;
    }
    list.push(builtin(policy, typeUrl, bytes, at));
    return { list, final: true };
  }
  return { list, final: false };
}

/** The cluster's load-balancer candidates, most preferred first; never empty. */
export function clusterLoadBalancers(c: ProtoReader, warn: Warn): LbInput[] {
  const typed = c.msg('load_balancing_policy');
  let candidates: LbInput[];
  if (typed !== undefined) {
    candidates = typedPolicies(typed, 0, warn).list;
    if (candidates.length === 0) {
      c.fail(
        'load_balancing_policy.policies',
        'lists no policy the mesh supports (round_robin, least_request, ring_hash, maglev, random, wrr_locality, or a custom policy in a TypedStruct)',
      );
    }
  } else {
    const name = c.str('lb_policy') || 'ROUND_ROBIN';
    const policy = LEGACY[name];
    if (policy === undefined) c.fail('lb_policy', `${name} is not supported; use ROUND_ROBIN, LEAST_REQUEST, RING_HASH, MAGLEV or RANDOM`);
    const rampConfig = policy === 'round-robin' ? 'round_robin_lb_config' : policy === 'least-request' ? 'least_request_lb_config' : undefined;
    const lb = withWarmup({ policy }, rampConfig === undefined ? undefined : slowStart(c.msg(rampConfig)?.msg('slow_start_config')));
    const ring = ringSize(c.msg('ring_hash_lb_config'));
    if (policy === 'ring-hash' && ring !== undefined) lb.ringSize = ring;
    const maglev = c.msg('maglev_lb_config')?.wrapped('table_size');
    if (policy === 'maglev' && maglev !== undefined) lb.maglevTableSize = maglev;
    const choices = c.msg('least_request_lb_config')?.wrapped('choice_count');
    if (choices !== undefined && choices !== 2) warn(c.at('least_request_lb_config.choice_count'), 'the mesh always compares 2 endpoints; ignored');
    candidates = [lb];
  }
  const panic = c.msg('common_lb_config')?.msg('healthy_panic_threshold');
  if (panic !== undefined) for (const lb of candidates) lb.panicThreshold = panic.num('value');
  return candidates;
}
