/**
 * A service's routes as an Envoy RouteConfiguration (RDS): one virtual host
 * whose domains are every authority the service is dialled by, and one
 * Envoy route per match entry (the model ORs a route's entries; Envoy routes
 * are tried in order, so the OR becomes consecutive routes with the same
 * action).
 *
 * Fields gRPC's proxyless clients understand (matches, weighted clusters,
 * max_stream_duration, retry_policy, fault via typed_per_filter_config, hash
 * policy) are written the way they expect; the rest (mirror, rewrites,
 * header mutations, redirects) follow Envoy, and gRPC clients ignore them.
 */
import type { MatchEntry, ValueMatch } from '../config/route-match-schema.js';
import { routeMirrors } from '../config/route-schema.js';
import type { MeshSettings, RouteConfig, ServiceConfig } from '../config/schema.js';
import { packAny } from '../discovery/xds/envoy-protos.js';
import { conditionsOf, DEFAULT_BACKOFF_BASE_MS, DEFAULT_RETRY_ATTEMPTS, mergeRetryLayers, type RetriesInput } from '../resilience/retry-policy.js';
import { entryAppliesTo, type RouteSource } from '../routing/route-source.js';
import { durationOf, fractionOf } from './envoy-values.js';
import { clusterName, listenerNames, routeConfigName } from './resource-names.js';

export const FAULT_FILTER_NAME = 'envoy.filters.http.fault';
const FAULT_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';

/** Istio's default: what a proxyless client retries when no route says otherwise. */
const DEFAULT_RETRY_ON = ['connect-failure', 'refused-stream', 'unavailable', 'cancelled', 'retriable-status-codes'];

const REDIRECT_CODES: Readonly<Record<number, string>> = {
  301: 'MOVED_PERMANENTLY',
  302: 'FOUND',
  303: 'SEE_OTHER',
  307: 'TEMPORARY_REDIRECT',
  308: 'PERMANENT_REDIRECT',
};

type Obj = Record<string, unknown>;

export interface RouteContext {
  readonly services: Readonly<Record<string, ServiceConfig>>;
  readonly mesh: MeshSettings;
  /**
   * The client the routes are for. Envoy's RouteMatch has no source
   * conditions, so entries with them are settled here, per client, as
   * istiod does (source-routes.ts); without a client, entries are written
   * as if their source conditions held.
   */
  readonly source?: RouteSource | undefined;
}

export function routeConfiguration(name: string, service: ServiceConfig, ctx: RouteContext): Obj {
  const routes = service.routes && service.routes.length > 0 ? service.routes : [defaultRoute()];
  return {
    name: routeConfigName(name),
    virtual_hosts: [
      {
        name,
        domains: listenerNames(name, service, ctx.mesh, ctx.services),
        routes: routes.flatMap((route, i) => envoyRoutes(name, service, route, i, ctx)),
      },
    ],
  };
}

function defaultRoute(): RouteConfig {
  return { route: [{ destination: {}, weight: 100 }] } as RouteConfig;
}

function envoyRoutes(owner: string, service: ServiceConfig, route: RouteConfig, index: number, ctx: RouteContext): Obj[] {
  const entries: (MatchEntry | undefined)[] = route.match && route.match.length > 0 ? route.match : [undefined];
  const source = ctx.source;
  return entries.flatMap((entry, j) => {
    if (source !== undefined && !entryAppliesTo(entry, source)) return [];
    const out: Obj = {
      name: route.name ?? `${owner}-${index}${entries.length > 1 ? `-${j}` : ''}`,
      match: routeMatch(entry),
      ...headerMutations(route.headers),
    };
    if (route.redirect !== undefined) {
      out.redirect = redirectAction(route.redirect);
      return [out];
    }
    if (route.directResponse !== undefined) {
      const { status, body } = route.directResponse;
      out.direct_response = { status, ...(body !== undefined ? { body: { inline_string: body } } : {}) };
      return [out];
    }
    out.route = routeAction(owner, service, route, entry, ctx);
    if (route.fault !== undefined) {
      out.typed_per_filter_config = { [FAULT_FILTER_NAME]: packAny(FAULT_TYPE_URL, faultConfig(route.fault)) };
    }
    return [out];
  });
}

function routeMatch(entry: MatchEntry | undefined): Obj {
  const match: Obj = {};
  const uri = entry?.uri;
  if (uri?.exact !== undefined) match.path = uri.exact;
  else if (uri?.regex !== undefined) match.safe_regex = { regex: uri.regex };
  else match.prefix = uri?.prefix ?? '/';
  if (entry?.ignoreUriCase) match.case_sensitive = { value: false };
  const headers: Obj[] = [];
  if (entry?.method !== undefined) headers.push(headerMatcher(':method', entry.method));
  if (entry?.authority !== undefined) headers.push(headerMatcher(':authority', entry.authority));
  for (const [name, m] of Object.entries(entry?.headers ?? {})) headers.push(headerMatcher(name, m));
  if (headers.length > 0) match.headers = headers;
  const query = Object.entries(entry?.queryParams ?? {}).map(([name, m]) => queryMatcher(name, m));
  if (query.length > 0) match.query_parameters = query;
  return match;
}

function stringMatcher(m: { exact?: string | undefined; prefix?: string | undefined; regex?: string | undefined }): Obj {
  if (m.exact !== undefined) return { exact: m.exact };
  if (m.prefix !== undefined) return { prefix: m.prefix };
  return { safe_regex: { regex: m.regex ?? '' } };
}

/**
 * In the fields gRPC has read longest (`exact_match`, `prefix_match`,
 * `safe_regex_match`), not `string_match`: Debian's grpcio 1.51 NACKs a
 * route configuration with a `string_match` header matcher ("Invalid route
 * header matcher specified"), as it does in RBAC. Envoy and grpc-js read both.
 */
function headerMatcher(name: string, m: ValueMatch): Obj {
  if (m.present) return { name, present_match: true };
  if (m.absent) return { name, present_match: true, invert_match: true };
  if (m.exact !== undefined) return { name, exact_match: m.exact };
  if (m.prefix !== undefined) return { name, prefix_match: m.prefix };
  return { name, safe_regex_match: { regex: m.regex ?? '' } };
}

function queryMatcher(name: string, m: ValueMatch): Obj {
  // Envoy has no "absent" query matcher; a present match that never fires is
  // wrong, so absent is written as present and documented as unsupported by xDS.
  if (m.present || m.absent) return { name, present_match: true };
  return { name, string_match: stringMatcher(m) };
}

function routeAction(owner: string, service: ServiceConfig, route: RouteConfig, entry: MatchEntry | undefined, ctx: RouteContext): Obj {
  const action: Obj = {};
  const targets = (route.route ?? []).filter((d) => d.weight > 0);
  const clusterOf = (d: { service?: string | undefined; subset?: string | undefined }) => {
    const target = d.service ?? owner;
    return clusterName(target, ctx.services[target] ?? service, ctx.mesh, d.subset);
  };
  if (targets.length === 1 && targets[0]!.headers === undefined) action.cluster = clusterOf(targets[0]!.destination);
  else {
    action.weighted_clusters = {
      clusters: targets.map((d) => ({
        name: clusterOf(d.destination),
        weight: { value: d.weight },
        ...headerMutations(d.headers),
      })),
      // Older clients (gRPC before 1.5x) require the sum; newer ones compute it.
      total_weight: { value: targets.reduce((sum, d) => sum + d.weight, 0) },
    };
  }
  const timeout = route.timeout ?? service.timeout ?? ctx.mesh.timeout;
  if (timeout !== undefined) {
    action.timeout = durationOf(timeout);
    // gRPC clients read the deadline from here, not from `timeout`.
    action.max_stream_duration = { max_stream_duration: durationOf(timeout) };
  }
  const retry = retryPolicy([ctx.mesh.retries, service.retries, route.retries as RetriesInput | undefined]);
  if (retry !== undefined) action.retry_policy = retry;
  const mirrors = routeMirrors(route);
  if (mirrors.length > 0) {
    action.request_mirror_policies = mirrors.map((m) => ({
      cluster: clusterOf(m.destination),
      runtime_fraction: { default_value: fractionOf(m.percentage ?? 100) },
    }));
  }
  const regex = route.rewrite?.uriRegexRewrite;
  if (regex !== undefined) action.regex_rewrite = { pattern: { regex: regex.match }, substitution: regex.rewrite };
  if (route.rewrite?.uri !== undefined) {
    if (entry?.uri?.prefix !== undefined) action.prefix_rewrite = route.rewrite.uri;
    else action.regex_rewrite = { pattern: { regex: '.*' }, substitution: route.rewrite.uri };
  }
  if (route.rewrite?.authority !== undefined) action.host_rewrite_literal = route.rewrite.authority;
  const hashOn = service.loadBalancer?.hashOn;
  if (hashOn !== undefined) action.hash_policy = [hashPolicy(hashOn)];
  return action;
}

/** The mesh, service and route layers merged field by field, as the data plane does (retry-policy.ts). */
function retryPolicy(layers: ReadonlyArray<RetriesInput | undefined>): Obj | undefined {
  const merged = mergeRetryLayers(layers);
  const attempts = merged.attempts ?? DEFAULT_RETRY_ATTEMPTS;
  const perTry = merged.perTryTimeout;
  const retryOn = conditionsOf(merged.retryOn);
  const codes = merged.retriableStatusCodes;
  const base = merged.baseInterval;
  const max = merged.maxInterval;
  if (attempts === 0) return undefined;
  const policy: Obj = {
    retry_on: [...new Set([...DEFAULT_RETRY_ON, ...retryOn])].join(','),
    num_retries: { value: attempts },
  };
  if (perTry !== undefined && perTry > 0) policy.per_try_timeout = durationOf(perTry);
  if (codes !== undefined) policy.retriable_status_codes = [...codes];
  if (base !== undefined || max !== undefined) {
    const b = base ?? DEFAULT_BACKOFF_BASE_MS;
    policy.retry_back_off = { base_interval: durationOf(b), max_interval: durationOf(Math.max(max ?? b * 10, b)) };
  }
  return policy;
}

function hashPolicy(hashOn: NonNullable<NonNullable<ServiceConfig['loadBalancer']>['hashOn']>): Obj {
  if ('header' in hashOn) return { header: { header_name: hashOn.header } };
  if ('cookie' in hashOn) return { cookie: { name: hashOn.cookie } };
  if ('queryParameter' in hashOn) return { query_parameter: { name: hashOn.queryParameter } };
  return { connection_properties: { source_ip: true } };
}

function faultConfig(fault: NonNullable<RouteConfig['fault']>): Obj {
  const out: Obj = {};
  if (fault.delay !== undefined) {
    out.delay = { fixed_delay: durationOf(fault.delay.fixedDelay), percentage: fractionOf(fault.delay.percentage) };
  }
  if (fault.abort !== undefined) {
    const { httpStatus, grpcStatus, percentage } = fault.abort;
    out.abort = { ...(grpcStatus !== undefined ? { grpc_status: grpcStatus } : { http_status: httpStatus }), percentage: fractionOf(percentage) };
  }
  return out;
}

function redirectAction(redirect: NonNullable<RouteConfig['redirect']>): Obj {
  const out: Obj = { response_code: REDIRECT_CODES[redirect.redirectCode] ?? 'MOVED_PERMANENTLY' };
  if (redirect.uri !== undefined) out.path_redirect = redirect.uri;
  if (redirect.authority !== undefined) out.host_redirect = redirect.authority;
  if (redirect.scheme !== undefined) out.scheme_redirect = redirect.scheme;
  return out;
}

type HeaderOps = { set?: Record<string, string>; add?: Record<string, string>; remove?: readonly string[] } | undefined;

function headerMutations(headers: { request?: HeaderOps; response?: HeaderOps } | undefined): Obj {
  const out: Obj = {};
  const side = (ops: HeaderOps, add: string, remove: string) => {
    if (ops === undefined) return;
    const options = [
      ...Object.entries(ops.set ?? {}).map(([key, value]) => ({ header: { key, value }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' })),
      ...Object.entries(ops.add ?? {}).map(([key, value]) => ({ header: { key, value }, append_action: 'APPEND_IF_EXISTS_OR_ADD' })),
    ];
    if (options.length > 0) out[add] = options;
    if (ops.remove !== undefined && ops.remove.length > 0) out[remove] = [...ops.remove];
  };
  side(headers?.request, 'request_headers_to_add', 'request_headers_to_remove');
  side(headers?.response, 'response_headers_to_add', 'response_headers_to_remove');
  return out;
}
