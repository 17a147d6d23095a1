/**
 * How xDS names become the mesh's names.
 *
 * A listener is named after the target a client dials, as gRPC's proxyless
 * clients do and istiod serves them: `reviews.default.svc.cluster.local:9080`
 * (istiod's form), `reviews:9080` or plain `reviews`. The mesh service is the
 * first DNS label (`reviews`); a Kubernetes-style host (`name.namespace.svc…`)
 * also gives the namespace, any other host becomes an alias in `hosts`.
 * Several listeners of one Service (its ports, or namesakes in other
 * namespaces) are services of their own, told apart by port
 * (routing/host-index.ts): see listenerServiceKeys.
 *
 * A cluster becomes a service of its own: under its own name when that is a
 * DNS label that no listener service uses, else `xds-<sanitized>-<hash>`
 * (Istio's `outbound|9080|v1|reviews.default.svc.cluster.local` does not fit
 * a label).
 */
import { createHash } from 'node:crypto';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export interface ListenerTarget {
  /** The mesh service name. */
  readonly service: string;
  readonly host: string;
  readonly port: number | undefined;
  readonly namespace: string | undefined;
  /** Authorities to pick a virtual host with: `host:port`, then `host`. */
  readonly authorities: readonly string[];
}

function sanitize(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

export function listenerTarget(name: string): ListenerTarget {
  const m = /^(.*?)(?::(\d{1,5}))?$/.exec(name.replace(/^xds:\/\/[^/]*\//, ''));
  const host = (m?.[1] ?? name).toLowerCase();
  const port = m?.[2] !== undefined ? Number(m[2]) : undefined;
  const labels = host.split('.');
  const first = labels[0] ?? host;
  const service = DNS_LABEL.test(first) && first.length <= 63 ? first : `xds-${sanitize(first).slice(0, 45)}-${shortHash(first)}`;
  const namespace = labels.length >= 3 && labels[2] === 'svc' && DNS_LABEL.test(labels[1] ?? '') ? labels[1] : undefined;
  const authorities = port !== undefined ? [`${host}:${port}`, host] : [host];
  return { service, host, port, namespace, authorities };
}

/**
 * The service key of each listener, in the order given. The first listener
 * of a Service takes its name (`reviews`); another listener of it (another
 * port, `reviews:9090`, or another namespace, `reviews.qa.svc.cluster.local:9080`)
 * takes `reviews-9090`, `reviews-qa` or `reviews-qa-9090`, whichever is a
 * free DNS label first, else a hashed name (translate.ts gives it the
 * Service's host names and reports it as the Service).
 */
export function listenerServiceKeys(names: readonly string[]): Map<string, string> {
  const keys = new Map<string, string>();
  const taken = new Set<string>();
  const first = new Map<string, ListenerTarget>();
  for (const name of names) {
    if (keys.has(name)) continue;
    const t = listenerTarget(name);
    const before = first.get(t.service);
    if (before === undefined) first.set(t.service, t);
    const candidates = [t.service];
    // Named for what sets it apart from the Service's first listener: its namespace, else its port.
    const elsewhere = t.namespace !== undefined && t.namespace !== before?.namespace;
    if (elsewhere) candidates.push(`${t.service}-${t.namespace}`);
    if (t.port !== undefined) candidates.push(`${t.service}-${t.port}`);
    if (t.namespace !== undefined && t.port !== undefined) candidates.push(`${t.service}-${t.namespace}-${t.port}`);
    const key = candidates.find((c) => DNS_LABEL.test(c) && c.length <= 63 && !taken.has(c)) ?? clusterServiceName(name, taken);
    taken.add(key);
    keys.set(name, key);
  }
  return keys;
}

/**
 * Two listeners that name one Service on one port (`reviews:9080` and
 * `reviews.default.svc.cluster.local:9080` in namespace default) would both
 * claim its names on that port, and no port could tell them apart: the
 * first such pair, or undefined. A bare host is in `ownNamespace`.
 */
export function sameServiceListeners(names: readonly string[], ownNamespace: string | undefined): [string, string] | undefined {
  const seen = new Map<string, string>();
  for (const name of names) {
    const t = listenerTarget(name);
    // Where the name points: a Kubernetes namespace, this mesh's for a bare host, else the host itself (api.example.com).
    const where = t.namespace ?? (t.host.includes('.') ? t.host : ownNamespace);
    const key = `${t.service} ${where ?? ''} ${t.port ?? ''}`;
    const other = seen.get(key);
    if (other !== undefined && other !== name) return [other, name];
    seen.set(key, name);
  }
  return undefined;
}

/** Where the mesh runs, for the host names a bare or Kubernetes-style target stands for. */
export interface ListenerPlace {
  readonly namespace: string;
  readonly clusterDomain: string;
}

/**
 * The hosts a listener's service claims when it cannot claim them by its
 * key (a second listener of one Service, see listenerServiceKeys): the
 * names its first listener's service claims by the Service's name (the
 * Kubernetes forms; the bare name only in this mesh's namespace), so the
 * call's port alone tells the two apart.
 */
export function listenerHosts(t: ListenerTarget, place: ListenerPlace | undefined): string[] {
  const hosts = new Set([t.host]);
  const bare = !t.host.includes('.');
  const ns = t.namespace ?? (bare ? place?.namespace : undefined);
  if (ns !== undefined) {
    hosts.add(`${t.service}.${ns}`);
    hosts.add(`${t.service}.${ns}.svc`);
    if (place !== undefined) hosts.add(`${t.service}.${ns}.svc.${place.clusterDomain.replace(/\.$/, '').toLowerCase()}`);
    if (ns === place?.namespace) hosts.add(t.service);
  }
  return [...hosts];
}

export function clusterServiceName(cluster: string, taken: ReadonlySet<string>): string {
  if (DNS_LABEL.test(cluster) && cluster.length <= 63 && !taken.has(cluster)) return cluster;
  const base = sanitize(cluster).slice(0, 45).replace(/-$/, '');
  return `xds-${base}-${shortHash(cluster)}`;
}

/**
 * The Kubernetes Service an Istio-named cluster (`outbound|9080|v1|reviews.default.svc.cluster.local`,
 * as istiod and proxyless's control plane name them) stands for, so Istio's metrics and the spans
 * report `reviews` in `default`, not the cluster service's generated name. Other names: undefined.
 */
export function istioClusterService(cluster: string): { readonly name: string; readonly namespace: string } | undefined {
  const parts = cluster.split('|');
  if (parts.length !== 4 || parts[0] !== 'outbound') return undefined;
  const labels = (parts[3] ?? '').toLowerCase().split('.');
  const [name = '', namespace = ''] = labels;
  if (labels.length < 3 || labels[2] !== 'svc' || !DNS_LABEL.test(name) || name.length > 63 || !DNS_LABEL.test(namespace) || namespace.length > 63) {
    return undefined;
  }
  return { name, namespace };
}

/** The discovery URIs the mesh's `xds:` provider serves. */
export const listenerUri = (name: string): string => `xds:listener/${name}`;
export const clusterUri = (name: string): string => `xds:cluster/${name}`;
