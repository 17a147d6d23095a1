import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/config-error.js';
import { parseConfigText } from '../../../src/config/file-source.js';
import { validateConfig } from '../../../src/config/validate.js';
import { buildSnapshot, type ServedType, type Snapshot } from '../../../src/control/snapshot.js';
import { TYPE_URL, unpackAny } from '../../../src/discovery/xds/envoy-protos.js';

// biome-ignore lint/suspicious/noExplicitAny: decoded Envoy resources are walked by field name in assertions.
type Obj = Record<string, any>;

function snapshotOf(yaml: string, previous?: Snapshot, inlineRoutes = false): Snapshot {
  return buildSnapshot(validateConfig(parseConfigText(yaml, 'test'), 'test'), previous ? String(Number(previous.version) + 1) : '1', previous, {
    inlineRoutes,
  });
}

function decoded(s: Snapshot, type: ServedType, name: string): Obj {
  const r = s.resources.get(type)!.get(name);
  expect(r, `${type} ${name}`).toBeDefined();
  return unpackAny(r!.any.type_url, r!.any.value);
}

const CONFIG = `
mesh:
  namespace: shop
  security: { trustDomain: example.org }
services:
  reviews:
    port: 9080
    hosts: [reviews.example.com]
    loadBalancer: { policy: ring-hash, hashOn: { header: x-user }, ringSize: { min: 2048, max: 4096 } }
    connectionPool: { maxConnections: 50, maxRequests: 500, connectTimeout: 2s }
    outlierDetection: { consecutive5xxErrors: 3, interval: 5s, failurePercentage: { threshold: 70 } }
    tls: { mode: mutual }
    endpoints:
      - { address: 10.0.0.1, labels: { version: v1 }, region: eu, zone: eu-1, weight: 3 }
      - { address: 10.0.0.2, labels: { version: v2 }, region: eu, zone: eu-2, priority: 2 }
    subsets:
      v1: { labels: { version: v1 } }
      v2: { labels: { version: v2 } }
    routes:
      - name: canary
        match:
          - uri: { prefix: /api }
            headers: { x-canary: { exact: "yes" } }
          - queryParams: { canary: { present: true } }
        route:
          - { destination: { subset: v1 }, weight: 90 }
          - { destination: { subset: v2 }, weight: 10, headers: { request: { set: { x-subset: v2 } } } }
        timeout: 1500ms
        retries: { attempts: 4, perTryTimeout: 300ms, retryOn: "5xx", backoff: { baseInterval: 10ms } }
        fault: { delay: { fixedDelay: 50ms, percentage: 12.5 } }
        mirror: { service: ratings }
        mirrorPercentage: 25
        rewrite: { uri: /v2/api }
        headers: { response: { add: { x-route: canary }, remove: [server] } }
      - name: old
        match: [{ uri: { exact: /old } }]
        redirect: { uri: /new, redirectCode: 308 }
  ratings:
    endpoints: ["10.0.1.1:8080"]
  geo:
    port: 80
    discovery: dns:geo.internal:8053
`;

describe('control plane resources', () => {
  const s = snapshotOf(CONFIG);

  it('names listeners by every authority a client may dial, each with RDS and the router filter last', () => {
    const names = [...s.resources.get(TYPE_URL.listener)!.keys()];
    for (const n of ['reviews', 'reviews:9080', 'reviews.shop', 'reviews.shop.svc.cluster.local:9080', 'reviews.example.com', 'ratings:8080']) {
      expect(names).toContain(n);
    }
    const listener = decoded(s, TYPE_URL.listener, 'reviews.shop.svc.cluster.local:9080');
    const hcm: Obj = unpackAny(listener.api_listener.api_listener.type_url, listener.api_listener.api_listener.value);
    expect(hcm.rds).toMatchObject({ route_config_name: 'reviews', config_source: { ads: {} } });
    expect(hcm.http_filters.map((f: Obj) => f.name)).toEqual(['envoy.filters.http.fault', 'envoy.filters.http.router']);
  });

  it('puts the route configuration inside the listener when asked to', () => {
    const inline = snapshotOf(CONFIG, undefined, true);
    expect(inline.resources.get(TYPE_URL.routeConfiguration)!.size).toBe(0);
    const listener = decoded(inline, TYPE_URL.listener, 'reviews');
    const hcm: Obj = unpackAny(listener.api_listener.api_listener.type_url, listener.api_listener.api_listener.value);
    expect(hcm.route_config.virtual_hosts[0].domains).toContain('reviews');
  });

  it('translates matches, weighted subsets, timeouts, retries, fault, mirror, rewrites, headers and redirects', () => {
    const rc = decoded(s, TYPE_URL.routeConfiguration, 'reviews');
    const vh = rc.virtual_hosts[0];
    expect(vh.domains).toContain('reviews.shop.svc.cluster.local:9080');
    const [a, b, old] = vh.routes;
    expect(vh.routes).toHaveLength(3);
    expect(a.match).toMatchObject({ prefix: '/api', headers: [{ name: 'x-canary', exact_match: 'yes' }] });
    expect(b.match).toMatchObject({ prefix: '/', query_parameters: [{ name: 'canary', present_match: true }] });
    expect(a.route.weighted_clusters.clusters).toMatchObject([
      { name: 'outbound|9080|v1|reviews.shop.svc.cluster.local', weight: { value: 90 } },
      { name: 'outbound|9080|v2|reviews.shop.svc.cluster.local', weight: { value: 10 }, request_headers_to_add: [{ header: { key: 'x-subset', value: 'v2' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }] },
    ]);
    expect(a.route.weighted_clusters.total_weight).toEqual({ value: 100 });
    expect(a.route.timeout).toEqual({ seconds: '1', nanos: 500_000_000 });
    expect(a.route.max_stream_duration.max_stream_duration).toEqual({ seconds: '1', nanos: 500_000_000 });
    expect(a.route.retry_policy).toMatchObject({
      num_retries: { value: 4 },
      per_try_timeout: { seconds: '0', nanos: 300_000_000 },
      retry_back_off: { base_interval: { nanos: 10_000_000 }, max_interval: { nanos: 100_000_000 } },
    });
    expect(a.route.retry_policy.retry_on.split(',')).toEqual(expect.arrayContaining(['5xx', 'unavailable', 'connect-failure']));
    expect(a.route.request_mirror_policies[0]).toMatchObject({
      cluster: 'outbound|8080||ratings.shop.svc.cluster.local',
      runtime_fraction: { default_value: { numerator: 250_000, denominator: 'MILLION' } },
    });
    expect(a.route.prefix_rewrite).toBe('/v2/api');
    expect(b.route.regex_rewrite).toMatchObject({ pattern: { regex: '.*' }, substitution: '/v2/api' });
    expect(a.route.hash_policy).toMatchObject([{ header: { header_name: 'x-user' } }]);
    expect(a.response_headers_to_add).toMatchObject([{ header: { key: 'x-route', value: 'canary' }, append_action: 'APPEND_IF_EXISTS_OR_ADD' }]);
    expect(a.response_headers_to_remove).toEqual(['server']);
    const fault = a.typed_per_filter_config['envoy.filters.http.fault'];
    expect(unpackAny(fault.type_url, fault.value)).toMatchObject({
      delay: { fixed_delay: { nanos: 50_000_000 }, percentage: { numerator: 125_000, denominator: 'MILLION' } },
    });
    expect(old).toMatchObject({ match: { path: '/old' }, redirect: { path_redirect: '/new', response_code: 'PERMANENT_REDIRECT' } });
  });

  it('gives a service without routes one catch-all route to its cluster', () => {
    const rc = decoded(s, TYPE_URL.routeConfiguration, 'ratings');
    expect(rc.virtual_hosts[0].routes).toMatchObject([{ match: { prefix: '/' }, route: { cluster: 'outbound|8080||ratings.shop.svc.cluster.local' } }]);
  });

  it('translates lb policy, circuit breakers, outlier detection and SPIFFE-checked upstream TLS into clusters', () => {
    const c = decoded(s, TYPE_URL.cluster, 'outbound|9080|v1|reviews.shop.svc.cluster.local');
    expect(c).toMatchObject({
      type: 'EDS',
      eds_cluster_config: { eds_config: { ads: {} }, service_name: 'outbound|9080|v1|reviews.shop.svc.cluster.local' },
      lb_policy: 'RING_HASH',
      ring_hash_lb_config: { minimum_ring_size: { value: '2048' }, maximum_ring_size: { value: '4096' } },
      connect_timeout: { seconds: '2' },
      circuit_breakers: { thresholds: [{ priority: 'DEFAULT', max_connections: { value: 50 }, max_requests: { value: 500 } }] },
      outlier_detection: {
        consecutive_5xx: { value: 3 },
        interval: { seconds: '5' },
        failure_percentage_threshold: { value: 70 },
        enforcing_failure_percentage: { value: 100 },
        enforcing_success_rate: { value: 0 },
      },
    });
    const tls: Obj = unpackAny(c.transport_socket.typed_config.type_url, c.transport_socket.typed_config.value);
    expect(tls.common_tls_context.tls_certificate_provider_instance).toMatchObject({ instance_name: 'default' });
    expect(tls.common_tls_context.combined_validation_context.default_validation_context.match_subject_alt_names).toMatchObject([
      { prefix: 'spiffe://example.org/' },
    ]);
    const meta = c.metadata.filter_metadata['io.proxyless'].fields;
    expect(meta.loadBalancer.structValue.fields.policy).toMatchObject({ stringValue: 'ring-hash' });
    expect(decoded(s, TYPE_URL.cluster, 'outbound|8080||ratings.shop.svc.cluster.local').lb_policy).toBe('ROUND_ROBIN');
  });

  it('serves a dns: service as a LOGICAL_DNS cluster without EDS', () => {
    const c = decoded(s, TYPE_URL.cluster, 'outbound|80||geo.shop.svc.cluster.local');
    expect(c.type).toBe('LOGICAL_DNS');
    expect(c.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address).toMatchObject({ address: 'geo.internal', port_value: 8053 });
    expect(s.resources.get(TYPE_URL.clusterLoadAssignment)!.has('outbound|80||geo.shop.svc.cluster.local')).toBe(false);
  });

  it('groups endpoints by locality and priority (renumbered without gaps), each locality weighted', () => {
    const all = decoded(s, TYPE_URL.clusterLoadAssignment, 'outbound|9080||reviews.shop.svc.cluster.local');
    expect(all.endpoints).toMatchObject([
      { locality: { region: 'eu', zone: 'eu-1' }, priority: 0, load_balancing_weight: { value: 3 } },
      { locality: { region: 'eu', zone: 'eu-2' }, priority: 1, load_balancing_weight: { value: 1 } },
    ]);
    expect(all.endpoints[0].lb_endpoints[0]).toMatchObject({ health_status: 'HEALTHY', load_balancing_weight: { value: 3 } });
    const v2 = decoded(s, TYPE_URL.clusterLoadAssignment, 'outbound|9080|v2|reviews.shop.svc.cluster.local');
    expect(v2.endpoints).toHaveLength(1);
    expect(v2.endpoints[0].priority).toBe(0);
    expect(v2.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address).toBe('10.0.0.2');
  });

  it('keeps the version of every type an edit did not change', () => {
    const next = snapshotOf(CONFIG.replace('10.0.1.1:8080', '10.0.1.2:8080'), s);
    expect(next.version).toBe('2');
    expect(next.typeVersions.get(TYPE_URL.clusterLoadAssignment)).toBe('2');
    expect(next.typeVersions.get(TYPE_URL.listener)).toBe('1');
    expect(next.typeVersions.get(TYPE_URL.cluster)).toBe('1');
    expect(next.typeVersions.get(TYPE_URL.routeConfiguration)).toBe('1');
  });

  it('lists the settings xDS cannot carry', () => {
    const s2 = snapshotOf(`services:
  a:
    endpoints: ["10.0.0.1:80"]
    hedging: { delay: 50ms }
    routes: [{ route: [{ destination: {} }], rateLimit: { maxTokens: 5 } }]
`);
    expect(s2.notCarried).toEqual(['services.a.hedging', 'services.a.routes[0].rateLimit']);
    expect(s.notCarried).toEqual([]);
  });

  describe('routes with source conditions', () => {
    const SOURCED = `services:
  ratings:
    endpoints: ["10.0.0.1:80"]
    subsets: { v2: { labels: { version: v2 } } }
    routes:
      - name: canary
        match: [{ sourceLabels: { app: reviews, version: v2 } }, { sourceNamespace: qa, uri: { prefix: /qa } }]
        route: [{ destination: { subset: v2 } }]
      - name: rest
        route: [{ destination: {} }]
  details:
    endpoints: ["10.0.0.2:80"]
`;
    const node = (namespace: string, labels: Record<string, string>) => ({
      id: 'n',
      metadata: { fields: { NAMESPACE: { stringValue: namespace }, LABELS: { structValue: { fields: Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, { stringValue: v }])) } } } },
    });
    const routesFor = (snap: Snapshot, n: ReturnType<typeof node>): Obj => {
      const r = snap.sourceRoutes.resource('ratings', n);
      expect(r).toBeDefined();
      return unpackAny(r!.any.type_url, r!.any.value);
    };
    const names = (rc: Obj) => rc.virtual_hosts[0].routes.map((r: Obj) => r.name);

    it('serves each client the entries its workload (node NAMESPACE and LABELS) satisfies, as istiod does', () => {
      const snap = snapshotOf(SOURCED);
      // Not one resource for everyone: per client, on request.
      expect(snap.resources.get(TYPE_URL.routeConfiguration)!.has('ratings')).toBe(false);
      expect(snap.resources.get(TYPE_URL.routeConfiguration)!.has('details')).toBe(true);
      expect(snap.sourceRoutes.resource('details', node('default', {}))).toBeUndefined();
      expect(names(routesFor(snap, node('default', { app: 'reviews', version: 'v2' })))).toEqual(['canary', 'rest']);
      expect(names(routesFor(snap, node('default', { app: 'reviews', version: 'v1' })))).toEqual(['rest']);
      const qa = routesFor(snap, node('qa', {}));
      expect(names(qa)).toEqual(['canary', 'rest']);
      expect(qa.virtual_hosts[0].routes[0].match.prefix).toBe('/qa');
      // Both entries apply: one Envoy route each, named after the route they came from.
      expect(names(routesFor(snap, node('qa', { app: 'reviews', version: 'v2' })))).toEqual(['canary', 'canary', 'rest']);
    });

    it('changes the route version when what per-client routes read changes, and only then', () => {
      const first = snapshotOf(SOURCED);
      const same = snapshotOf(SOURCED.replace('10.0.0.2:80', '10.0.0.3:80'), first);
      expect(same.typeVersions.get(TYPE_URL.routeConfiguration)).toBe('1');
      const edited = snapshotOf(SOURCED.replace('sourceNamespace: qa', 'sourceNamespace: staging'), same);
      expect(edited.typeVersions.get(TYPE_URL.routeConfiguration)).toBe('3');
      expect(names(routesFor(edited, node('qa', {})))).toEqual(['rest']);
    });

    it('refuses them with --inline-routes, which has one listener for every client', () => {
      expect(() => snapshotOf(SOURCED, undefined, true)).toThrow(/services\.ratings\.routes: has match entries with sourceLabels or sourceNamespace, which are settled per client and so need RDS/);
    });
  });

  it('rejects two services that claim the same authority', () => {
    expect(() =>
      snapshotOf(`services:
  a: { hosts: [shared.example.com], endpoints: ["10.0.0.1:80"] }
  b: { hosts: [shared.example.com], endpoints: ["10.0.0.2:80"] }
`),
    ).toThrow(ConfigError);
    expect(() =>
      snapshotOf(`services:
  a: { hosts: [shared.example.com], endpoints: ["10.0.0.1:80"] }
  b: { hosts: [shared.example.com], endpoints: ["10.0.0.2:80"] }
`),
    ).toThrow(/services\.b\.hosts: claims host "shared\.example\.com" with no port, as service "a" does/);
    // On two ports the data plane tells them apart, but the control plane serves the port-less listener name once.
    expect(() =>
      snapshotOf(`services:
  a: { port: 80, hosts: [shared.example.com], endpoints: ["10.0.0.1:80"] }
  b: { port: 81, hosts: [shared.example.com], endpoints: ["10.0.0.2:81"] }
`),
    ).toThrow(/services\.b: is reached as "shared\.example\.com", which is already a name of service "a"/);
    // Two ports of one Service (b reports as a): the port-less host is its first port's.
    const ports = snapshotOf(`services:
  a: { port: 80, hosts: [shared.example.com], endpoints: ["10.0.0.1:80"] }
  b: { port: 81, reportAs: a, hosts: [shared.example.com], endpoints: ["10.0.0.2:81"] }
`);
    const listeners = [...ports.resources.get(TYPE_URL.listener)!.keys()];
    expect(listeners).toEqual(expect.arrayContaining(['shared.example.com', 'shared.example.com:80', 'shared.example.com:81']));
  });
});
