/**
 * Cluster, endpoint and listener decoding into the model, and the precise
 * rejections for what the mesh cannot do. Resources are real protobuf bytes.
 */
import { expect, test } from 'vitest';
import { decodeCluster } from '../../../../src/discovery/xds/decode-cluster.js';
import { decodeEndpoints } from '../../../../src/discovery/xds/decode-endpoints.js';
import { decodeListener } from '../../../../src/discovery/xds/decode-listener.js';
import { packAny, TYPE_URL, unpackAny } from '../../../../src/discovery/xds/envoy-protos.js';
import { rejectionMessage } from '../../../helpers/rejections.js';

const warnings: string[] = [];
const warn = (p: string, m: string) => warnings.push(`${p}: ${m}`);

function roundTrip(typeUrl: string, obj: Record<string, unknown>): Record<string, unknown> {
  const any = packAny(typeUrl, obj);
  return unpackAny(any.type_url, any.value);
}

const cluster = (extra: Record<string, unknown>) =>
  decodeCluster(roundTrip(TYPE_URL.cluster, { name: 'c', type: 'EDS', eds_cluster_config: { eds_config: { ads: {} }, service_name: 'c-eds' }, ...extra }), warn);

test('lb policies, circuit breaker thresholds, outlier detection and upstream TLS', () => {
  const c = cluster({
    lb_policy: 'RING_HASH',
    ring_hash_lb_config: { minimum_ring_size: { value: 2048 }, maximum_ring_size: { value: 4096 } },
    connect_timeout: { seconds: 3 },
    circuit_breakers: {
      thresholds: [{ max_connections: { value: 10 }, max_pending_requests: { value: 5 }, max_requests: { value: 100 }, max_retries: { value: 3 } }],
    },
    outlier_detection: {
      consecutive_5xx: { value: 7 },
      interval: { seconds: 5 },
      base_ejection_time: { seconds: 30 },
      max_ejection_percent: { value: 20 },
      enforcing_success_rate: { value: 0 },
    },
    transport_socket: {
      name: 'envoy.transport_sockets.tls',
      typed_config: packAny('type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', {
        sni: 'reviews.default.svc.cluster.local',
        common_tls_context: {
          tls_certificate_provider_instance: { instance_name: 'default' },
          combined_validation_context: {
            default_validation_context: { match_subject_alt_names: [{ exact: 'spiffe://cluster.local/ns/default/sa/reviews' }] },
            validation_context_certificate_provider_instance: { instance_name: 'default' },
          },
        },
      }),
    },
  });
  expect(c.source).toEqual({ kind: 'eds', serviceName: 'c-eds' });
  expect(c.loadBalancers).toEqual([{ policy: 'ring-hash', ringSize: { min: 2048, max: 4096 } }]);
  expect(c.settings.connectionPool).toEqual({ maxConnections: 10, maxPendingRequests: 5, maxRequests: 100, maxRetries: 3, connectTimeout: 3000 });
  expect(c.settings.outlierDetection).toMatchObject({
    consecutive5xxErrors: 7,
    consecutiveGatewayErrors: 0,
    interval: 5000,
    baseEjectionTime: 30_000,
    maxEjectionPercent: 20,
    alwaysEjectOneHost: false,
    successRate: { enabled: false },
    failurePercentage: { enabled: false },
  });
  expect(c.settings.tls).toEqual({
    mode: 'mutual',
    subjectAltNames: ['spiffe://cluster.local/ns/default/sa/reviews'],
    sni: 'reviews.default.svc.cluster.local',
  });
});

test("reads the idle timeout and requests per connection where istiod writes them (HttpProtocolOptions), and Cluster's deprecated field", () => {
  const warnings: string[] = [];
  const options = (common: Record<string, unknown>) =>
    packAny('type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions', {
      common_http_protocol_options: common,
      explicit_http_config: { http2_protocol_options: {} },
    });
  const c = decodeCluster(
    {
      name: 'c',
      type: 'EDS',
      eds_cluster_config: { service_name: 'c' },
      typed_extension_protocol_options: {
        'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': options({
          idle_timeout: { seconds: 30 },
          max_requests_per_connection: { value: 10 },
          max_headers_count: { value: 50 },
        }),
      },
    },
    (path, message) => warnings.push(`${path}: ${message}`),
  );
  expect(c.settings.connectionPool).toEqual({ idleTimeout: 30_000, maxRequestsPerConnection: 10 });
  expect(warnings).toEqual([expect.stringContaining('max_headers_count ignored')]);
  const legacy = decodeCluster({ name: 'c', type: 'EDS', eds_cluster_config: { service_name: 'c' }, max_requests_per_connection: { value: 3 } }, () => {});
  expect(legacy.settings.connectionPool).toEqual({ maxRequestsPerConnection: 3 });
});

test('upstream_connection_options.tcp_keepalive: the idle time is read, interval and probes are logged (Node fixes them)', () => {
  warnings.length = 0;
  const c = cluster({ upstream_connection_options: { tcp_keepalive: { keepalive_time: { value: 300 }, keepalive_interval: { value: 75 }, keepalive_probes: { value: 9 } } } });
  expect(c.settings.connectionPool).toEqual({ tcpKeepalive: { time: 300_000 } });
  expect(warnings).toEqual([
    'upstream_connection_options.tcp_keepalive.keepalive_interval: ignored: Node probes every 1 s, 10 times, and cannot be told otherwise',
    'upstream_connection_options.tcp_keepalive.keepalive_probes: ignored: Node probes every 1 s, 10 times, and cannot be told otherwise',
  ]);
  expect(cluster({ upstream_connection_options: { tcp_keepalive: {} } }).settings.connectionPool).toEqual({ tcpKeepalive: {} });
});

test('typed load_balancing_policy: the first supported policy wins, wrr_locality is unwrapped', () => {
  const lc = packAny('type.googleapis.com/envoy.extensions.load_balancing_policies.least_request.v3.LeastRequest', {});
  const wrr = packAny('type.googleapis.com/envoy.extensions.load_balancing_policies.wrr_locality.v3.WrrLocality', {
    endpoint_picking_policy: { policies: [{ typed_extension_config: { name: 'lr', typed_config: lc } }] },
  });
  const unknown = { type_url: 'type.googleapis.com/example.FancyLb', value: Buffer.alloc(0) };
  const c = cluster({
    load_balancing_policy: {
      policies: [{ typed_extension_config: { name: 'fancy', typed_config: unknown } }, { typed_extension_config: { name: 'wrr', typed_config: wrr } }],
    },
  });
  expect(c.loadBalancers).toEqual([{ policy: 'least-request' }]);
  expect(
    rejectionMessage(() => cluster({ load_balancing_policy: { policies: [{ typed_extension_config: { name: 'fancy', typed_config: unknown } }] } })),
  ).toContain('load_balancing_policy.policies: lists no policy the mesh supports');
});

test("slow start: the cluster's round_robin and least_request configs, and the typed policies' own", () => {
  const slow = { slow_start_window: { seconds: 60 }, aggression: { default_value: 2, runtime_key: 'ss.aggression' }, min_weight_percent: { value: 25 } };
  const warmup = { duration: 60_000, aggression: 2, minimumPercent: 25 };
  expect(cluster({ lb_policy: 'ROUND_ROBIN', round_robin_lb_config: { slow_start_config: slow } }).loadBalancers).toEqual([{ policy: 'round-robin', warmup }]);
  expect(cluster({ lb_policy: 'LEAST_REQUEST', least_request_lb_config: { slow_start_config: slow } }).loadBalancers).toEqual([
    { policy: 'least-request', warmup },
  ]);
  // Envoy reads the config of the policy it runs: a round-robin ramp beside LEAST_REQUEST is not one.
  expect(cluster({ lb_policy: 'LEAST_REQUEST', round_robin_lb_config: { slow_start_config: slow } }).loadBalancers).toEqual([{ policy: 'least-request' }]);
  // Only the window is required; no window (or a zero one) is no ramp.
  expect(cluster({ round_robin_lb_config: { slow_start_config: { slow_start_window: { nanos: 500_000_000 } } } }).loadBalancers).toEqual([
    { policy: 'round-robin', warmup: { duration: 500 } },
  ]);
  expect(cluster({ round_robin_lb_config: { slow_start_config: { min_weight_percent: { value: 5 } } } }).loadBalancers).toEqual([{ policy: 'round-robin' }]);

  const typed = (name: string, type: string) =>
    cluster({
      load_balancing_policy: {
        policies: [{ typed_extension_config: { name, typed_config: packAny(`type.googleapis.com/envoy.extensions.load_balancing_policies.${type}`, { slow_start_config: slow }) } }],
      },
    }).loadBalancers;
  expect(typed('rr', 'round_robin.v3.RoundRobin')).toEqual([{ policy: 'round-robin', warmup }]);
  expect(typed('lr', 'least_request.v3.LeastRequest')).toEqual([{ policy: 'least-request', warmup }]);

  // Values Envoy's formula cannot use are rejected where they are.
  expect(
    rejectionMessage(() => cluster({ round_robin_lb_config: { slow_start_config: { ...slow, aggression: { default_value: 0, runtime_key: 'k' } } } })),
  ).toBe('round_robin_lb_config.slow_start_config.aggression.default_value: must be greater than 0 (1 ramps linearly), got 0');
  expect(rejectionMessage(() => cluster({ round_robin_lb_config: { slow_start_config: { ...slow, min_weight_percent: { value: 150 } } } }))).toBe(
    'round_robin_lb_config.slow_start_config.min_weight_percent.value: must be a percentage from 0 to 100, got 150',
  );
});

test('unsupported cluster features are rejected naming the field', () => {
  expect(rejectionMessage(() => cluster({ lb_policy: 'CLUSTER_PROVIDED' }))).toBe(
    'lb_policy: CLUSTER_PROVIDED is not supported; use ROUND_ROBIN, LEAST_REQUEST, RING_HASH, MAGLEV or RANDOM',
  );
  expect(rejectionMessage(() => cluster({ lb_policy: 'MAGLEV', maglev_lb_config: { table_size: { value: 1000 } } }))).toContain(
    'lb_policy: (model field maglevTableSize) must be a prime number',
  );
  expect(
    rejectionMessage(() =>
      cluster({
        transport_socket: {
          name: 'tls',
          typed_config: packAny('type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', {
            common_tls_context: { validation_context: { match_subject_alt_names: [{ prefix: 'spiffe://cluster.local/ns/' }] } },
          }),
        },
      }),
    ),
  ).toContain('match_subject_alt_names[0].match_pattern: only exact SAN matchers (or a whole trust domain as prefix');
  // A whole trust domain (what proxyless's control plane sends without SANs) is the model's default check.
  const anyInDomain = cluster({
    transport_socket: {
      name: 'tls',
      typed_config: packAny('type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', {
        common_tls_context: {
          tls_certificate_provider_instance: { instance_name: 'default' },
          validation_context: { match_subject_alt_names: [{ prefix: 'spiffe://cluster.local/' }] },
        },
      }),
    },
  });
  expect(anyInDomain.settings.tls).toEqual({ mode: 'mutual' });
  expect(rejectionMessage(() => decodeCluster(roundTrip(TYPE_URL.cluster, { name: 'agg', cluster_type: { name: 'envoy.clusters.aggregate' } }), warn))).toContain(
    'cluster_type: custom cluster types',
  );
});

test('a locality weight is kept only when it is a written split, not the sum of its endpoint weights', () => {
  const group = (zone: string, weight: number | undefined, endpointWeights: number[]) => ({
    locality: { region: 'eu', zone },
    ...(weight !== undefined ? { load_balancing_weight: { value: weight } } : {}),
    lb_endpoints: endpointWeights.map((w, i) => ({
      endpoint: { address: { socket_address: { address: `10.0.${zone.length}.${i + 1}`, port_value: 80 } } },
      load_balancing_weight: { value: w },
    })),
  });
  const eds = decodeEndpoints(
    roundTrip(TYPE_URL.clusterLoadAssignment, {
      cluster_name: 'c',
      endpoints: [group('a', 5, [2, 3]), group('bb', 80, [1, 1]), group('ccc', undefined, [1])],
    }),
    warn,
  );
  expect(eds.endpoints.map((e) => [e.zone, e.localityWeight])).toEqual([
    ['a', undefined],
    ['a', undefined],
    ['bb', 80],
    ['bb', 80],
    ['ccc', undefined],
  ]);
});

test('endpoints keep locality, priority, weight and health; bad ones are rejected', () => {
  const eds = decodeEndpoints(
    roundTrip(TYPE_URL.clusterLoadAssignment, {
      cluster_name: 'c',
      endpoints: [
        {
          locality: { region: 'eu', zone: 'eu-1' },
          priority: 1,
          lb_endpoints: [
            { endpoint: { address: { socket_address: { address: '10.0.0.1', port_value: 80 } } }, load_balancing_weight: { value: 3 } },
            { endpoint: { address: { socket_address: { address: '10.0.0.2', port_value: 80 } } }, health_status: 'DRAINING' },
            { endpoint: { address: { socket_address: { address: '10.0.0.3', port_value: 80 } } }, health_status: 'UNHEALTHY' },
          ],
        },
      ],
    }),
    warn,
  );
  expect(eds.endpoints).toEqual([
    { address: '10.0.0.1', port: 80, weight: 3, region: 'eu', zone: 'eu-1', priority: 1, health: 'healthy' },
    { address: '10.0.0.2', port: 80, weight: 1, region: 'eu', zone: 'eu-1', priority: 1, health: 'draining' },
    { address: '10.0.0.3', port: 80, weight: 1, region: 'eu', zone: 'eu-1', priority: 1, health: 'unhealthy' },
  ]);
  expect(
    rejectionMessage(() =>
      decodeEndpoints(
        roundTrip(TYPE_URL.clusterLoadAssignment, {
          cluster_name: 'c',
          endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '10.0.0.1', port_value: 0 } } } }] }],
        }),
        warn,
      ),
    ),
  ).toBe('endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value: must be a port from 1 to 65535, got 0');
});

test('listeners: RDS or inline routes, the fault filter default, and the router-last rule', () => {
  const router = { name: 'router', typed_config: packAny('type.googleapis.com/envoy.extensions.filters.http.router.v3.Router', {}) };
  const fault = {
    name: 'fault',
    typed_config: packAny('type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault', {
      abort: { http_status: 418, percentage: { numerator: 100 } },
    }),
  };
  const hcm = (extra: Record<string, unknown>) =>
    roundTrip(TYPE_URL.listener, {
      name: 'l',
      api_listener: { api_listener: packAny(TYPE_URL.httpConnectionManager, extra) },
    });
  const l = decodeListener(hcm({ rds: { route_config_name: 'r', config_source: { ads: {} } }, http_filters: [fault, router] }), warn);
  expect(l.rdsName).toBe('r');
  expect(l.fault).toEqual({ abort: { percentage: 100, httpStatus: 418 } });
  expect(rejectionMessage(() => decodeListener(hcm({ rds: { route_config_name: 'r', config_source: { ads: {} } }, http_filters: [router, fault] }), warn))).toContain(
    'http_filters[0].typed_config: the router must be the last HTTP filter',
  );
  const lua = { name: 'lua', typed_config: { type_url: 'type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua', value: Buffer.alloc(0) } };
  expect(rejectionMessage(() => decodeListener(hcm({ rds: { route_config_name: 'r', config_source: { ads: {} } }, http_filters: [lua, router] }), warn))).toContain(
    'HTTP filter envoy.extensions.filters.http.lua.v3.Lua is not supported; mark it is_optional',
  );
  expect(rejectionMessage(() => decodeListener(roundTrip(TYPE_URL.listener, { name: 'tcp', address: { socket_address: { address: '0.0.0.0', port_value: 80 } } }), warn))).toContain(
    'api_listener: is required',
  );
});
