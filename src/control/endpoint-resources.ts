/**
 * A cluster's endpoints as an Envoy ClusterLoadAssignment (EDS): grouped by
 * locality (region, zone) and priority, each group weighted by the sum of
 * its endpoints' weights. gRPC clients drop a locality without a weight, so
 * every group gets one. A subset cluster holds the endpoints whose labels
 * include all of the subset's labels.
 *
 * With an `order` (one client's, local-endpoints.ts), each endpoint's
 * priority becomes its written priority, then its rank for that client
 * within it, so one locality can span several priorities.
 */
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

/** Ranks endpoints within a written priority for one client; 0 is preferred, `ranks` bounds them. */
export interface EndpointOrder {
  readonly ranks: number;
  rankOf(ep: { readonly region: string; readonly zone: string; readonly labels?: Readonly<Record<string, string>> | undefined }): number;
}

export function loadAssignment(name: string, config: ServiceConfig, subset: string | undefined, order?: EndpointOrder): Obj {
  const labels = subset !== undefined ? (config.subsets?.[subset]?.labels ?? {}) : {};
  const groups = new Map<string, { region: string; zone: string; priority: number; endpoints: Endpoint[] }>();
  for (const ep of (config.endpoints ?? []) as readonly Endpoint[]) {
    if (!Object.entries(labels).every(([k, v]) => ep.labels?.[k] === v)) continue;
    const region = ep.region ?? '';
    const zone = ep.zone ?? '';
    const priority = (ep.priority ?? 0) * (order?.ranks ?? 1) + (order?.rankOf({ region, zone, labels: ep.labels }) ?? 0);
    const key = JSON.stringify([region, zone, priority]);
    let group = groups.get(key);
    if (group === undefined) {
      group = { region, zone, priority, endpoints: [] };
      groups.set(key, group);
    }
    group.endpoints.push(ep);
  }
  // gRPC clients NACK a gap in priorities (0 and 2 without 1), so they are renumbered in order.
  const ranks = [...new Set([...groups.values()].map((g) => g.priority))].sort((a, b) => a - b);
  const port = servicePort(config);
  return {
    cluster_name: name,
    endpoints: [...groups.values()].map((g) => ({
      locality: { region: g.region, zone: g.zone },
      priority: ranks.indexOf(g.priority),
      load_balancing_weight: { value: g.endpoints.reduce((sum, ep) => sum + (ep.weight ?? 1), 0) },
      lb_endpoints: g.endpoints.map((ep) => ({
        endpoint: { address: { socket_address: { address: ep.address, port_value: ep.port ?? port } } },
        health_status: 'HEALTHY',
        load_balancing_weight: { value: ep.weight ?? 1 },
        ...(ep.labels !== undefined ? { metadata: { filter_metadata: { [PROXYLESS_METADATA]: structOf({ labels: ep.labels }) } } } : {}),
      })),
    })),
  };
}
