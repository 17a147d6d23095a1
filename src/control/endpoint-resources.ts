/**
 * A cluster's endpoints as an Envoy ClusterLoadAssignment (EDS): grouped by
 * locality (region, zone) and priority, each group weighted by the sum of
 * its endpoints' weights. gRPC clients drop a locality without a weight, so
 * every group gets one. A subset cluster holds the endpoints whose labels
 * include all of the subset's labels.
 *
 * With an `order` (one client's, local-endpoints.ts), each endpoint's
 * priority becomes its written priority, then its rank for that client
 * within it, so one locality can span several priorities; under
 * `distribute`, each locality's weight is the client's written share of
 * it, and the localities it gives nothing are left out.
 */
import { distributedWeights, type LocalityShares } from '../balancer/locality-distribution.js';
import type { ServiceConfig } from '../config/schema.js';
import { PROXYLESS_METADATA } from './cluster-resources.js';
import { structOf } from './envoy-values.js';
import { servicePort } from './resource-names.js';

type Obj = Record<string, unknown>;
/** An endpoint entry; the string form (`host:port`) has only address and port. */
type Endpoint = {
  readonly address: string;
  readonly port?: number | undefined;
  readonly weight?: number | undefined;
  readonly region?: string | undefined;
  readonly zone?: string | undefined;
  readonly priority?: number | undefined;
  readonly labels?: Record<string, string> | undefined;
};

/** One client's order (local-endpoints.ts). */
export interface EndpointOrder {
  /** How many ranks `rankOf` gives within a written priority; 0 is preferred. */
  readonly ranks: number;
  rankOf(place: EndpointPlace): number;
  /** distribute: the client's split. Localities it gives nothing are left out; the rest are weighted by it. */
  readonly shares?: LocalityShares | undefined;
  /** The region an endpoint is taken to be in for this client (its own, unless it has none). */
  regionOf(region: string): string;
}

export interface EndpointPlace {
  readonly region: string;
  readonly zone: string;
  readonly labels?: Readonly<Record<string, string>> | undefined;
}

interface Group {
  readonly region: string;
  readonly zone: string;
  readonly priority: number;
  readonly endpoints: Endpoint[];
  weight: number;
}

export function loadAssignment(name: string, config: ServiceConfig, subset: string | undefined, order?: EndpointOrder): Obj {
  const labels = subset !== undefined ? (config.subsets?.[subset]?.labels ?? {}) : {};
  const groups = new Map<string, Group>();
  for (const ep of (config.endpoints ?? []) as readonly Endpoint[]) {
    if (!Object.entries(labels).every(([k, v]) => ep.labels?.[k] === v)) continue;
    const region = ep.region ?? '';
    const zone = ep.zone ?? '';
    const rank = order === undefined ? 0 : order.rankOf({ region: order.regionOf(region), zone, labels: ep.labels });
    const priority = (ep.priority ?? 0) * (order?.ranks ?? 1) + rank;
    const key = JSON.stringify([region, zone, priority]);
    let group = groups.get(key);
    if (group === undefined) {
      group = { region, zone, priority, endpoints: [], weight: 0 };
      groups.set(key, group);
    }
    group.endpoints.push(ep);
    group.weight += ep.weight ?? 1;
  }
  const kept = order?.shares === undefined ? [...groups.values()] : distribute([...groups.values()], order.shares, order);
  // gRPC clients NACK a gap in priorities (0 and 2 without 1), so they are renumbered in order.
  const ranks = [...new Set(kept.map((g) => g.priority))].sort((a, b) => a - b);
  const port = servicePort(config);
  return {
    cluster_name: name,
    endpoints: kept.map((g) => ({
      locality: { region: g.region, zone: g.zone },
      priority: ranks.indexOf(g.priority),
      load_balancing_weight: { value: g.weight },
      lb_endpoints: g.endpoints.map((ep) => ({
        endpoint: { address: { socket_address: { address: ep.address, port_value: ep.port ?? port } } },
        health_status: 'HEALTHY',
        load_balancing_weight: { value: ep.weight ?? 1 },
        ...(ep.labels !== undefined ? { metadata: { filter_metadata: { [PROXYLESS_METADATA]: structOf({ labels: ep.labels }) } } } : {}),
      })),
    })),
  };
}

/** The groups `shares` gives traffic to, within each priority, weighted as istiod weights them (rounded up). */
function distribute(groups: readonly Group[], shares: LocalityShares, order: EndpointOrder): Group[] {
  const out: Group[] = [];
  for (const priority of new Set(groups.map((g) => g.priority))) {
    const level = groups.filter((g) => g.priority === priority);
    const weights = distributedWeights(
      level.map((g) => ({ region: order.regionOf(g.region), zone: g.zone, weight: g.weight })),
      shares,
    );
    level.forEach((g, i) => {
      if (weights[i]! > 0) out.push({ ...g, weight: Math.ceil(weights[i]!) });
    });
  }
  return out;
}
