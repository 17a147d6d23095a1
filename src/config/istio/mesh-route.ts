/**
 * The Gateway API's routes bound to a Service (GAMMA, the mesh profile that
 * Istio and Linkerd both implement), whatever their kind: which Services
 * they configure, producer and consumer routes, and the order their matches
 * are tried in. A route in the Service's namespace is the producer's, for
 * every client; one in another namespace is a consumer's, only for clients
 * in its own namespace (a `sourceNamespace` condition here), and it comes
 * first for them. Route rules are not first-match in the order written:
 * each kind has its precedence (http-route-order.ts, grpc-route.ts), and
 * the config model's routes are first-match, so each match becomes a route
 * of its own, sorted by it.
 */
import type { HostIndex, ServicePort } from './host-index.js';
import { type LinkerdPolicy, linkerdPolicy } from './linkerd-policy.js';
import { isMap, type Raw, type ResourceReader } from './reader.js';
import { PendingRoutes, portNumber } from './route-binding.js';

/** The routes one route resource gives one Service, not yet bound to its ports; `R` ranks them (the kind's precedence). */
export interface ServiceRoutes<R> {
  /** The Service's first config service (host-index.ts). */
  readonly service: string;
  /** The parent's `port`: the routes apply to that port only. */
  readonly port: number | undefined;
  /** A route in another namespace than the Service's: for its own namespace's clients only. */
  readonly consumer: boolean;
  /** The route's namespace. */
  readonly namespace: string;
  readonly entries: readonly RankedRoute<R>[];
  /** Negative when a route ranked `a` is tried before one ranked `b`. */
  readonly compare: (a: R, b: R) => number;
  readonly pending: PendingRoutes;
  readonly at: ResourceReader;
}

export interface RankedRoute<R> {
  readonly rank: R;
  readonly route: Raw;
}

/** Where a route comes from, for the order between routes and for resolving its backends. */
export interface RouteSource {
  /** `namespace/name`. */
  readonly id: string;
  /** metadata.creationTimestamp, '' when unknown (a file). */
  readonly created: string;
  readonly namespace: string | undefined;
}

/** Where a match stands among equals of every route kind: the oldest route, then `namespace/name`, then its rule's and its own position. */
export interface MatchOrigin {
  /** RFC 3339, as metadata.creationTimestamp; '' when unknown (a file), which sorts first. */
  readonly created: string;
  /** `namespace/name` of the route. */
  readonly id: string;
  readonly rule: number;
  readonly match: number;
}

export function compareOrigin(a: MatchOrigin, b: MatchOrigin): number {
  return a.created.localeCompare(b.created) || a.id.localeCompare(b.id) || a.rule - b.rule || a.match - b.match;
}

/** Translates one rule (at `index`, named from `base`) into its ranked routes. */
export type RuleTranslator<R> = (value: unknown, r: ResourceReader, index: number, base: string, source: RouteSource, pending: PendingRoutes) => RankedRoute<R>[];

/**
 * What a route resource (HTTPRoute, GRPCRoute) gives each Service it names
 * in `parentRefs`: its rules translated by `rule`, once, and shared by the
 * parents. A resource bound only to Gateways gives nothing.
 */
export function meshRoutes<R>(doc: Raw, r: ResourceReader, hosts: HostIndex, compare: (a: R, b: R) => number, rule: RuleTranslator<R>): ServiceRoutes<R>[] {
  const s = r.child('spec');
  const spec = s.map(doc.spec, true);
  if (spec === undefined) return [];
  const meta = isMap(doc.metadata) ? doc.metadata : {};
  const namespace = typeof meta.namespace === 'string' ? meta.namespace : undefined;
  const created = typeof meta.creationTimestamp === 'string' ? meta.creationTimestamp : '';
  const written = typeof meta.name === 'string' ? meta.name : String(doc.kind).toLowerCase();
  // Linkerd's HTTPRoute may share a namespace and name with the Gateway API's: its routes are named apart ('@' is in no object name).
  const name = typeof doc.apiVersion === 'string' && doc.apiVersion.startsWith('policy.linkerd.io/') ? `${written}@policy.linkerd.io` : written;
  const parents = meshParents(spec.parentRefs, s.child('parentRefs'), namespace, hosts);
  // Bound only to Gateways: the gateway's business, as a gateway-only VirtualService is.
  if (parents.length === 0) return [];
  // The spec tells mesh implementations to ignore hostnames on Service parents.
  s.only(spec, ['parentRefs', 'hostnames', 'rules'], { sessionPersistence: 'is not supported' });
  const pending = new PendingRoutes();
  const source: RouteSource = { id: `${namespace ?? ''}/${name}`, created, namespace };
  const rules = s.list(spec.rules) ?? [{}];
  const policy = linkerdPolicy(meta.annotations, r.child('metadata').child('annotations'), doc.kind === 'GRPCRoute' ? 'GRPCRoute' : 'HTTPRoute');
  const entries = rules.flatMap((value, i) => rule(value, s.child('rules').child(i), i, name, source, pending)).map((e) => withLinkerdPolicy(e, policy));
  const own = namespace ?? hosts.defaultNamespace;
  return parents.map((p) => ({ service: p.service, port: p.port, consumer: (p.namespace ?? own) !== own, namespace: own, entries, compare, pending, at: r }));
}

/** Linkerd's annotations on the route win over its rules' own timeouts and retry, as in Linkerd; a redirect or a fixed answer has neither. */
function withLinkerdPolicy<R>(entry: RankedRoute<R>, policy: LinkerdPolicy): RankedRoute<R> {
  const { retries, timeout } = policy;
  if ((retries === undefined && timeout === undefined) || entry.route.route === undefined) return entry;
  return { ...entry, route: { ...entry.route, ...(retries === undefined ? {} : { retries }), ...(timeout === undefined ? {} : { timeout }) } };
}

const MESH_PARENT_KINDS = new Set(['Service']);
interface Parent {
  readonly service: string;
  readonly namespace: string | undefined;
  readonly port: number | undefined;
}

/** The Services among `parentRefs`; Gateways (the default kind) are left out, anything else is an issue. */
function meshParents(value: unknown, r: ResourceReader, namespace: string | undefined, hosts: HostIndex): Parent[] {
  return (r.list(value, true) ?? []).flatMap((v, i): Parent[] => {
    const pr = r.child(i);
    const ref = pr.map(v, true) ?? {};
    pr.only(ref, ['group', 'kind', 'name', 'namespace', 'port', 'sectionName'], {});
    const kind = typeof ref.kind === 'string' ? ref.kind : 'Gateway';
    const group = typeof ref.group === 'string' ? ref.group : kind === 'Gateway' ? 'gateway.networking.k8s.io' : '';
    if (kind === 'Gateway' && group === 'gateway.networking.k8s.io') return [];
    // Linkerd's inbound policy routes (parent: a Server) describe a server's side, which Linkerd's Servers and
    // AuthorizationPolicies govern; proxyless's inbound policy is Istio's (docs/security.md).
    if (kind === 'Server' && group === 'policy.linkerd.io') return [];
    if (!MESH_PARENT_KINDS.has(kind) || (group !== '' && group !== 'core')) {
      pr.issue(`is a ${group === '' ? '' : `${group}/`}${kind}; proxyless routes for parents of kind Service (core group) and leaves Gateways to the gateway`);
      return [];
    }
    if (ref.sectionName !== undefined) pr.issue('is not supported: name the Service port by number (port)', 'sectionName');
    const name = pr.child('name').string(ref.name, true);
    if (name === undefined) return [];
    const ns = typeof ref.namespace === 'string' ? ref.namespace : namespace;
    const service = hosts.resolve(`${name}.${ns ?? ''}`.replace(/\.$/, ''), ns);
    if (service === undefined) {
      pr.issue(`names Service ${JSON.stringify(ns === undefined ? name : `${ns}/${name}`)}, which is not a configured service; known: ${hosts.known().join(', ') || '(none)'}`, 'name');
      return [];
    }
    const port = ref.port === undefined ? undefined : portNumber(ref.port, pr.child('port'));
    return [{ service, namespace: ns, port }];
  });
}

/** HTTPHeaderMatch or HTTPQueryParamMatch lists as the model's maps; a repeated name counts once, the first, as the spec says. */
export function nameValueMatches(value: unknown, r: ResourceReader, foldCase: boolean): { out: Raw; count: number } | undefined {
  const list = r.list(value);
  if (list === undefined) return undefined;
  const out: Raw = {};
  list.forEach((v, i) => {
    const ir = r.child(i);
    const item = ir.map(v, true) ?? {};
    ir.only(item, ['type', 'name', 'value']);
    const raw = ir.child('name').string(item.name, true);
    const text = typeof item.value === 'string' ? item.value : undefined;
    if (text === undefined) ir.issue(`must be a string, got ${JSON.stringify(item.value)}`, 'value');
    const type = item.type ?? 'Exact';
    if (type !== 'Exact' && type !== 'RegularExpression') ir.issue(`must be Exact or RegularExpression, got ${JSON.stringify(type)}`, 'type');
    if (raw === undefined || text === undefined) return;
    const name = foldCase ? raw.toLowerCase() : raw;
    if (out[name] === undefined) out[name] = type === 'RegularExpression' ? { regex: text } : { exact: text };
  });
  return { out, count: Object.keys(out).length };
}

/** The routes of every route resource of one kind for one Service port, in precedence order: consumer routes (this namespace's clients) first. */
export function orderedRoutes<R>(all: readonly ServiceRoutes<R>[], on: ServicePort, hosts: HostIndex): Raw[] {
  const ranked: { consumer: boolean; rank: R; route: Raw; compare: (a: R, b: R) => number }[] = [];
  for (const routes of all) {
    if (routes.port !== undefined && routes.port !== on.port) continue;
    for (const { rank, route } of routes.entries) {
      const bound = routes.pending.bind(route, on, hosts);
      if (bound === undefined) continue;
      // A consumer route is for the clients of its own namespace only.
      if (routes.consumer) {
        bound.name = `${routes.namespace}/${String(bound.name)}`;
        bound.match = (bound.match as Raw[]).map((entry) => ({ ...entry, sourceNamespace: routes.namespace }));
      }
      ranked.push({ consumer: routes.consumer, rank, route: bound, compare: routes.compare });
    }
  }
  return ranked.sort((a, b) => Number(b.consumer) - Number(a.consumer) || a.compare(a.rank, b.rank)).map((r) => r.route);
}
