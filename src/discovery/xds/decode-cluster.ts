/**
 * Cluster (CDS) into the model's settings for one service: where its
 * endpoints come from (EDS, a static list, or DNS), load balancing,
 * connection-pool limits (Envoy's circuit_breakers thresholds), outlier
 * detection and upstream TLS. Each block is checked against the model's own
 * schema here, so a bad value is NACKed with its Envoy field path.
 */
import type { z } from 'zod';
import { outlierDetectionSchema } from '../../config/outlier-schema.js';
import { connectionPoolSchema } from '../../config/resilience-schema.js';
import { loadBalancerSchema } from '../../config/schema.js';
import { serviceTlsSchema } from '../../config/security-schema.js';
import { toConfigIssues } from '../../config/validate.js';
import type { EndpointInit } from '../endpoint.js';
import { clusterLoadBalancers, type LbInput } from './decode-cluster-lb.js';
import { decodeEndpoints } from './decode-endpoints.js';
import { httpConnectionOptions } from './decode-http-options.js';
import type { Warn } from './decode-route-action.js';
import { upstreamTls } from './decode-upstream-tls.js';
import { ProtoReader } from './proto-reader.js';
import { proxylessSettings } from './proxyless-metadata.js';

export type ClusterSource =
  | { readonly kind: 'eds'; readonly serviceName: string }
  | { readonly kind: 'static'; readonly endpoints: readonly EndpointInit[] }
  | { readonly kind: 'dns'; readonly host: string; readonly port: number };

export interface XdsCluster {
  readonly name: string;
  readonly source: ClusterSource;
  /** Model service fields: connectionPool, outlierDetection, tls, circuitBreaker, retryBudget. */
  readonly settings: Readonly<Record<string, unknown>>;
  /**
   * Model `loadBalancer` blocks, most preferred first, never empty; each
   * passed the model's schema. The first whose policy the mesh has becomes
   * the service's `loadBalancer` when the cluster is translated
   * (choose-lb-policy.ts): only the mesh knows which custom policies it has.
   */
  readonly loadBalancers: readonly LbInput[];
}

function check(schema: z.ZodType, value: unknown, r: ProtoReader, field: string): void {
  const parsed = schema.safeParse(value);
  if (parsed.success) return;
  const issue = toConfigIssues(parsed.error.issues, value)[0];
  r.fail(field, `${issue?.path ? `(model field ${issue.path}) ` : ''}${issue?.message ?? 'is invalid'}`);
}

function source(c: ProtoReader, name: string, warn: Warn): ClusterSource {
  const kind = c.oneof('cluster_discovery_type') === 'cluster_type' ? 'cluster_type' : c.str('type') || 'STATIC';
  if (kind === 'EDS') {
    const eds = c.msg('eds_cluster_config');
    const source = eds?.msg('eds_config');
    if (source !== undefined && source.oneof('config_source_specifier') !== 'ads' && source.oneof('config_source_specifier') !== 'self') {
      c.fail('eds_cluster_config.eds_config', 'must be ads or self (the mesh reads endpoints over the same ADS stream)');
    }
    return { kind: 'eds', serviceName: eds?.str('service_name') || name };
  }
  const assignment = c.msg('load_assignment');
  if (kind === 'STATIC') {
    if (assignment === undefined) c.fail('load_assignment', 'is required for a STATIC cluster');
    return { kind: 'static', endpoints: decodeEndpoints(assignment.raw, warn, assignment.path).endpoints };
  }
  if (kind === 'STRICT_DNS' || kind === 'LOGICAL_DNS') {
    const eps = assignment === undefined ? [] : decodeEndpoints(assignment.raw, warn, assignment.path).endpoints;
    const first = eps[0];
    if (first === undefined || eps.length > 1) c.fail('load_assignment', `a ${kind} cluster needs exactly one endpoint (the name to resolve)`);
    return { kind: 'dns', host: first.address, port: first.port };
  }
  return c.fail(kind === 'cluster_type' ? 'cluster_type' : 'type', `${kind === 'cluster_type' ? 'custom cluster types (aggregate, ...)' : kind} is not supported; use EDS, STATIC, STRICT_DNS or LOGICAL_DNS`);
}

function connectionPool(c: ProtoReader, warn: Warn): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const t of c.msg('circuit_breakers')?.list('thresholds') ?? []) {
    if ((t.str('priority') || 'DEFAULT') !== 'DEFAULT') {
      warn(t.path, 'thresholds for HIGH priority ignored (the mesh has one priority)');
      continue;
    }
    const fields: [string, string][] = [
      ['max_connections', 'maxConnections'],
      ['max_pending_requests', 'maxPendingRequests'],
      ['max_requests', 'maxRequests'],
      ['max_retries', 'maxRetries'],
    ];
    for (const [envoy, model] of fields) {
      const v = t.wrapped(envoy);
      if (v !== undefined) out[model] = v;
    }
  }
  const connect = c.durationMs('connect_timeout');
  if (connect !== undefined && connect > 0) out.connectTimeout = connect;
  Object.assign(out, httpConnectionOptions(c, warn));
  const keepalive = c.msg('upstream_connection_options')?.msg('tcp_keepalive');
  if (keepalive !== undefined) {
    for (const field of ['keepalive_interval', 'keepalive_probes']) {
      if (keepalive.wrapped(field) !== undefined) warn(keepalive.at(field), 'ignored: Node probes every 1 s, 10 times, and cannot be told otherwise');
    }
    // Seconds on the wire; 0 or unset leaves the idle time at its default.
    const time = keepalive.wrapped('keepalive_time');
    out.tcpKeepalive = time === undefined || time === 0 ? {} : { time: time * 1000 };
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Enforcement percentages other than 0 and 100 cannot be expressed: on is on. */
function enforced(od: ProtoReader, field: string, envoyDefault: number, warn: Warn): boolean {
  const v = od.wrapped(field) ?? envoyDefault;
  if (v !== 0 && v !== 100) warn(od.at(field), `${v}% enforcement is treated as 100%`);
  return v > 0;
}

function outlierDetection(c: ProtoReader, warn: Warn): Record<string, unknown> | undefined {
  const od = c.msg('outlier_detection');
  if (od === undefined) return undefined;
  const out: Record<string, unknown> = {
    consecutive5xxErrors: enforced(od, 'enforcing_consecutive_5xx', 100, warn) ? (od.wrapped('consecutive_5xx') ?? 5) : 0,
    // Envoy enforces gateway failures only when asked (default 0%).
    consecutiveGatewayErrors: enforced(od, 'enforcing_consecutive_gateway_failure', 0, warn)
      ? (od.wrapped('consecutive_gateway_failure') ?? 5)
      : 0,
    alwaysEjectOneHost: od.bool('always_eject_one_host'),
  };
  const durations: [string, string][] = [
    ['interval', 'interval'],
    ['base_ejection_time', 'baseEjectionTime'],
    ['max_ejection_time', 'maxEjectionTime'],
  ];
  for (const [envoy, model] of durations) {
    const ms = od.durationMs(envoy);
    if (ms !== undefined) out[model] = ms;
  }
  const maxPercent = od.wrapped('max_ejection_percent');
  if (maxPercent !== undefined) out.maxEjectionPercent = maxPercent;
  const successRate: Record<string, unknown> = { enabled: enforced(od, 'enforcing_success_rate', 100, warn) };
  for (const [envoy, model] of [
    ['success_rate_minimum_hosts', 'minimumHosts'],
    ['success_rate_request_volume', 'requestVolume'],
    ['success_rate_stdev_factor', 'stdevFactor'],
  ] as const) {
    const v = od.wrapped(envoy);
    if (v !== undefined) successRate[model] = v;
  }
  out.successRate = successRate;
  const failure: Record<string, unknown> = { enabled: enforced(od, 'enforcing_failure_percentage', 0, warn) };
  for (const [envoy, model] of [
    ['failure_percentage_threshold', 'threshold'],
    ['failure_percentage_minimum_hosts', 'minimumHosts'],
    ['failure_percentage_request_volume', 'requestVolume'],
  ] as const) {
    const v = od.wrapped(envoy);
    if (v !== undefined) failure[model] = v;
  }
  out.failurePercentage = failure;
  return out;
}

export function decodeCluster(raw: Record<string, unknown>, warn: Warn, path = ''): XdsCluster {
  const c = new ProtoReader(raw, path);
  const name = c.str('name');
  if (name === '') c.fail('name', 'is required');
  const settings: Record<string, unknown> = {};
  const lbField = c.msg('load_balancing_policy') ? 'load_balancing_policy' : 'lb_policy';
  const candidates = clusterLoadBalancers(c, warn);
  for (const lb of candidates) check(loadBalancerSchema, lb, c, lbField);
  const pool = connectionPool(c, warn);
  if (pool !== undefined) {
    check(connectionPoolSchema, pool, c, 'circuit_breakers');
    settings.connectionPool = pool;
  }
  const od = outlierDetection(c, warn);
  if (od !== undefined) {
    check(outlierDetectionSchema, od, c, 'outlier_detection');
    settings.outlierDetection = od;
  }
  const tls = upstreamTls(c);
  if (tls !== undefined) {
    check(serviceTlsSchema, tls, c, 'transport_socket');
    settings.tls = tls;
  }
  // proxyless's own control plane sends the exact model blocks too; they refine the standard fields.
  const exact = proxylessSettings(c);
  const loadBalancers = exact.loadBalancer === undefined ? candidates : refined(candidates, exact.loadBalancer as LbInput);
  if (exact.circuitBreaker !== undefined) settings.circuitBreaker = exact.circuitBreaker;
  if (exact.retryBudget !== undefined) settings.retryBudget = exact.retryBudget;
  if (c.list('transport_socket_matches').length > 0) warn(c.at('transport_socket_matches'), 'ignored; the cluster transport_socket applies to every endpoint');
  return { name, source: source(c, name, warn), settings, loadBalancers };
}

/**
 * The exact block proxyless's control plane sends refines the standard
 * fields. When it names the policy, that policy is the only candidate: it is
 * what the config says, and a mesh without it rejects the update as it
 * would the same config from a file. Its config is the exact block's too
 * (none when it has none), not whatever the TypedStruct carried.
 */
function refined(candidates: readonly LbInput[], exact: Partial<LbInput>): LbInput[] {
  if (exact.policy === undefined) return candidates.map((lb) => ({ ...lb, ...exact }));
  const { config: _standard, ...base } = candidates.find((lb) => lb.policy === exact.policy) ?? candidates[0]!;
  return [{ ...base, ...exact, policy: exact.policy }];
}
