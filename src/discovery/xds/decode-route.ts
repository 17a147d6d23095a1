/**
 * RouteConfiguration (RDS, or inline in a listener) into virtual hosts
 * whose routes are model routes naming xDS clusters. Validated here, per
 * resource, against the model's own route schema, so a bad route is NACKed
 * with the Envoy path of the route and the model's reason.
 */
import type { z } from 'zod';
import { type ConfigIssue, formatPath } from '../../config/config-error.js';
import { type HashOn, serviceSchema } from '../../config/schema.js';
import { toConfigIssues } from '../../config/validate.js';
import { type FaultSetting, faultOverride } from './decode-fault.js';
import { routeMatch } from './decode-match.js';
import {
  directResponseAction,
  hashPolicy,
  headerMutations,
  mirrorPolicies,
  redirectAction,
  retryPolicy,
  type Warn,
} from './decode-route-action.js';
import { FieldError, ProtoReader } from './proto-reader.js';

const WHOLE_PATH = new Set(['.*', '^.*$', '^(.*)$', '(.*)']);

/** The model's weights stop at 100,000; Envoy's may add up to 2^32. */
const MAX_MODEL_WEIGHT = 100_000;

export interface XdsRoute {
  /** A model route input; destinations and mirror name xDS clusters. */
  readonly route: Record<string, unknown>;
  readonly hashOn: HashOn | undefined;
  /** undefined: inherit the virtual host's or the listener's fault config. */
  readonly fault: FaultSetting;
  /** Clusters this route sends to or mirrors to. */
  readonly clusters: readonly string[];
  /** route.timeout or max_stream_duration was set (so the listener's default does not apply). */
  readonly hasTimeout: boolean;
}

export interface XdsVirtualHost {
  readonly name: string;
  readonly domains: readonly string[];
  readonly routes: readonly XdsRoute[];
  readonly fault: FaultSetting;
}

export interface XdsRouteConfig {
  readonly name: string;
  readonly virtualHosts: readonly XdsVirtualHost[];
  readonly clusters: ReadonlySet<string>;
}

const routesSchema = (serviceSchema.shape.routes as z.ZodOptional<z.ZodType>).unwrap();

function weightedClusters(r: ProtoReader): Record<string, unknown>[] {
  const entries = r.list('clusters');
  if (entries.length === 0) r.fail('clusters', 'must name at least one cluster');
  const weights = entries.map((c) => c.wrapped('weight') ?? 0);
  const total = weights.reduce((a, b) => a + b, 0);
  if (total === 0) r.fail('clusters', 'weights add up to 0');
  // Scale only when the model cannot hold the numbers as written; istiod's add up to 100.
  const scale = Math.max(...weights) > MAX_MODEL_WEIGHT ? MAX_MODEL_WEIGHT / Math.max(...weights) : 1;
  return entries.map((c, i) => {
    const name = c.str('name');
    if (name === '') c.fail('name', 'is required (cluster_header is not supported)');
    const headers = headerMutations([c]);
    if (c.str('host_rewrite_literal') !== '') c.fail('host_rewrite_literal', 'is not supported per weighted cluster');
    return {
      destination: { service: name },
      weight: Math.round((weights[i] ?? 0) * scale),
      ...(headers !== undefined ? { headers } : {}),
    };
  });
}

function decodeRoute(r: ProtoReader, vhost: ProtoReader, config: ProtoReader, warn: Warn): XdsRoute {
  const match = r.msg('match') ?? r.fail('match', 'is required');
  const route: Record<string, unknown> = { match: [routeMatch(match)] };
  if (r.str('name') !== '') route.name = r.str('name');
  const clusters: string[] = [];
  let hashOn: HashOn | undefined;
  let hasTimeout = false;
  const action = r.oneof('action');
  if (action === 'redirect') {
    route.redirect = redirectAction(r.msg('redirect') ?? r.fail('redirect', 'is empty'));
  } else if (action === 'direct_response') {
    route.directResponse = directResponseAction(r.msg('direct_response') ?? r.fail('direct_response', 'is empty'));
  } else if (action === 'route') {
    const a = r.msg('route') ?? r.fail('route', 'is empty');
    switch (a.oneof('cluster_specifier')) {
      case 'cluster':
        route.route = [{ destination: { service: a.str('cluster') } }];
        break;
      case 'weighted_clusters':
        route.route = weightedClusters(a.msg('weighted_clusters') ?? a.fail('weighted_clusters', 'is empty'));
        break;
      default:
        a.fail(a.oneof('cluster_specifier') || 'cluster_specifier', 'is not supported; name a cluster or weighted_clusters');
    }
    for (const d of route.route as { destination: { service: string } }[]) clusters.push(d.destination.service);
    if (a.msg('metadata_match') !== undefined) a.fail('metadata_match', 'is not supported (use one cluster per subset)');
    for (const field of ['path_rewrite_policy', 'host_rewrite_header', 'host_rewrite_path_regex']) {
      if (a.setAmong([field]).length > 0) a.fail(field, 'is not supported by the mesh');
    }
    const rewrite: Record<string, unknown> = {};
    if (a.str('prefix_rewrite') !== '') {
      const kind = match.oneof('path_specifier');
      if (kind !== 'prefix' && kind !== 'path') a.fail('prefix_rewrite', 'is supported only with a prefix or path match');
      rewrite.uri = a.str('prefix_rewrite');
    }
    const regexRewrite = a.msg('regex_rewrite');
    if (regexRewrite !== undefined) {
      const pattern = regexRewrite.msg('pattern')?.str('regex') ?? regexRewrite.fail('pattern.regex', 'is required');
      // A whole-path pattern is the model's plain rewrite.uri; any other is its uriRegexRewrite (the route schema checks the regex).
      if (WHOLE_PATH.has(pattern)) rewrite.uri = regexRewrite.str('substitution');
      else rewrite.uriRegexRewrite = { match: pattern, rewrite: regexRewrite.str('substitution') };
    }
    if (a.str('host_rewrite_literal') !== '') rewrite.authority = a.str('host_rewrite_literal');
    if (a.wrappedBool('auto_host_rewrite') === true) warn(a.at('auto_host_rewrite'), 'is ignored (the mesh keeps the service host)');
    if (Object.keys(rewrite).length > 0) route.rewrite = rewrite;
    const timeout = a.durationMs('timeout') ?? a.msg('max_stream_duration')?.durationMs('max_stream_duration');
    if (timeout !== undefined) {
      route.timeout = timeout;
      hasTimeout = true;
    }
    const retry = a.msg('retry_policy') ?? vhost.msg('retry_policy');
    if (retry !== undefined) route.retries = retryPolicy(retry, warn);
    hashOn = hashPolicy(a.list('hash_policy'), warn);
    const mirrors = mirrorPolicies(a.list('request_mirror_policies'));
    // One stays the model's mirror, as most routes write it; several become mirrors.
    if (mirrors.length === 1) {
      route.mirror = { service: mirrors[0]!.cluster };
      route.mirrorPercentage = mirrors[0]!.percentage;
    } else if (mirrors.length > 1) {
      route.mirrors = mirrors.map((m) => ({ destination: { service: m.cluster }, percentage: m.percentage }));
    }
    for (const m of mirrors) clusters.push(m.cluster);
    // max_grpc_timeout and grpc_timeout_offset are deprecated and ignored by gRPC too; istiod sets them on every route.
    const ignored = a.setAmong(['idle_timeout', 'rate_limits', 'cors', 'upgrade_configs', 'hedge_policy', 'internal_redirect_policy']);
    if (ignored.length > 0) warn(a.path, `${ignored.join(', ')} ignored (not part of the mesh's outbound model)`);
  } else {
    r.fail(action || 'action', 'is not supported; a route must route, redirect or give a direct_response');
  }
  const headers = headerMutations([r, vhost, config]);
  if (headers !== undefined) {
    if (action === 'redirect' || action === 'direct_response') {
      r.fail('response_headers_to_add', `header mutations on a ${action === 'redirect' ? 'redirect' : 'direct response'} are not supported`);
    }
    route.headers = headers;
  }
  return { route, hashOn, fault: faultOverride(r, 'typed_per_filter_config', warn), clusters, hasTimeout };
}

/** Map a model issue (`[3].retries.attempts`) back to the Envoy route it came from. */
function issueAt(routes: ProtoReader[], issue: ConfigIssue): FieldError {
  const m = /^\[(\d+)\]\.?(.*)$/.exec(issue.path);
  const source = m ? routes[Number(m[1])] : undefined;
  if (source === undefined) return new FieldError('', `${issue.path}: ${issue.message}`);
  return new FieldError(source.path, `${m?.[2] ? `(model field ${m[2]}) ` : ''}${issue.message}`);
}

export function decodeRouteConfiguration(raw: Record<string, unknown>, warn: Warn, path = ''): XdsRouteConfig {
  const r = new ProtoReader(raw, path);
  const name = r.str('name');
  const clusters = new Set<string>();
  const virtualHosts = r.list('virtual_hosts').map((vh): XdsVirtualHost => {
    const domains = vh.strings('domains');
    if (domains.length === 0) vh.fail('domains', 'must list at least one domain');
    const routeReaders = vh.list('routes');
    const routes = routeReaders.map((route) => decodeRoute(route, vh, r, warn));
    // Route names must be unique in the model; Envoy does not require it.
    const seen = new Set<string>();
    for (const x of routes) {
      const n = x.route.name as string | undefined;
      if (n === undefined) continue;
      if (seen.has(n)) delete x.route.name;
      seen.add(n);
    }
    for (const x of routes) for (const c of x.clusters) clusters.add(c);
    const parsed = routesSchema.safeParse(routes.map((x) => x.route));
    if (!parsed.success) {
      const issues = toConfigIssues(parsed.error.issues, routes.map((x) => x.route));
      throw issueAt(routeReaders, issues[0] ?? { path: formatPath([]), message: 'invalid' });
    }
    return { name: vh.str('name'), domains, routes, fault: faultOverride(vh, 'typed_per_filter_config', warn) };
  });
  return { name, virtualHosts, clusters };
}

/**
 * gRPC's virtual host choice: an exact domain, then the longest `*.suffix`,
 * then the longest `prefix.*`, then `*`. Tried with the listener's
 * `host:port` and then its bare host.
 */
export function pickVirtualHost(hosts: readonly XdsVirtualHost[], authorities: readonly string[]): XdsVirtualHost | undefined {
  for (const authority of authorities) {
    const a = authority.toLowerCase();
    let best: { vh: XdsVirtualHost; rank: number; len: number } | undefined;
    for (const vh of hosts) {
      for (const d of vh.domains.map((x) => x.toLowerCase())) {
        let rank = -1;
        if (d === a) rank = 3;
        else if (d === '*') rank = 0;
        else if (d.startsWith('*') && a.endsWith(d.slice(1))) rank = 2;
        else if (d.endsWith('*') && a.startsWith(d.slice(0, -1))) rank = 1;
        if (rank < 0) continue;
        if (best === undefined || rank > best.rank || (rank === best.rank && d.length > best.len)) best = { vh, rank, len: d.length };
      }
    }
    if (best !== undefined && best.rank > 0) return best.vh;
    if (best !== undefined && authority === authorities[authorities.length - 1]) return best.vh;
  }
  return undefined;
}
