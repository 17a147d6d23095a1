/**
 * ClusterLoadAssignment (EDS) into the mesh's endpoint values: locality
 * (region, zone), priority, weight, health and labels (endpoint-labels.ts). Locality weights are not
 * folded into endpoint weights: the mesh balances across endpoints, and its
 * locality preference comes from `loadBalancer.localityAware`.
 */
import { isIP } from 'node:net';
import type { EndpointHealth, EndpointInit } from '../endpoint.js';
import type { Warn } from './decode-route-action.js';
import { endpointLabels } from './endpoint-labels.js';
import { ProtoReader } from './proto-reader.js';

export interface XdsEndpoints {
  readonly clusterName: string;
  readonly endpoints: readonly EndpointInit[];
}

/** gRPC (A27) uses HEALTHY and UNKNOWN endpoints; DRAINING finishes its work; the rest get nothing. */
const HEALTH: Readonly<Record<string, EndpointHealth>> = {
  UNKNOWN: 'healthy',
  HEALTHY: 'healthy',
  DRAINING: 'draining',
  UNHEALTHY: 'unhealthy',
  TIMEOUT: 'unhealthy',
  DEGRADED: 'unhealthy',
};

const MAX_WEIGHT = 1_000_000;
const MAX_PRIORITY = 16;

export function decodeEndpoints(raw: Record<string, unknown>, warn: Warn, path = ''): XdsEndpoints {
  const r = new ProtoReader(raw, path);
  const policy = r.msg('policy');
  if (policy !== undefined && policy.list('drop_overloads').length > 0) {
    policy.fail('drop_overloads', 'is not supported (the mesh does not drop requests on the control plane\'s behalf)');
  }
  const endpoints: EndpointInit[] = [];
  for (const group of r.list('endpoints')) {
    const locality = group.msg('locality');
    const priority = group.num('priority');
    if (priority > MAX_PRIORITY) group.fail('priority', `must be at most ${MAX_PRIORITY}, got ${priority}`);
    const first = endpoints.length;
    for (const lb of group.list('lb_endpoints')) {
      const ep = lb.msg('endpoint') ?? lb.fail('endpoint', 'is required (named endpoints are not supported)');
      const socket = ep.msg('address')?.msg('socket_address') ?? ep.fail('address.socket_address', 'is required');
      const address = socket.str('address');
      const port = socket.num('port_value');
      if (address === '') socket.fail('address', 'is required');
      if (port < 1 || port > 65535) socket.fail('port_value', `must be a port from 1 to 65535, got ${port}`);
      if (isIP(address) === 0 && socket.str('resolver_name') !== '') socket.fail('resolver_name', 'is not supported');
      const weight = lb.wrapped('load_balancing_weight') ?? 1;
      if (weight < 1 || weight > MAX_WEIGHT) lb.fail('load_balancing_weight', `must be from 1 to ${MAX_WEIGHT}, got ${weight}`);
      const status = lb.str('health_status') || 'UNKNOWN';
      const health = HEALTH[status];
      if (health === undefined) lb.fail('health_status', `${status} is not a known health status`);
      if (ep.list('additional_addresses').length > 0) warn(ep.at('additional_addresses'), 'ignored; the first address is used');
      const labels = endpointLabels(lb, warn);
      endpoints.push({
        address,
        port,
        weight,
        region: locality?.str('region') ?? '',
        zone: locality?.str('zone') ?? '',
        priority,
        health,
        ...(labels !== undefined ? { labels } : {}),
      });
    }
    // A written split, not just the locality's size: kept, so the priority is shared out by it (endpoint.ts).
    const localityWeight = group.wrapped('load_balancing_weight');
    const members = endpoints.slice(first);
    if (localityWeight !== undefined && localityWeight !== members.reduce((sum, e) => sum + (e.weight ?? 1), 0)) {
      for (const e of members) e.localityWeight = localityWeight;
    }
  }
  return { clusterName: r.str('cluster_name'), endpoints };
}
