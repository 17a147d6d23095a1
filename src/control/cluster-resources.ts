/**
 * A service (and each of its subsets) as an Envoy Cluster (CDS).
 *
 * `lb_policy` carries what gRPC's proxyless clients accept (ROUND_ROBIN or
 * RING_HASH; they NACK anything else), so every gRPC client can join; a
 * custom policy with a dotted, gRPC-style name is also offered in
 * `load_balancing_policy` (typed-lb-policy.ts). The
 * mesh's exact settings, including those Envoy has no field for (peak-EWMA,
 * the error-rate circuit breaker, retry budget), travel beside them in the
 * cluster's `metadata.filter_metadata["io.proxyless"]`, which other clients
 * ignore.
 */
import { parseHostPort } from '../config/fields.js';
import { effectiveLoadBalancer } from '../config/lb-levels.js';
import { isDottedLbPolicyName } from '../config/lb-policy-name.js';
import { resolveOutlierConfig } from '../config/outlier-schema.js';
import type { LoadBalancerConfig, MeshSettings, ServiceConfig } from '../config/schema.js';
import { effectiveWarmup } from '../config/warmup-schema.js';
import { HTTP_PROTOCOL_OPTIONS, HTTP_PROTOCOL_OPTIONS_TYPE_URL } from '../discovery/xds/decode-http-options.js';
import { packAny } from '../discovery/xds/envoy-protos.js';
import { durationOf, structOf, uint32 } from './envoy-values.js';
import { clusterName, servicePort } from './resource-names.js';
import { typedLoadBalancingPolicy } from './typed-lb-policy.js';

export const PROXYLESS_METADATA = 'io.proxyless';
const UPSTREAM_TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
/** The certificate provider name istiod uses for proxyless gRPC; the client's bootstrap defines it. */
export const CERTIFICATE_PROVIDER = 'default';

type Obj = Record<string, unknown>;

export interface ClusterSpec {
  readonly service: string;
  readonly subset: string | undefined;
  readonly name: string;
}

/** The service's own cluster first, then one per subset. */
export function clusterSpecs(service: string, config: ServiceConfig, mesh: MeshSettings): ClusterSpec[] {
  return [undefined, ...Object.keys(config.subsets ?? {})].map((subset) => ({
    service,
    subset,
    name: clusterName(service, config, mesh, subset),
  }));
}

export function clusterResource(spec: ClusterSpec, config: ServiceConfig, mesh: MeshSettings): Obj {
  const { warmup: _levels, ...levels } = effectiveLoadBalancer([
    mesh.loadBalancer,
    config.loadBalancer,
    spec.subset !== undefined ? config.subsets?.[spec.subset]?.loadBalancer : undefined,
  ]);
  // The service's ramp, by the data plane's rule (a mesh-wide one skips a service with a hashing picker), for every cluster of it.
  const warmup = effectiveWarmup(mesh.loadBalancer, config);
  const lb: LoadBalancerConfig & { policy: string } = warmup === undefined ? levels : { ...levels, warmup };
  const cluster: Obj = { name: spec.name, ...discovery(spec, config), ...lbFields(lb) };
  const pool = { ...mesh.connectionPool, ...config.connectionPool };
  if (pool.connectTimeout !== undefined) cluster.connect_timeout = durationOf(pool.connectTimeout);
  const thresholds: Obj = {};
  if (pool.maxConnections !== undefined) thresholds.max_connections = uint32(pool.maxConnections);
  if (pool.maxPendingRequests !== undefined) thresholds.max_pending_requests = uint32(pool.maxPendingRequests);
  if (pool.maxRequests !== undefined) thresholds.max_requests = uint32(pool.maxRequests);
  if (pool.maxRetries !== undefined) thresholds.max_retries = uint32(pool.maxRetries);
  if (Object.keys(thresholds).length > 0) cluster.circuit_breakers = { thresholds: [{ priority: 'DEFAULT', ...thresholds }] };
  if (pool.tcpKeepalive !== undefined) {
    const time = pool.tcpKeepalive.time;
    cluster.upstream_connection_options = { tcp_keepalive: time === undefined ? {} : { keepalive_time: uint32(time / 1000) } };
  }
  if (pool.idleTimeout !== undefined || pool.maxRequestsPerConnection !== undefined) {
    // Where istiod writes a DestinationRule's connectionPool.http; HTTP/1.1 upstream, as the mesh speaks.
    const common: Obj = {};
    if (pool.idleTimeout !== undefined) common.idle_timeout = durationOf(pool.idleTimeout);
    if (pool.maxRequestsPerConnection !== undefined) common.max_requests_per_connection = uint32(pool.maxRequestsPerConnection);
    cluster.typed_extension_protocol_options = {
      [HTTP_PROTOCOL_OPTIONS]: packAny(HTTP_PROTOCOL_OPTIONS_TYPE_URL, {
        common_http_protocol_options: common,
        explicit_http_config: { http_protocol_options: {} },
      }),
    };
  }
  const outlier = outlierDetection(mesh, config);
  if (outlier !== undefined) cluster.outlier_detection = outlier;
  const tls = upstreamTls(config, mesh);
  if (tls !== undefined) cluster.transport_socket = { name: 'envoy.transport_sockets.tls', typed_config: packAny(UPSTREAM_TLS, tls) };
  cluster.metadata = {
    filter_metadata: {
      [PROXYLESS_METADATA]: structOf({
        service: spec.service,
        subset: spec.subset,
        loadBalancer: lb,
        circuitBreaker: { ...mesh.circuitBreaker, ...config.circuitBreaker },
        retryBudget: { ...mesh.retryBudget, ...config.retryBudget },
      }),
    },
  };
  return cluster;
}

function discovery(spec: ClusterSpec, config: ServiceConfig): Obj {
  const dns = config.discovery?.startsWith('dns:') ? parseHostPort(config.discovery.slice(4)) : undefined;
  if (dns !== undefined && typeof dns !== 'string') {
    const port = dns.port ?? servicePort(config);
    return {
      type: 'LOGICAL_DNS',
      load_assignment: {
        cluster_name: spec.name,
        endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: dns.address, port_value: port } } } }] }],
      },
    };
  }
  return { type: 'EDS', eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' }, service_name: spec.name } };
}

function lbFields(lb: LoadBalancerConfig & { policy: string }): Obj {
  const out: Obj = {};
  const hashing = lb.policy === 'ring-hash' || lb.policy === 'maglev';
  out.lb_policy = hashing ? 'RING_HASH' : 'ROUND_ROBIN';
  // gRPC reads a dotted custom name from the standard field (and then ignores lb_policy); see typed-lb-policy.ts.
  if (isDottedLbPolicyName(lb.policy)) out.load_balancing_policy = typedLoadBalancingPolicy(lb.policy, lb.config);
  // Where Envoy and istiod put a ramp: ROUND_ROBIN's config, which is the lb_policy every non-hashing policy is written as.
  if (lb.warmup !== undefined && !hashing) out.round_robin_lb_config = { slow_start_config: slowStartConfig(lb.warmup) };
  if (hashing) {
    out.ring_hash_lb_config = {
      hash_function: 'XX_HASH',
      ...(lb.ringSize !== undefined
        ? { minimum_ring_size: { value: lb.ringSize.min }, maximum_ring_size: { value: lb.ringSize.max } }
        : {}),
    };
  }
  const common: Obj = {};
  if (lb.panicThreshold !== undefined) common.healthy_panic_threshold = { value: lb.panicThreshold };
  // Envoy honours the per-client locality weights `distribute` writes (local-endpoints.ts) only with this set.
  if (lb.localityAware || (lb.distribute !== undefined && lb.localityAware !== false)) common.locality_weighted_lb_config = {};
  if (Object.keys(common).length > 0) out.common_lb_config = common;
  return out;
}

function slowStartConfig(warmup: NonNullable<LoadBalancerConfig['warmup']>): Obj {
  const out: Obj = { slow_start_window: durationOf(warmup.duration) };
  if (warmup.aggression !== undefined) out.aggression = { default_value: warmup.aggression, runtime_key: 'upstream.slow_start.aggression' };
  if (warmup.minimumPercent !== undefined) out.min_weight_percent = { value: warmup.minimumPercent };
  return out;
}

/** Detection is on unless a block turns it off, as in the data plane (outlier-schema.ts). */
function outlierDetection(mesh: MeshSettings, config: ServiceConfig): Obj | undefined {
  const od = resolveOutlierConfig([mesh.outlierDetection, config.outlierDetection]);
  if (od === undefined) return undefined;
  const out: Obj = {
    consecutive_5xx: uint32(od.consecutive5xxErrors),
    enforcing_consecutive_5xx: uint32(od.consecutive5xxErrors > 0 ? 100 : 0),
    consecutive_gateway_failure: uint32(od.consecutiveGatewayErrors),
    enforcing_consecutive_gateway_failure: uint32(od.consecutiveGatewayErrors > 0 ? 100 : 0),
    interval: durationOf(od.intervalMs),
    base_ejection_time: durationOf(od.baseEjectionTimeMs),
    max_ejection_time: durationOf(od.maxEjectionTimeMs),
    max_ejection_percent: uint32(Math.round(od.maxEjectionPercent)),
    enforcing_success_rate: uint32(od.successRate !== undefined ? 100 : 0),
    enforcing_failure_percentage: uint32(od.failurePercentage !== undefined ? 100 : 0),
  };
  if (od.alwaysEjectOneHost !== undefined) out.always_eject_one_host = { value: od.alwaysEjectOneHost };
  if (od.successRate !== undefined) {
    out.success_rate_minimum_hosts = uint32(od.successRate.minimumHosts);
    out.success_rate_request_volume = uint32(od.successRate.requestVolume);
    out.success_rate_stdev_factor = uint32(od.successRate.stdevFactor);
  }
  if (od.failurePercentage !== undefined) {
    out.failure_percentage_threshold = uint32(Math.round(od.failurePercentage.threshold));
    out.failure_percentage_minimum_hosts = uint32(od.failurePercentage.minimumHosts);
    out.failure_percentage_request_volume = uint32(od.failurePercentage.requestVolume);
  }
  return out;
}

/**
 * Istio's shape for proxyless gRPC: certificates come from the client's own
 * certificate provider (bootstrap `certificate_providers.default`), peers are
 * checked by SPIFFE ID.
 */
function upstreamTls(config: ServiceConfig, mesh: MeshSettings): Obj | undefined {
  const mode = config.tls?.mode ?? mesh.security?.outboundTls ?? 'disable';
  if (mode === 'disable') return undefined;
  const trustDomain = mesh.security?.trustDomain ?? 'cluster.local';
  const sans = config.tls?.subjectAltNames;
  const validation: Obj =
    mode === 'simple' && config.tls?.caCertificates !== undefined
      ? { trusted_ca: { filename: config.tls.caCertificates } }
      : { ca_certificate_provider_instance: { instance_name: CERTIFICATE_PROVIDER, certificate_name: 'ROOTCA' } };
  if (mode === 'mutual') {
    validation.match_subject_alt_names =
      sans !== undefined ? sans.map((exact) => ({ exact })) : [{ prefix: `spiffe://${trustDomain}/` }];
  } else if (sans !== undefined) validation.match_subject_alt_names = sans.map((exact) => ({ exact }));
  const common: Obj = { combined_validation_context: { default_validation_context: validation } };
  if (mode === 'mutual') {
    common.tls_certificate_provider_instance = { instance_name: CERTIFICATE_PROVIDER, certificate_name: 'default' };
  }
  return { common_tls_context: common, ...(config.tls?.sni !== undefined ? { sni: config.tls.sni } : {}) };
}
