/**
 * Which Istio objects a config problem concerns, when the translator could
 * not pin it on one (a route to a subset no DestinationRule defines is
 * found only when the whole config is validated, `services.reviews.routes[0]...`):
 * the VirtualServices whose hosts, the DestinationRules whose host and the
 * HTTPRoutes and GRPCRoutes whose parents name a Service the problem is
 * about, in that Service's namespace. A port's
 * entry (`reviews-admin`) or another namespace's copy of a name
 * (`api-backend`) counts as the Service it reports as.
 */
import type { ConfigIssue } from '../../config/config-error.js';
import type { Raw } from '../../config/istio/reader.js';
import { identity } from '../../config/service-families.js';

export function concernedObjects(
  issues: readonly ConfigIssue[],
  ids: readonly string[],
  docs: ReadonlyMap<string, Raw>,
  services: Raw,
  meshNamespace: string,
): string[] {
  const named = new Set<string>();
  for (const issue of issues) {
    const name = /^services\.([^.[]+)/.exec(issue.path)?.[1];
    if (name === undefined || services[name] === undefined) continue;
    const { service, namespace } = identity(name, services[name], meshNamespace);
    named.add(`${service}.${namespace}`);
  }
  return ids.filter((id) => {
    const doc = docs.get(id);
    const ns = (doc?.metadata as { namespace?: unknown } | undefined)?.namespace;
    const own = typeof ns === 'string' ? ns : meshNamespace;
    // The object's own kind: an id names its collection, which for Linkerd's HTTPRoute is `HTTPRoute.policy.linkerd.io`.
    const kind = typeof doc?.kind === 'string' ? doc.kind : id.slice(0, id.indexOf(' '));
    return servicesOf(kind, doc?.spec, own).some((s) => named.has(s));
  });
}

/** `name.namespace` of each Service an object configures: a VirtualService's hosts, a DestinationRule's host, a route's Service parents. */
function servicesOf(kind: string, spec: unknown, namespace: string): string[] {
  const s = (typeof spec === 'object' && spec !== null ? spec : {}) as { hosts?: unknown; host?: unknown; parentRefs?: unknown };
  const hosts = kind === 'VirtualService' ? s.hosts : kind === 'DestinationRule' ? [s.host] : undefined;
  if (Array.isArray(hosts)) return hosts.flatMap((h) => (typeof h === 'string' ? [serviceOf(h, namespace)] : []));
  if ((kind === 'HTTPRoute' || kind === 'GRPCRoute') && Array.isArray(s.parentRefs)) {
    return s.parentRefs.flatMap((p: { kind?: unknown; name?: unknown; namespace?: unknown }) =>
      p?.kind === 'Service' && typeof p.name === 'string' ? [`${p.name}.${typeof p.namespace === 'string' ? p.namespace : namespace}`] : [],
    );
  }
  return [];
}

/** `reviews.shop` for host `reviews` in namespace shop, `reviews.shop.svc.cluster.local`, or `reviews.shop`. */
function serviceOf(host: string, namespace: string): string {
  const [name, ns] = host.toLowerCase().split('.');
  return `${name}.${ns ?? namespace}`;
}
