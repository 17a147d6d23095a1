/**
 * Istio networking and security resources in a config file, translated into
 * the config model's raw input before it is validated: ServiceEntry adds
 * services, DestinationRule sets their traffic policy and subsets,
 * VirtualService (or the Gateway API's HTTPRoute and GRPCRoute bound to a
 * Service) their routes, PeerAuthentication this workload's inbound mTLS.
 * The same file therefore configures a data plane reading it locally and
 * the control plane serving it over xDS.
 *
 * One source per setting: a service whose routes (or load balancer, ...)
 * are written both in our format and in an Istio resource is an error
 * naming both, never a silent override.
 */
import { ConfigError, type ConfigIssue } from '../config-error.js';
import { type DestinationPolicy, translateDestinationRule } from './destination-rule.js';
import { translateGrpcRoute } from './grpc-route.js';
import { HostIndex } from './host-index.js';
import { translateHttpRoute } from './http-route.js';
import { orderedRoutes, type ServiceRoutes } from './mesh-route.js';
import { type PeerAuthenticationCandidate, resolvePeerAuthentication, translatePeerAuthentication } from './peer-authentication.js';
import { isMap, type Raw, ResourceReader, resourceLabel } from './reader.js';
import { ReferenceGrants } from './reference-grants.js';
import { translateServiceEntry } from './service-entry.js';
import { translateVirtualService } from './virtual-service.js';

export const ISTIO_KINDS = ['ServiceEntry', 'DestinationRule', 'VirtualService', 'HTTPRoute', 'GRPCRoute', 'ReferenceGrant', 'PeerAuthentication'] as const;

export interface IstioDocument {
  /** Position in the file (0-based), for messages. */
  readonly index: number;
  readonly doc: Raw & { kind: string };
}

/** `own` (our document, possibly empty) with the Istio resources folded in; throws ConfigError listing every problem. */
export function applyIstioResources(own: Raw, docs: readonly IstioDocument[], source: string): Raw {
  const issues: ConfigIssue[] = [];
  const mesh: Raw = isMap(own.mesh) ? { ...own.mesh } : {};
  const services: Raw = isMap(own.services) ? { ...own.services } : {};
  const namespace = typeof mesh.namespace === 'string' ? mesh.namespace : 'default';
  const clusterDomain = typeof mesh.clusterDomain === 'string' ? mesh.clusterDomain : 'cluster.local';
  const origin = new Map<string, string>();
  const of = (kind: string) => docs.filter((d) => d.doc.kind === kind).map((d) => ({ ...d, r: new ResourceReader(issues, resourceLabel(d.index, d.doc)) }));

  for (const { doc, r } of of('ServiceEntry')) {
    for (const t of translateServiceEntry(doc, r)) {
      if (services[t.name] !== undefined) {
        r.issue(`defines service "${t.name}", which ${origin.get(t.name) ?? 'the mesh config'} already defines`);
        continue;
      }
      services[t.name] = t.service;
      origin.set(t.name, r.at);
    }
  }

  const hosts = new HostIndex(services, namespace, clusterDomain);
  const claimed = new Map<string, string>();
  const claim = (service: string, field: string, r: ResourceReader): boolean => {
    const svc = isMap(services[service]) ? (services[service] as Raw) : {};
    const key = `${service}.${field}`;
    const other = claimed.get(key) ?? (svc[field] !== undefined ? `services.${service}.${field}` : undefined);
    if (other !== undefined) {
      r.issue(`sets ${field} of service "${service}", which ${other} sets too; keep one`);
      return false;
    }
    claimed.set(key, r.at);
    return true;
  };
  const patch = (service: string, fields: Raw) => {
    services[service] = { ...(isMap(services[service]) ? services[service] : {}), ...fields };
  };

  for (const { doc, r } of of('DestinationRule')) {
    const ns = isMap(doc.metadata) && typeof doc.metadata.namespace === 'string' ? doc.metadata.namespace : undefined;
    const t = translateDestinationRule(doc, r);
    if (t === undefined) continue;
    const service = hosts.resolve(t.host, ns);
    if (service === undefined) {
      r.child('spec').issue(`host ${JSON.stringify(t.host)} is not a configured service; known: ${hosts.known().join(', ') || '(none)'}`, 'host');
      continue;
    }
    // Every port of the Service, each with its own portLevelSettings entry.
    for (const { service: port } of hosts.ports(service)) {
      const fields = Object.fromEntries(Object.entries(withPortLevel(t, services[port], port)).filter(([field]) => claim(port, field, r)));
      patch(port, fields);
    }
  }

  for (const { doc, r } of of('VirtualService')) {
    const t = translateVirtualService(doc, r, hosts);
    if (t === undefined) continue;
    for (const port of t.services) if (claim(port.service, 'routes', r)) patch(port.service, { routes: t.routesFor(port) });
  }

  // Every HTTPRoute of a Service is merged into its routes, in the Gateway API's precedence order; so is every
  // GRPCRoute, and a Service with routes of both kinds is refused by its claim.
  const grants = new ReferenceGrants();
  for (const { doc, r } of of('ReferenceGrant')) grants.add(doc, r, namespace);
  const routeKinds = [
    ['HTTPRoute', translateHttpRoute],
    ['GRPCRoute', translateGrpcRoute],
  ] as const;
  for (const [kind, translate] of routeKinds) {
    const byService = new Map<string, ServiceRoutes<unknown>[]>();
    for (const { doc, r } of of(kind)) {
      for (const t of translate(doc, r, hosts, grants) as ServiceRoutes<unknown>[]) byService.set(t.service, [...(byService.get(t.service) ?? []), t]);
    }
    for (const [service, list] of byService) {
      for (const port of hosts.ports(service)) {
        const claimer = list.find((t) => t.port === undefined || t.port === port.port);
        if (claimer !== undefined && claim(port.service, 'routes', claimer.at)) patch(port.service, { routes: orderedRoutes(list, port, hosts) });
      }
    }
  }

  const labels = isMap(mesh.labels) ? mesh.labels : {};
  const candidates: PeerAuthenticationCandidate[] = [];
  for (const { doc, r } of of('PeerAuthentication')) {
    const c = translatePeerAuthentication(doc, r, { namespace, labels });
    if (c !== undefined) candidates.push(c);
  }
  if (candidates.length > 0) {
    const mtls = resolvePeerAuthentication(candidates, new ResourceReader(issues, 'PeerAuthentication'));
    const security = isMap(mesh.security) ? { ...mesh.security } : {};
    if (security.mtls !== undefined) {
      issues.push({ path: candidates[0]!.at, message: 'sets inbound mTLS, which mesh.security.mtls sets too; keep one' });
    } else if (mtls !== undefined) {
      security.mtls = mtls;
      mesh.security = security;
    }
  }

  if (issues.length > 0) throw new ConfigError(source, issues);
  // Kept as written too: the control plane serves each workload the PeerAuthentications that select it.
  const peer = docs.filter((d) => d.doc.kind === 'PeerAuthentication').map((d) => d.doc);
  return { ...own, ...(Object.keys(mesh).length > 0 ? { mesh } : {}), services, ...(peer.length > 0 ? { peerAuthentications: peer } : {}) };
}

/**
 * A DestinationRule's policy for one port's service: the port-level entry
 * for that port replaces each block it sets, as in Istio, where
 * destination-level settings are not inherited by an overriding block.
 * Entries for other ports select nothing here (they are other ports' services').
 */
function withPortLevel(t: DestinationPolicy, service: unknown, name: string): Raw {
  if (t.portLevel.length === 0) return t.fields;
  const port = isMap(service) && typeof service.port === 'number' ? service.port : undefined;
  if (port === undefined) {
    t.portLevel[0]!.at.issue(`needs services.${name}.port to know which entry applies`);
    return t.fields;
  }
  const entry = t.portLevel.find((p) => p.port === port);
  return entry === undefined ? t.fields : { ...t.fields, ...entry.fields };
}
