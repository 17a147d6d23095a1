/**
 * The xDS layer of the config: every subscribed listener and every cluster
 * its routes name, as model services. Pure: the same resources (and the
 * same registered load-balancer policies) give the same config. A route
 * never names a service that is not here, so a cluster that has not arrived
 * yet (or does not exist) is a service whose discovery has not answered (or
 * answers with an error), never a dangling reference that would make the
 * whole update invalid.
 */
import type { ConfigIssue } from '../../config/config-error.js';
import type { RegisteredPolicies } from '../../config/lb-policy-check.js';
import type { HashOn } from '../../config/schema.js';
import { BUILTIN_POLICIES_ONLY, chooseLoadBalancer } from './choose-lb-policy.js';
import type { XdsCluster } from './decode-cluster.js';
import { resolveFault } from './decode-fault.js';
import type { XdsListener } from './decode-listener.js';
import { pickVirtualHost, type XdsRouteConfig, type XdsVirtualHost } from './decode-route.js';
import type { Warn } from './decode-route-action.js';
import { clusterServiceName, clusterUri, istioClusterService, type ListenerPlace, listenerHosts, listenerServiceKeys, listenerTarget, listenerUri } from './names.js';

export interface XdsResources {
  /** Subscribed listener names, in the order configured. */
  readonly listenerNames: readonly string[];
  readonly listeners: ReadonlyMap<string, XdsListener>;
  readonly routes: ReadonlyMap<string, XdsRouteConfig>;
  readonly clusters: ReadonlyMap<string, XdsCluster>;
}

export interface Translation {
  readonly config: { services: Record<string, Record<string, unknown>> };
  /** The route configuration and virtual host each listener uses. */
  readonly virtualHosts: ReadonlyMap<string, XdsVirtualHost>;
  /** Cluster name → the service it became. */
  readonly clusterServices: ReadonlyMap<string, string>;
  /** Why this translation must not be applied (a cluster listing no load-balancing policy the mesh has); empty when it may. */
  readonly issues: readonly ConfigIssue[];
}

export function routeConfigOf(listener: XdsListener, routes: ReadonlyMap<string, XdsRouteConfig>): XdsRouteConfig | undefined {
  return listener.inlineRoutes ?? (listener.rdsName === undefined ? undefined : routes.get(listener.rdsName));
}

/** The virtual host each present listener uses. */
export function selectVirtualHosts(res: XdsResources): Map<string, XdsVirtualHost> {
  const out = new Map<string, XdsVirtualHost>();
  for (const name of res.listenerNames) {
    const listener = res.listeners.get(name);
    if (listener === undefined) continue;
    const rc = routeConfigOf(listener, res.routes);
    const vh = rc === undefined ? undefined : pickVirtualHost(rc.virtualHosts, listenerTarget(name).authorities);
    if (vh !== undefined) out.set(name, vh);
  }
  return out;
}

/**
 * `virtualHosts`: the one each listener serves (see XdsClient: new routes
 * wait for their clusters). `policies`: the mesh's load-balancer registry,
 * which picks each cluster's policy among its candidates.
 */
export function translate(
  res: XdsResources,
  virtualHosts: ReadonlyMap<string, XdsVirtualHost>,
  warn: Warn,
  policies: RegisteredPolicies = BUILTIN_POLICIES_ONLY,
  place?: ListenerPlace,
): Translation {
  const services: Record<string, Record<string, unknown>> = {};
  const issues: ConfigIssue[] = [];
  const listenerKeys = listenerServiceKeys(res.listenerNames);
  const listenerServices = new Set(listenerKeys.values());
  const clusterServices = new Map<string, string>();
  const hashes = new Map<string, HashOn>();
  const serviceOf = (cluster: string): string => {
    let name = clusterServices.get(cluster);
    if (name === undefined) {
      name = clusterServiceName(cluster, listenerServices);
      clusterServices.set(cluster, name);
    }
    return name;
  };

  for (const name of res.listenerNames) {
    const target = listenerTarget(name);
    const key = listenerKeys.get(name)!;
    const svc: Record<string, unknown> = { discovery: listenerUri(name) };
    if (target.namespace !== undefined) svc.namespace = target.namespace;
    if (key !== target.service) {
      // Another listener of the Service has its name: this one claims the same hosts, told apart by its port.
      svc.hosts = listenerHosts(target, place);
      svc.reportAs = target.service;
    } else if (target.namespace === undefined && target.host !== target.service) svc.hosts = [target.host];
    if (target.port !== undefined) svc.port = target.port;
    const listener = res.listeners.get(name);
    const vh = virtualHosts.get(name);
    if (listener !== undefined && vh !== undefined) {
      svc.routes = vh.routes.map((x) => {
        const route: Record<string, unknown> = { ...x.route };
        if (Array.isArray(route.route)) {
          route.route = (route.route as { destination: { service: string } }[]).map((d) => ({
            ...d,
            destination: { service: serviceOf(d.destination.service) },
          }));
        }
        if (route.mirror !== undefined) route.mirror = { service: serviceOf((route.mirror as { service: string }).service) };
        if (Array.isArray(route.mirrors)) {
          route.mirrors = (route.mirrors as { destination: { service: string }; percentage: number }[]).map((m) => ({
            ...m,
            destination: { service: serviceOf(m.destination.service) },
          }));
        }
        // A route that answers itself (redirect, direct response) has no upstream for a timeout or fault to act on.
        const answers = route.redirect !== undefined || route.directResponse !== undefined;
        if (!x.hasTimeout && listener.maxStreamDurationMs !== undefined && !answers) {
          route.timeout = listener.maxStreamDurationMs;
        }
        const fault = resolveFault(x.fault, vh.fault, listener.fault);
        if (fault !== undefined && !answers) route.fault = fault;
        if (x.hashOn !== undefined) {
          for (const cluster of x.clusters) {
            const before = hashes.get(cluster);
            if (before === undefined) hashes.set(cluster, x.hashOn);
            else if (JSON.stringify(before) !== JSON.stringify(x.hashOn)) {
              warn(`listener ${name}`, `routes hash cluster ${cluster} differently; the first hash policy is used`);
            }
          }
        }
        return route;
      });
    }
    services[key] = svc;
  }

  for (const [cluster, service] of clusterServices) {
    const decoded = res.clusters.get(cluster);
    const svc: Record<string, unknown> = { ...decoded?.settings };
    if (decoded !== undefined) {
      const choice = chooseLoadBalancer(cluster, service, decoded.loadBalancers, policies, warn);
      if ('issue' in choice) issues.push(choice.issue);
      else svc.loadBalancer = choice.lb;
    }
    if (decoded?.source.kind === 'dns') svc.discovery = `dns:${decoded.source.host}:${decoded.source.port}`;
    else svc.discovery = clusterUri(cluster);
    const reported = istioClusterService(cluster);
    if (reported !== undefined) {
      svc.reportAs = reported.name;
      svc.namespace = reported.namespace;
    }
    const hashOn = hashes.get(cluster);
    if (hashOn !== undefined) svc.loadBalancer = { ...(svc.loadBalancer as Record<string, unknown> | undefined), hashOn };
    services[service] = svc;
  }
  return { config: { services }, virtualHosts, clusterServices, issues };
}
