/**
 * What an HTTPRoute rule does with the requests it matches, in the config
 * model's terms: its filters (header changes, redirect, rewrite, mirrors),
 * its backends (Services, bound per port by route-binding.ts; another
 * namespace's with a ReferenceGrant), its timeouts and retry. http-route.ts applies them to
 * each of the rule's matches.
 */
import type { HostIndex } from './host-index.js';
import { isMap, type Raw, type ResourceReader } from './reader.js';
import type { ReferenceGrants } from './reference-grants.js';
import { type PendingRoutes, portNumber } from './route-binding.js';

/** Where a route's backends are looked up, and who may be referred to. */
export interface BackendScope {
  /** The route's kind, as ReferenceGrants name it (`HTTPRoute`, `GRPCRoute`). */
  readonly kind: string;
  /** The route's namespace. */
  readonly namespace: string;
  readonly pending: PendingRoutes;
  readonly hosts: HostIndex;
  readonly grants: ReferenceGrants;
}

/** The filters proxyless takes, by type, with the field each one's settings are under. */
const FILTER_FIELDS: Readonly<Record<string, string>> = {
  RequestHeaderModifier: 'requestHeaderModifier',
  ResponseHeaderModifier: 'responseHeaderModifier',
  RequestRedirect: 'requestRedirect',
  URLRewrite: 'urlRewrite',
  RequestMirror: 'requestMirror',
};
const FILTER_TYPES = Object.keys(FILTER_FIELDS);

export interface RuleActions {
  /** The route's fields other than name, match and rewrite. */
  readonly route: Raw;
  readonly rewrite: Raw | undefined;
  /** URLRewrite's ReplacePrefixMatch, applied per match (it needs the match's prefix). */
  readonly prefixRewrite: string | undefined;
}

export function ruleActions(rule: Raw, r: ResourceReader, scope: BackendScope): RuleActions {
  const route: Raw = {};
  let rewrite: Raw | undefined;
  let prefixRewrite: string | undefined;
  const headers: Raw = {};
  const mirrors: Raw[] = [];
  const fr = r.child('filters');
  for (const [i, value] of (fr.list(rule.filters) ?? []).entries()) {
    const f = fr.child(i).map(value, true) ?? {};
    const at = fr.child(i);
    const type = at.child('type').string(f.type, true);
    if (type === undefined) continue;
    const key = Object.hasOwn(FILTER_FIELDS, type) ? FILTER_FIELDS[type]! : undefined;
    if (key === undefined) {
      at.issue(`is not supported (proxyless takes ${FILTER_TYPES.join(', ')})`, 'type');
      continue;
    }
    at.only(f, ['type', key]);
    const body = at.child(key).map(f[key], true) ?? {};
    if (type === 'RequestHeaderModifier') headers.request = headerModifier(body, at.child(key));
    else if (type === 'ResponseHeaderModifier') headers.response = headerModifier(body, at.child(key));
    else if (type === 'RequestRedirect') route.redirect = redirect(body, at.child(key));
    else if (type === 'URLRewrite') ({ rewrite, prefixRewrite } = urlRewrite(body, at.child(key)));
    else mirrors.push(mirror(body, at.child(key), scope));
  }
  if (Object.keys(headers).length > 0) route.headers = headers;
  if (mirrors.length > 0) route.mirrors = mirrors;
  const backends = backendRefs(rule.backendRefs, r.child('backendRefs'), scope);
  if (backends !== undefined && route.redirect !== undefined) {
    r.issue('sets both a RequestRedirect filter and backendRefs; the Gateway API allows one of them', 'backendRefs');
    return { route, rewrite, prefixRewrite };
  }
  // Every weight 0: the spec answers 500 rather than pick one.
  if (backends?.every((b) => b.weight === 0)) route.directResponse = { status: 500 };
  else if (backends !== undefined) route.route = backends;
  // No backendRefs: on to the parent Service itself, as meshes read it (a rule that only adds headers, say).
  else if (route.redirect === undefined) route.route = [{ destination: {} }];
  timeouts(rule, r, route);
  return { route, rewrite, prefixRewrite };
}

/** HTTPHeaderFilter's lists as the model's `set`/`add` maps and `remove` list. */
function headerModifier(body: Raw, r: ResourceReader): Raw {
  r.only(body, ['set', 'add', 'remove']);
  const out: Raw = {};
  for (const op of ['set', 'add'] as const) {
    const list = r.list(body[op]);
    if (list === undefined) continue;
    const map: Raw = {};
    list.forEach((v, i) => {
      const ir = r.child(op).child(i);
      const h = ir.map(v, true) ?? {};
      ir.only(h, ['name', 'value']);
      const name = ir.child('name').string(h.name, true);
      if (name !== undefined) map[name.toLowerCase()] = typeof h.value === 'string' ? h.value : String(h.value ?? '');
    });
    out[op] = map;
  }
  if (body.remove !== undefined) out.remove = r.list(body.remove) ?? [];
  return out;
}

function redirect(body: Raw, r: ResourceReader): Raw {
  r.only(body, ['scheme', 'hostname', 'path', 'port', 'statusCode']);
  // The Gateway API's default is 302, Istio's 301.
  const out: Raw = { redirectCode: body.statusCode ?? 302 };
  if (body.scheme !== undefined) out.scheme = body.scheme;
  if (body.hostname !== undefined) out.authority = body.port === undefined ? body.hostname : `${String(body.hostname)}:${String(body.port)}`;
  else if (body.port !== undefined) r.issue('is not supported without hostname: proxyless redirects to a whole authority', 'port');
  if (body.path !== undefined) {
    const path = pathModifier(body.path, r.child('path'));
    if (path?.type === 'ReplaceFullPath') out.uri = path.value;
    else if (path !== undefined) r.child('path').issue('ReplacePrefixMatch is not supported in a redirect: proxyless redirects replace the whole path (ReplaceFullPath)', 'type');
  }
  return out;
}

function urlRewrite(body: Raw, r: ResourceReader): { rewrite: Raw | undefined; prefixRewrite: string | undefined } {
  r.only(body, ['hostname', 'path']);
  const rewrite: Raw = {};
  if (body.hostname !== undefined) rewrite.authority = body.hostname;
  let prefixRewrite: string | undefined;
  if (body.path !== undefined) {
    const path = pathModifier(body.path, r.child('path'));
    // The whole path, whatever matched: a regex over all of it.
    if (path?.type === 'ReplaceFullPath') rewrite.uriRegexRewrite = { match: '.*', rewrite: path.value };
    else if (path !== undefined) prefixRewrite = path.value;
  }
  return { rewrite: Object.keys(rewrite).length > 0 ? rewrite : undefined, prefixRewrite };
}

function pathModifier(value: unknown, r: ResourceReader): { type: 'ReplaceFullPath' | 'ReplacePrefixMatch'; value: string } | undefined {
  const p = r.map(value) ?? {};
  r.only(p, ['type', 'replaceFullPath', 'replacePrefixMatch']);
  if (p.type === 'ReplaceFullPath' || p.type === 'ReplacePrefixMatch') {
    const key = p.type === 'ReplaceFullPath' ? 'replaceFullPath' : 'replacePrefixMatch';
    const text = r.child(key).string(p[key], true);
    return text === undefined ? undefined : { type: p.type, value: text };
  }
  r.issue(`must be ReplaceFullPath or ReplacePrefixMatch, got ${JSON.stringify(p.type)}`, 'type');
  return undefined;
}

function mirror(body: Raw, r: ResourceReader, scope: BackendScope): Raw {
  r.only(body, ['backendRef', 'percent', 'fraction']);
  const out: Raw = { destination: backend(body.backendRef, r.child('backendRef'), scope) ?? {} };
  if (body.percent !== undefined) out.percentage = body.percent;
  else if (isMap(body.fraction)) {
    const { numerator, denominator = 100 } = body.fraction as { numerator?: unknown; denominator?: unknown };
    if (typeof numerator === 'number' && typeof denominator === 'number' && denominator > 0) out.percentage = (numerator / denominator) * 100;
    else r.issue('must be { numerator, denominator } with a denominator above 0', 'fraction');
  }
  return out;
}

function backendRefs(value: unknown, r: ResourceReader, scope: BackendScope): Raw[] | undefined {
  const list = r.list(value);
  if (list === undefined || list.length === 0) return undefined;
  return list.flatMap((v, i): Raw[] => {
    const br = r.child(i);
    const ref = br.map(v, true) ?? {};
    br.only(ref, ['group', 'kind', 'name', 'namespace', 'port', 'weight', 'filters']);
    const destination = backend(ref, br, scope);
    if (destination === undefined) return [];
    // The Gateway API's default weight is 1.
    const out: Raw = { destination, weight: ref.weight ?? 1 };
    const filters = br.list(ref.filters) ?? [];
    const headers: Raw = {};
    filters.forEach((f, j) => {
      const fr = br.child('filters').child(j);
      const filter = fr.map(f, true) ?? {};
      if (filter.type === 'RequestHeaderModifier') headers.request = headerModifier(fr.map(filter.requestHeaderModifier, true) ?? {}, fr.child('requestHeaderModifier'));
      else if (filter.type === 'ResponseHeaderModifier') headers.response = headerModifier(fr.map(filter.responseHeaderModifier, true) ?? {}, fr.child('responseHeaderModifier'));
      else fr.issue('is not supported on a backend: proxyless takes RequestHeaderModifier and ResponseHeaderModifier there', 'type');
    });
    if (Object.keys(headers).length > 0) out.headers = headers;
    return [out];
  });
}

/**
 * A BackendObjectReference to a Service, as a destination bound per port;
 * undefined with an issue otherwise. A Service of another namespace needs
 * that namespace's ReferenceGrant.
 */
function backend(value: unknown, r: ResourceReader, scope: BackendScope): Raw | undefined {
  const ref = r.map(value, true) ?? {};
  const kind = ref.kind ?? 'Service';
  const group = ref.group ?? '';
  if (kind !== 'Service' || (group !== '' && group !== 'core')) {
    r.issue(`is a ${String(group) === '' ? '' : `${String(group)}/`}${String(kind)}; proxyless sends to Services`, 'kind');
    return undefined;
  }
  const name = r.child('name').string(ref.name, true);
  if (name === undefined) return undefined;
  const ns = typeof ref.namespace === 'string' ? ref.namespace : scope.namespace;
  if (!scope.grants.allows(scope.kind, scope.namespace, ns, name)) {
    r.issue(`names Service ${ns}/${name}, in another namespace: that needs a ReferenceGrant in ${ns} from ${scope.kind} in ${scope.namespace} to the Service`, 'namespace');
    return undefined;
  }
  // In the route's own namespace a short name resolves as a VirtualService's host does; elsewhere only by that namespace.
  const service = ns === scope.namespace ? scope.hosts.resolve(name, ns) : scope.hosts.resolve(`${name}.${ns}`, ns);
  if (service === undefined) {
    r.issue(`names Service ${JSON.stringify(ns === scope.namespace ? name : `${ns}/${name}`)}, which is not a configured service; known: ${scope.hosts.known().join(', ') || '(none)'}`, 'name');
    return undefined;
  }
  const port = ref.port === undefined ? undefined : portNumber(ref.port, r.child('port'));
  return scope.pending.destination(service, port, r);
}

/** `timeouts.request` is the route's timeout; `backendRequest` each try's. */
function timeouts(rule: Raw, r: ResourceReader, route: Raw): void {
  if (rule.timeouts !== undefined) {
    const tr = r.child('timeouts');
    const t = tr.map(rule.timeouts) ?? {};
    tr.only(t, ['request', 'backendRequest']);
    if (t.request !== undefined) route.timeout = t.request;
    if (t.backendRequest !== undefined) route.retries = { perTryTimeout: t.backendRequest };
  }
  if (rule.retry !== undefined) {
    const rr = r.child('retry');
    const retry = rr.map(rule.retry) ?? {};
    rr.only(retry, ['attempts', 'codes', 'backoff']);
    const retries: Raw = isMap(route.retries) ? { ...route.retries } : {};
    if (retry.attempts !== undefined) retries.attempts = retry.attempts;
    if (retry.codes !== undefined) {
      retries.retryOn = 'connect-failure,refused-stream,reset,retriable-status-codes';
      retries.retriableStatusCodes = retry.codes;
    }
    if (retry.backoff !== undefined) retries.backoff = { baseInterval: retry.backoff };
    route.retries = retries;
  }
}

