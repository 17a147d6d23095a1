/**
 * A cluster's load-balancing policy: the legacy `lb_policy` enum with its
 * ring-hash / maglev / least-request configs, or the typed
 * `load_balancing_policy` list, where (as in gRPC, A52) the first policy the
 * mesh knows wins and a list with none it knows is rejected.
 */
import type { LbPolicyName } from '../../config/schema.js';
import type { Warn } from './decode-route-action.js';
import { typeNameOf, unpackAny } from './envoy-protos.js';
import { ProtoReader } from './proto-reader.js';

export interface LbInput {
  policy: LbPolicyName;
  ringSize?: { min: number; max: number };
  maglevTableSize?: number;
  panicThreshold?: number;
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

function ringSize(r: ProtoReader | undefined): { min: number; max: number } | undefined {
  if (r === undefined) return undefined;
  const min = r.wrapped('minimum_ring_size') ?? 1024;
  const max = r.wrapped('maximum_ring_size') ?? 8_388_608;
  return { min, max };
}

function typedPolicy(list: ProtoReader[], warn: Warn): LbInput | undefined {
  for (const p of list) {
    const ext = p.msg('typed_extension_config');
    const any = ext?.msg('typed_config');
    const typeUrl = any?.str('type_url') ?? '';
    const name = typeNameOf(typeUrl);
    const bytes = any?.bytes('value') ?? new Uint8Array();
    if (name === WRR_LOCALITY) {
      // Locality weights are the endpoints' business here; the child policy picks.
      const inner = new ProtoReader(unpackAny(typeUrl, bytes), `${p.path}.typed_extension_config.typed_config`);
      const child = typedPolicy(inner.msg('endpoint_picking_policy')?.list('policies') ?? [], warn);
      if (child !== undefined) return child;
      continue;
    }
    const policy = TYPED[name];
    if (policy === undefined) {
      warn(p.path, `load-balancing policy ${name || '(none)'} is not supported; trying the next one`);
      continue;
    }
    // Random has no proto in the bundled set; its config is empty anyway.
    if (policy === 'random') return { policy };
    const cfg = new ProtoReader(unpackAny(typeUrl, bytes), `${p.path}.typed_extension_config.typed_config`);
    if (policy === 'ring-hash') {
      const min = cfg.wrapped('minimum_ring_size') ?? 1024;
      const max = cfg.wrapped('maximum_ring_size') ?? 8_388_608;
      return { policy, ringSize: { min, max } };
    }
    if (policy === 'maglev') {
      const size = cfg.wrapped('table_size');
      return size === undefined ? { policy } : { policy, maglevTableSize: size };
    }
    return { policy };
  }
  return undefined;
}

export function clusterLoadBalancer(c: ProtoReader, warn: Warn): LbInput {
  const typed = c.msg('load_balancing_policy');
  let lb: LbInput | undefined;
  if (typed !== undefined) {
    lb = typedPolicy(typed.list('policies'), warn);
    if (lb === undefined) c.fail('load_balancing_policy.policies', 'lists no policy the mesh supports (round_robin, least_request, ring_hash, maglev, random, wrr_locality)');
  } else {
    const name = c.str('lb_policy') || 'ROUND_ROBIN';
    const policy = LEGACY[name];
    if (policy === undefined) c.fail('lb_policy', `${name} is not supported; use ROUND_ROBIN, LEAST_REQUEST, RING_HASH, MAGLEV or RANDOM`);
    lb = { policy };
    const ring = ringSize(c.msg('ring_hash_lb_config'));
    if (policy === 'ring-hash' && ring !== undefined) lb.ringSize = ring;
    const maglev = c.msg('maglev_lb_config')?.wrapped('table_size');
    if (policy === 'maglev' && maglev !== undefined) lb.maglevTableSize = maglev;
    const choices = c.msg('least_request_lb_config')?.wrapped('choice_count');
    if (choices !== undefined && choices !== 2) warn(c.at('least_request_lb_config.choice_count'), 'the mesh always compares 2 endpoints; ignored');
  }
  const panic = c.msg('common_lb_config')?.msg('healthy_panic_threshold');
  if (panic !== undefined) lb.panicThreshold = panic.num('value');
  return lb;
}
