/**
 * Which Istio objects a config problem concerns, when the translator could
 * not pin it on one (a route to a subset no DestinationRule defines is
 * found only when the whole config is validated, `services.reviews.routes[0]...`):
 * the VirtualServices whose hosts and the DestinationRules whose host name
 * a Service the problem is about, in that Service's namespace. A port's
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
    const spec = doc?.spec as { hosts?: unknown; host?: unknown } | undefined;
    const hosts = id.startsWith('VirtualService ') ? spec?.hosts : id.startsWith('DestinationRule ') ? [spec?.host] : undefined;
    if (!Array.isArray(hosts)) return false;
    const ns = (doc?.metadata as { namespace?: unknown } | undefined)?.namespace;
    const own = typeof ns === 'string' ? ns : meshNamespace;
    return hosts.some((h) => typeof h === 'string' && named.has(serviceOf(h, own)));
  });
}

/** `reviews.shop` for host `reviews` in namespace shop, `reviews.shop.svc.cluster.local`, or `reviews.shop`. */
function serviceOf(host: string, namespace: string): string {
  const [name, ns] = host.toLowerCase().split('.');
  return `${name}.${ns ?? namespace}`;
}
