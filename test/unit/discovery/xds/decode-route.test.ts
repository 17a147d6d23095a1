/**
 * RouteConfiguration decoding: Envoy route features into the model's
 * routes, and precise rejections (resource path + reason) for what the
 * model cannot express. Resources go through real protobuf encoding first.
 */
import { expect, test } from 'vitest';
import { FAULT_TYPE_URL } from '../../../../src/discovery/xds/decode-fault.js';
import { decodeRouteConfiguration, pickVirtualHost } from '../../../../src/discovery/xds/decode-route.js';
import { packAny, TYPE_URL, unpackAny } from '../../../../src/discovery/xds/envoy-protos.js';

function decode(routes: Record<string, unknown>[], vhost: Record<string, unknown> = {}) {
  const any = packAny(TYPE_URL.routeConfiguration, { name: 'rc', virtual_hosts: [{ name: 'vh', domains: ['*'], routes, ...vhost }] });
  const warnings: string[] = [];
  const rc = decodeRouteConfiguration(unpackAny(any.type_url, any.value), (p, m) => warnings.push(`${p}: ${m}`));
  return { rc, route: rc.virtualHosts[0]!.routes[0]!, warnings };
}

function rejection(routes: Record<string, unknown>[]): string {
  try {
    decode(routes);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected a rejection');
}

test('path, header and query matchers map onto the model', () => {
  const { route } = decode([
    {
      match: {
        path_separated_prefix: '/api',
        case_sensitive: { value: false },
        headers: [
          { name: 'X-Exact', string_match: { exact: 'a' } },
          { name: 'x-suffix', suffix_match: '.json' },
          { name: 'x-present', present_match: true },
          { name: 'x-gone', present_match: true, invert_match: true },
          { name: 'x-ci', string_match: { prefix: 'Ab', ignore_case: true } },
          { name: 'x-re', safe_regex_match: { regex: 'v[0-9]+' } },
        ],
        query_parameters: [{ name: 'debug', present_match: true }, { name: 'u', string_match: { contains: 'x.y' } }],
      },
      route: { cluster: 'c' },
    },
  ]);
  const match = (route.route.match as Record<string, unknown>[])[0]!;
  const uri = match.uri as { regex: string };
  expect(new RegExp(`^(?:${uri.regex})$`).test('/api')).toBe(true);
  expect(new RegExp(`^(?:${uri.regex})$`).test('/api/v1')).toBe(true);
  expect(new RegExp(`^(?:${uri.regex})$`).test('/apix')).toBe(false);
  expect(match.ignoreUriCase).toBe(true);
  const headers = match.headers as Record<string, Record<string, string>>;
  expect(headers['x-exact']).toEqual({ exact: 'a' });
  expect(headers['x-present']).toEqual({ present: true });
  expect(headers['x-gone']).toEqual({ absent: true });
  expect(headers['x-re']).toEqual({ regex: 'v[0-9]+' });
  expect(new RegExp(`^(?:${headers['x-suffix']!.regex})$`).test('a.json')).toBe(true);
  expect(new RegExp(`^(?:${headers['x-ci']!.regex})$`).test('aBc')).toBe(true);
  expect(new RegExp(`^(?:${headers['x-ci']!.regex})$`).test('xab')).toBe(false);
  const query = match.queryParams as Record<string, Record<string, string>>;
  expect(query.debug).toEqual({ present: true });
  expect(new RegExp(`^(?:${query.u!.regex})$`).test('ax.yb')).toBe(true);
  expect(new RegExp(`^(?:${query.u!.regex})$`).test('axzyb')).toBe(false);
});

test('weighted clusters, timeouts, retries, hash policy, mirror, rewrites and header mutations', () => {
  const { route, rc } = decode([
    {
      name: 'canary',
      match: { prefix: '/v' },
      route: {
        weighted_clusters: {
          clusters: [
            { name: 'v1', weight: { value: 90 } },
            { name: 'v2', weight: { value: 10 }, request_headers_to_add: [{ header: { key: 'x-canary', value: '1' } }] },
          ],
        },
        timeout: { seconds: 2, nanos: 500_000_000 },
        retry_policy: {
          retry_on: '5xx,connect-failure,retriable-4xx',
          num_retries: { value: 3 },
          per_try_timeout: { seconds: 1 },
          retry_back_off: { base_interval: { nanos: 50_000_000 }, max_interval: { seconds: 1 } },
          retriable_status_codes: [409],
        },
        hash_policy: [{ header: { header_name: 'X-User' } }, { cookie: { name: 'session' } }],
        request_mirror_policies: [{ cluster: 'shadow', runtime_fraction: { default_value: { numerator: 25 } } }],
        prefix_rewrite: '/w',
        host_rewrite_literal: 'backend.internal',
      },
      request_headers_to_add: [{ header: { key: 'x-set', value: 'a' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }],
      request_headers_to_remove: ['x-secret'],
      response_headers_to_add: [{ header: { key: 'x-add', value: 'b' } }],
    },
  ]);
  const r = route.route;
  expect(r.name).toBe('canary');
  expect(r.route).toEqual([
    { destination: { service: 'v1' }, weight: 90 },
    { destination: { service: 'v2' }, weight: 10, headers: { request: { add: { 'x-canary': '1' } } } },
  ]);
  expect(r.timeout).toBe(2500);
  expect(r.retries).toEqual({
    attempts: 3,
    retryOn: ['5xx', 'connect-failure'],
    perTryTimeout: 1000,
    retriableStatusCodes: [409],
    backoff: { baseInterval: 50, maxInterval: 1000 },
  });
  expect(route.hashOn).toEqual({ header: 'x-user' });
  expect(r.mirror).toEqual({ service: 'shadow' });
  expect(r.mirrorPercentage).toBe(25);
  expect(r.rewrite).toEqual({ uri: '/w', authority: 'backend.internal' });
  expect(r.headers).toEqual({
    request: { set: { 'x-set': 'a' }, remove: ['x-secret'] },
    response: { add: { 'x-add': 'b' } },
  });
  expect([...rc.clusters].sort()).toEqual(['shadow', 'v1', 'v2']);
});

test('several request_mirror_policies are the model\'s mirrors, each cluster with its share; one stays its mirror', () => {
  const { route, warnings } = decode([
    {
      match: { prefix: '/' },
      route: {
        cluster: 'c',
        request_mirror_policies: [
          { cluster: 'shadow-a' },
          { cluster: 'shadow-b', runtime_fraction: { default_value: { numerator: 5 } } },
        ],
      },
    },
  ]);
  expect(route.route.mirrors).toEqual([
    { destination: { service: 'shadow-a' }, percentage: 100 },
    { destination: { service: 'shadow-b' }, percentage: 5 },
  ]);
  expect(route.route.mirror).toBeUndefined();
  expect(route.clusters).toEqual(['c', 'shadow-a', 'shadow-b']);
  expect(warnings).toEqual([]);
  expect(rejection([{ match: { prefix: '/' }, route: { cluster: 'c', request_mirror_policies: [{ cluster: 'a' }, { cluster_header: 'x' }] } }])).toContain(
    'request_mirror_policies[1].cluster: is required (cluster_header is not supported)',
  );
});

test(':method and :authority header matchers (as istiod writes method and authority matches) are the model\'s method and authority', () => {
  const { route } = decode([
    {
      match: {
        prefix: '/',
        headers: [
          { name: ':method', string_match: { exact: 'POST' } },
          { name: ':authority', string_match: { prefix: 'reviews.' } },
          { name: 'x-user', string_match: { exact: 'a' } },
        ],
      },
      route: { cluster: 'c' },
    },
  ]);
  expect(route.route.match).toEqual([{ uri: { prefix: '/' }, method: { exact: 'POST' }, authority: { prefix: 'reviews.' }, headers: { 'x-user': { exact: 'a' } } }]);
  // Host is the HTTP/1 name of :authority; "present" on either is no condition at all.
  const host = decode([{ match: { prefix: '/', headers: [{ name: 'Host', exact_match: 'a.b' }, { name: ':method', present_match: true }] }, route: { cluster: 'c' } }]);
  expect(host.route.route.match).toEqual([{ uri: { prefix: '/' }, authority: { exact: 'a.b' } }]);
  const refused = (headers: Record<string, unknown>[]) => rejection([{ match: { prefix: '/', headers }, route: { cluster: 'c' } }]);
  expect(refused([{ name: ':path', exact_match: '/x' }])).toContain('headers[0].name: pseudo-header :path cannot be matched');
  expect(refused([{ name: ':method', present_match: true, invert_match: true }])).toContain(':method is on every request, so a matcher for its absence never matches');
  expect(refused([{ name: ':authority', exact_match: 'a' }, { name: 'host', exact_match: 'b' }])).toContain('headers[1].name: authority is matched twice');
});

test('redirects and per-route fault overrides', () => {
  const fault = packAny(FAULT_TYPE_URL, {
    abort: { http_status: 503, percentage: { numerator: 50, denominator: 'HUNDRED' } },
    delay: { fixed_delay: { seconds: 1 }, percentage: { numerator: 10000, denominator: 'MILLION' } },
  });
  const { rc } = decode([
    { match: { path: '/old' }, redirect: { https_redirect: true, host_redirect: 'new.example', path_redirect: '/new', response_code: 'FOUND' } },
    { match: { prefix: '/' }, route: { cluster: 'c' }, typed_per_filter_config: { 'envoy.filters.http.fault': fault } },
  ]);
  const [redirect, faulty] = rc.virtualHosts[0]!.routes;
  expect(redirect!.route.redirect).toEqual({ scheme: 'https', authority: 'new.example', uri: '/new', redirectCode: 302 });
  expect(faulty!.fault).toEqual({ abort: { percentage: 50, httpStatus: 503 }, delay: { percentage: 1, fixedDelay: 1000 } });
});

test("a regex_rewrite over part of the path is the model's uriRegexRewrite; a whole-path one its plain rewrite", () => {
  const { rc } = decode([
    { match: { prefix: '/' }, route: { cluster: 'c', regex_rewrite: { pattern: { regex: '^/v1/(.*)$' }, substitution: '/v2/\\1' } } },
    { match: { prefix: '/' }, route: { cluster: 'c', regex_rewrite: { pattern: { regex: '.*' }, substitution: '/all' } } },
  ]);
  expect(rc.virtualHosts[0]!.routes.map((r) => r.route.rewrite)).toEqual([{ uriRegexRewrite: { match: '^/v1/(.*)$', rewrite: '/v2/\\1' } }, { uri: '/all' }]);
});

test("a fault abort with a grpc_status (gRFC A33) is the model's grpcStatus; OK or out of range is refused", () => {
  const fault = (abort: Record<string, unknown>) => ({
    match: { prefix: '/' },
    route: { cluster: 'c' },
    typed_per_filter_config: { 'envoy.filters.http.fault': packAny(FAULT_TYPE_URL, { abort: { ...abort, percentage: { numerator: 100 } } }) },
  });
  const { rc } = decode([fault({ grpc_status: 8 })]);
  expect(rc.virtualHosts[0]!.routes[0]!.fault).toEqual({ abort: { percentage: 100, grpcStatus: 8 } });
  expect(rejection([fault({ grpc_status: 17 })])).toContain('abort.grpc_status: must be a gRPC status from 1 to 16 (OK is no abort), got 17');
});

test('a direct_response is the model\'s directResponse, its body inline text; a body from a file is refused', () => {
  const { rc } = decode([
    { match: { path: '/old' }, direct_response: { status: 410, body: { inline_string: 'gone' } } },
    { match: { path: '/b' }, direct_response: { status: 503, body: { inline_bytes: Buffer.from('later') } } },
    { match: { prefix: '/' }, direct_response: { status: 204 } },
  ]);
  expect(rc.virtualHosts[0]!.routes.map((r) => r.route.directResponse)).toEqual([
    { status: 410, body: 'gone' },
    { status: 503, body: 'later' },
    { status: 204 },
  ]);
  expect(rejection([{ match: { prefix: '/' }, direct_response: { status: 200, body: { filename: '/etc/passwd' } } }])).toContain(
    'direct_response.body.filename: is not supported; give the body inline',
  );
});

test('what the model cannot express is rejected naming the route and field', () => {
  expect(rejection([{ match: { prefix: '/' }, route: { cluster_header: 'x-cluster' } }])).toBe(
    'virtual_hosts[0].routes[0].route.cluster_header: is not supported; name a cluster or weighted_clusters',
  );
  expect(rejection([{ match: { prefix: '/', headers: [{ name: 'x', exact_match: 'a', invert_match: true }] }, route: { cluster: 'c' } }])).toContain(
    'virtual_hosts[0].routes[0].match.headers[0].invert_match: is supported only with present_match',
  );
  expect(rejection([{ match: { prefix: '/' }, non_forwarding_action: {} }])).toContain('virtual_hosts[0].routes[0].non_forwarding_action: is not supported');
  expect(rejection([{ match: { safe_regex: { regex: '/a' } }, route: { cluster: 'c', prefix_rewrite: '/b' } }])).toContain(
    'routes[0].route.prefix_rewrite: is supported only with a prefix or path match',
  );
  // Model validation, mapped back to the Envoy route: JavaScript cannot compile this RE2 pattern.
  expect(rejection([{ match: { safe_regex: { regex: '/(?P<id>[0-9]+)' } }, route: { cluster: 'c' } }])).toMatch(
    /^virtual_hosts\[0\]\.routes\[0\]: \(model field match\[0\]\.uri\.regex\) .*named groups/,
  );
});

test('virtual hosts are chosen as gRPC does: exact, then suffix, then prefix wildcard, then *', () => {
  const hosts = ['*', 'reviews.*', '*.svc.cluster.local', 'reviews.default.svc.cluster.local:9080'].map((d) => ({
    name: d,
    domains: [d],
    routes: [],
    fault: undefined,
  }));
  const pick = (...a: string[]) => pickVirtualHost(hosts, a)?.name;
  expect(pick('reviews.default.svc.cluster.local:9080', 'reviews.default.svc.cluster.local')).toBe('reviews.default.svc.cluster.local:9080');
  expect(pick('ratings.default.svc.cluster.local:9080', 'ratings.default.svc.cluster.local')).toBe('*.svc.cluster.local');
  expect(pick('reviews.internal:9080', 'reviews.internal')).toBe('reviews.*');
  expect(pick('other:1', 'other')).toBe('*');
});
