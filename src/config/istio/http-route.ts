/**
 * Gateway API HTTPRoute bound to a Service (GAMMA, the mesh profile that
 * Istio and Linkerd both implement) → routes of that Service. A route is a
 * "producer" route in the Service's namespace, for every client, or a
 * "consumer" route in another namespace, only for clients in its own
 * namespace (a `sourceNamespace` condition here), and it wins over the
 * producer's for them.
 *
 * HTTPRoute rules are not first-match in the order written: the most
 * specific match wins (Exact path, then the longest PathPrefix, then a
 * method, then the most headers, then the most query parameters; then the
 * oldest route, its namespace/name, the rule's and the match's order). The
 * config model's routes are first-match, so each match becomes a route of
 * its own, sorted by that precedence (http-route-order.ts). A path
 * RegularExpression ranks after Exact and before every prefix (the spec
 * leaves it to the implementation).
 */
import type { HostIndex, ServicePort } from './host-index.js';
import { ruleActions } from './http-route-actions.js';
import { compareRank, type MatchRank, matchRank } from './http-route-order.js';
import { isMap, type Raw, type ResourceReader } from './reader.js';
import { PendingRoutes, portNumber } from './route-binding.js';

/** The routes one HTTPRoute gives one Service, not yet bound to its ports. */
export interface ServiceRoutes {
  /** The Service's first config service (host-index.ts). */
  readonly service: string;
  /** The parent's `port`: the routes apply to that port only. */
  readonly port: number | undefined;
  /** A route in another namespace than the Service's: for its own namespace's clients only. */
  readonly consumer: boolean;
  /** The HTTPRoute's namespace. */
  readonly namespace: string;
  readonly entries: readonly RankedRoute[];
  readonly pending: PendingRoutes;
  readonly at: ResourceReader;
}

export interface RankedRoute {
  readonly rank: MatchRank;
  readonly route: Raw;
}

const MESH_PARENT_KINDS = new Set(['Service']);
export function translateHttpRoute(doc: Raw, r: ResourceReader, hosts: HostIndex): ServiceRoutes[] {
  const s = r.child('spec');
  const spec = s.map(doc.spec, true);
  if (spec === undefined) return [];
  const meta = isMap(doc.metadata) ? doc.metadata : {};
  const namespace = typeof meta.namespace === 'string' ? meta.namespace : undefined;
  const created = typeof meta.creationTimestamp === 'string' ? meta.creationTimestamp : '';
  const id = `${namespace ?? ''}/${typeof meta.name === 'string' ? meta.name : ''}`;
  const parents = meshParents(spec.parentRefs, s.child('parentRefs'), namespace, hosts);
  // Bound only to Gateways: the gateway's business, as a gateway-only VirtualService is.
  if (parents.length === 0) return [];
  // The spec tells mesh implementations to ignore hostnames on Service parents.
  s.only(spec, ['parentRefs', 'hostnames', 'rules'], { sessionPersistence: 'is not supported' });
  const pending = new PendingRoutes();
  const rules = s.list(spec.rules) ?? [{}];
  const base = typeof meta.name === 'string' ? meta.name : 'httproute';
  const entries = rules.flatMap((value, i) => rule(value, s.child('rules').child(i), i, base, { id, created, namespace }, pending, hosts));
  const own = namespace ?? hosts.defaultNamespace;
  return parents.map((p) => ({ service: p.service, port: p.port, consumer: (p.namespace ?? own) !== own, namespace: own, entries, pending, at: r }));
}

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

interface RouteSource {
  /** `namespace/name`, for the order between routes. */
  readonly id: string;
  readonly created: string;
  readonly namespace: string | undefined;
}

/** One rule: one route per match (the rule's actions on each), each with its precedence. */
function rule(value: unknown, r: ResourceReader, index: number, base: string, source: RouteSource, pending: PendingRoutes, hosts: HostIndex): RankedRoute[] {
  const written = r.map(value, true) ?? {};
  r.only(written, ['name', 'matches', 'filters', 'backendRefs', 'timeouts', 'retry'], { sessionPersistence: 'is not supported' });
  // Named by the rule's name when it has one (Gateway API 1.2), else its position.
  const ruleName = `${base}.${typeof written.name === 'string' ? written.name : index}`;
  const actions = ruleActions(written, r, source.namespace, pending, hosts);
  const matches = written.matches === undefined ? [{}] : (r.list(written.matches) ?? []);
  const many = matches.length > 1;
  return matches.flatMap((m, j): RankedRoute[] => {
    const mr = r.child('matches').child(j);
    const translated = match(m, mr);
    if (translated === undefined) return [];
    const rank = matchRank(translated.rank, source.created, source.id, index, j);
    const routeName = many ? `${ruleName}.${j}` : ruleName;
    const rewrite = actions.prefixRewrite;
    // A prefix rewrite replaces "/foo" in "/foo/bar" and all of "/foo": two routes, each with its own.
    if (rewrite !== undefined && translated.prefix !== undefined) {
      const p = translated.prefix;
      const whole = { ...actions.route, name: `${routeName}.exact`, match: [{ ...translated.entry, uri: { exact: p } }], rewrite: { ...actions.rewrite, uri: rewrite } };
      const below = {
        ...actions.route,
        name: routeName,
        match: [{ ...translated.entry, uri: { prefix: `${p}/` } }],
        rewrite: { ...actions.rewrite, uri: rewrite.endsWith('/') ? rewrite : `${rewrite}/` },
      };
      return p === '' ? [{ rank, route: { ...below, match: [{ ...translated.entry, uri: { prefix: '/' } }] } }] : [{ rank, route: whole }, { rank, route: below }];
    }
    if (rewrite !== undefined) mr.issue('URLRewrite ReplacePrefixMatch needs a PathPrefix match, as the Gateway API requires');
    const { entry, prefix } = translated;
    const entries =
      prefix === undefined ? [entry] : prefix === '' ? [{ ...entry, uri: { prefix: '/' } }] : [{ ...entry, uri: { exact: prefix } }, { ...entry, uri: { prefix: `${prefix}/` } }];
    const route: Raw = { ...actions.route, name: routeName, match: entries };
    if (actions.rewrite !== undefined) route.rewrite = actions.rewrite;
    return [{ rank, route }];
  });
}

interface TranslatedMatch {
  readonly entry: Raw;
  /** A PathPrefix's path without its trailing slash (`''` for `/`), matched by whole segments. */
  readonly prefix: string | undefined;
  readonly rank: Pick<MatchRank, 'path' | 'length' | 'method' | 'headers' | 'queryParams'>;
}

function match(written: unknown, r: ResourceReader): TranslatedMatch | undefined {
  const m = r.map(written) ?? {};
  r.only(m, ['path', 'headers', 'queryParams', 'method']);
  const entry: Raw = {};
  const pr = r.child('path');
  const path = pr.map(m.path) ?? {};
  pr.only(path, ['type', 'value']);
  const type = path.type ?? 'PathPrefix';
  const value = path.value ?? '/';
  if (typeof value !== 'string' || !value.startsWith('/')) {
    pr.issue(`must be a path starting with "/", got ${JSON.stringify(value)}`, 'value');
    return undefined;
  }
  let prefix: string | undefined;
  let kind: 'exact' | 'regex' | 'prefix' = 'prefix';
  if (type === 'Exact') {
    entry.uri = { exact: value };
    kind = 'exact';
  } else if (type === 'RegularExpression') {
    entry.uri = { regex: value };
    kind = 'regex';
  } else if (type === 'PathPrefix') {
    prefix = value.replace(/\/+$/, '');
  } else {
    pr.issue(`must be Exact, PathPrefix or RegularExpression, got ${JSON.stringify(type)}`, 'type');
    return undefined;
  }
  const headers = nameValueMatches(m.headers, r.child('headers'), true);
  if (headers !== undefined) entry.headers = headers.out;
  const query = nameValueMatches(m.queryParams, r.child('queryParams'), false);
  if (query !== undefined) entry.queryParams = query.out;
  if (m.method !== undefined) {
    const method = r.child('method').string(m.method, true);
    if (method !== undefined) entry.method = { exact: method };
  }
  return {
    entry,
    prefix,
    rank: { path: kind, length: prefix?.length ?? value.length, method: m.method !== undefined, headers: headers?.count ?? 0, queryParams: query?.count ?? 0 },
  };
}

/** HTTPHeaderMatch or HTTPQueryParamMatch lists as the model's maps; a repeated name counts once, the first, as the spec says. */
function nameValueMatches(value: unknown, r: ResourceReader, foldCase: boolean): { out: Raw; count: number } | undefined {
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

/** The routes of every HTTPRoute for one Service port, in precedence order: consumer routes (this namespace's clients) first. */
export function orderedRoutes(all: readonly ServiceRoutes[], on: ServicePort, hosts: HostIndex): Raw[] {
  const ranked: { consumer: boolean; rank: MatchRank; route: Raw }[] = [];
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
      ranked.push({ consumer: routes.consumer, rank, route: bound });
    }
  }
  return ranked.sort((a, b) => Number(b.consumer) - Number(a.consumer) || compareRank(a.rank, b.rank)).map((r) => r.route);
}
