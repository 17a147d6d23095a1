/**
 * Which routes a listener serves, and what the client must subscribe to.
 *
 * Like Envoy's cluster warming: a listener's new routes are served once
 * every cluster they name has been answered for (present with endpoints, or
 * known not to exist); until then the routes it served before stay, so a
 * traffic shift never sends a request to a cluster the client knows nothing
 * about yet.
 */
import type { XdsCluster } from './decode-cluster.js';
import type { XdsEndpoints } from './decode-endpoints.js';
import type { XdsListener } from './decode-listener.js';
import type { XdsRouteConfig, XdsVirtualHost } from './decode-route.js';
import { selectVirtualHosts, type XdsResources } from './translate.js';
import type { TypeState } from './type-state.js';

export interface ClientState {
  readonly listenerNames: readonly string[];
  readonly lds: TypeState<XdsListener>;
  readonly rds: TypeState<XdsRouteConfig>;
  readonly cds: TypeState<XdsCluster>;
  readonly eds: TypeState<XdsEndpoints>;
}

export function resourcesOf(s: ClientState): XdsResources {
  return { listenerNames: s.listenerNames, listeners: s.lds.resources, routes: s.rds.resources, clusters: s.cds.resources };
}

/** The control plane has answered for this cluster: absent, or present with its endpoints (or needing none). */
export function isWarm(s: ClientState, cluster: string): boolean {
  if (s.cds.absent.has(cluster)) return true;
  const c = s.cds.resources.get(cluster);
  if (c === undefined) return false;
  if (c.source.kind !== 'eds') return true;
  return s.eds.resources.has(c.source.serviceName) || s.eds.absent.has(c.source.serviceName);
}

/** The virtual host each listener serves: the new one once its clusters are warm, else the one served before. */
export function chooseVirtualHosts(s: ClientState, served: ReadonlyMap<string, XdsVirtualHost>): Map<string, XdsVirtualHost> {
  const chosen = new Map<string, XdsVirtualHost>();
  const candidates = selectVirtualHosts(resourcesOf(s));
  for (const name of s.listenerNames) {
    if (s.lds.absent.has(name)) continue;
    const next = candidates.get(name);
    const before = served.get(name);
    if (next === undefined) {
      // Still waiting for the (new) route configuration: keep serving, unless it is known not to exist.
      const rds = s.lds.resources.get(name)?.rdsName;
      const gone = rds !== undefined && s.rds.absent.has(rds);
      if (before !== undefined && s.lds.resources.has(name) && !gone) chosen.set(name, before);
      continue;
    }
    const ready = next.routes.every((r) => r.clusters.every((c) => isWarm(s, c)));
    chosen.set(name, ready || before === undefined ? next : before);
  }
  return chosen;
}

/** The names to subscribe to: RDS for the listeners, CDS for the routes served and coming, EDS for EDS clusters. */
export function subscriptions(
  s: ClientState,
  served: ReadonlyMap<string, XdsVirtualHost>,
): { routes: Set<string>; clusters: Set<string>; endpoints: Set<string> } {
  const routes = new Set<string>();
  for (const l of s.lds.resources.values()) if (l.rdsName !== undefined) routes.add(l.rdsName);
  const clusters = new Set<string>();
  for (const vh of [...selectVirtualHosts(resourcesOf(s)).values(), ...served.values()]) {
    for (const r of vh.routes) for (const c of r.clusters) clusters.add(c);
  }
  const endpoints = new Set<string>();
  for (const [name, c] of s.cds.resources) if (clusters.has(name) && c.source.kind === 'eds') endpoints.add(c.source.serviceName);
  return { routes, clusters, endpoints };
}
