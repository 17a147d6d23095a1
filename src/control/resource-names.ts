/**
 * How the control plane names the xDS resources it serves for a service.
 *
 * - Listeners are named by the authority a client dials, as gRPC's proxyless
 *   clients expect: `xds:///reviews` asks for listener `reviews`. The Istio
 *   spellings (`reviews.default.svc.cluster.local:9080`, `reviews:9080`, ...)
 *   and the service's extra `hosts` are served too, so a client written for
 *   istiod finds the same names here.
 * - Route configurations are named by the service; every listener alias of a
 *   service points at the same one.
 * - Clusters follow istiod: `outbound|<port>|<subset>|<fqdn>`, so dashboards
 *   and tools that parse Istio cluster names work unchanged. The cluster's
 *   EDS resource has the same name.
 */
import type { MeshSettings, ServiceConfig } from '../config/schema.js';
import { familiesOf } from '../config/service-families.js';

/** Used when neither the service nor its endpoints name a port. */
const FALLBACK_PORT = 80;

/** The Service's FQDN: of the Service the entry reports as (one port of it, see listenerNames), else of the entry. */
export function serviceFqdn(name: string, service: ServiceConfig, mesh: MeshSettings): string {
  return `${service.reportAs ?? name}.${service.namespace ?? mesh.namespace}.svc.${mesh.clusterDomain}`;
}

/** The port in cluster and listener names: the service's, else its first endpoint's. */
export function servicePort(service: ServiceConfig): number {
  return service.port ?? service.endpoints?.find((e) => e.port !== undefined)?.port ?? FALLBACK_PORT;
}

export function clusterName(name: string, service: ServiceConfig, mesh: MeshSettings, subset?: string): string {
  return `outbound|${servicePort(service)}|${subset ?? ''}|${serviceFqdn(name, service, mesh)}`;
}

export function routeConfigName(name: string): string {
  return name;
}

/**
 * Every authority a client may dial to reach `name`; the first is the
 * canonical one. An entry that reports as a Service (service-families.ts)
 * is reached by that Service's names with its port
 * (`reviews.shop.svc.cluster.local:9901`, the canonical one); the entry
 * that answers for the Service (its first port) by the port-less names
 * too, and so are the `hosts` it lists. The bare name (`reviews`,
 * `reviews:9901`) is only the Service's whose namespace has the entry of
 * that name: a same-named Service of another namespace is reached by its
 * qualified names. Its own name stays an alias, with and without the port.
 */
export function listenerNames(name: string, service: ServiceConfig, mesh: MeshSettings, services: Readonly<Record<string, ServiceConfig>>): string[] {
  const ns = service.namespace ?? mesh.namespace;
  const port = servicePort(service);
  const fqdn = serviceFqdn(name, service, mesh);
  const out = new Set<string>();
  const reportAs = service.reportAs;
  const family = familiesOf(services, mesh.namespace).of(name);
  const first = family === undefined || family.members[0] === name;
  if (reportAs !== undefined && reportAs !== name) {
    const hosts = [fqdn, `${reportAs}.${ns}`, `${reportAs}.${ns}.svc`];
    if (family?.ownsBareName !== false) hosts.push(reportAs);
    for (const host of hosts) {
      out.add(`${host}:${port}`);
      if (first) out.add(host);
    }
  }
  for (const host of [name, `${name}.${ns}`, `${name}.${ns}.svc`, `${name}.${ns}.svc.${mesh.clusterDomain}`]) {
    out.add(host);
    out.add(`${host}:${port}`);
  }
  // The hosts every port of a Service lists (a ServiceEntry's): port-less, they are its first port's.
  for (const host of service.hosts ?? []) {
    if (first) out.add(host);
    out.add(`${host}:${port}`);
  }
  return [...out];
}
