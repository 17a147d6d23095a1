/**
 * When and how a mesh starts its xDS client: when `createMesh({ xds })` or
 * the environment (GRPC_XDS_BOOTSTRAP, GRPC_XDS_BOOTSTRAP_CONFIG,
 * MESH_XDS_SERVER) names a control plane. Kept out of mesh.ts so the
 * assembly root only wires it.
 */
import { ConfigError } from '../../config/config-error.js';
import { type Env, envVar } from '../../config/env.js';
import type { RegisteredPolicies } from '../../config/lb-policy-check.js';
import type { BackoffConfig } from '../../resilience/backoff.js';
import type { MeshLogger } from '../../telemetry/logger.js';
import type { AnyRegistry } from '../../telemetry/metrics/any-registry.js';
import { bootstrapFromEnv, parseBootstrap, type XdsBootstrap } from './bootstrap.js';
import { ISTIO_INBOUND_TEMPLATE, inboundListenerName } from './inbound-vocabulary.js';
import { sameServiceListeners } from './names.js';
import type { NodePlace } from './node-message.js';
import { XdsClient } from './xds-client.js';
import { XdsMetrics } from './xds-metrics.js';

export interface XdsOptions {
  /**
   * Listener names to subscribe to, as gRPC clients name them: the target's
   * `host:port`, e.g. `reviews.default.svc.cluster.local:9080` (else MESH_XDS_LISTENERS).
   */
  listeners?: readonly string[];
  /**
   * The address this process's server listens on, `ip:port` or a port (else
   * MESH_XDS_INBOUND): the client then subscribes to its inbound listener
   * (named by the bootstrap's `server_listener_resource_name_template`,
   * istiod's by default) and enforces the policies and mTLS mode it carries.
   */
  inbound?: string;
  /** Bootstrap JSON (gRPC's format) or a parsed bootstrap; else from the environment. */
  bootstrap?: string | XdsBootstrap;
  /**
   * Milliseconds to wait for a requested resource before it counts as not
   * existing (gRFC A27's does-not-exist timer; default 15000).
   */
  resourceTimeoutMs?: number;
  /** Reconnect backoff (default 1 s base, 30 s cap, full jitter). */
  backoff?: BackoffConfig;
}

export interface StartXdsParams {
  readonly options: XdsOptions | false | undefined;
  /** What `xdsBootstrap()` resolved for these options and this environment. */
  readonly bootstrap: XdsBootstrap | undefined;
  readonly env: Env;
  readonly logger: MeshLogger;
  readonly registry: AnyRegistry | undefined;
  /** Put the translated layer into the config store; throws ConfigError to reject. */
  readonly apply: (config: unknown, source: string) => void;
  /** The mesh's load-balancer registry: a cluster's custom-policy candidates are chosen against it. */
  readonly policies: RegisteredPolicies;
  /** Record an update rejected before `apply` (XdsClientOptions.rejected). */
  readonly rejected: (error: ConfigError) => void;
  /** XdsClientOptions.place. */
  readonly place?: () => NodePlace;
}

/**
 * The control plane `createMesh({ xds })` names (its `bootstrap`), else the
 * environment's (GRPC_XDS_BOOTSTRAP, GRPC_XDS_BOOTSTRAP_CONFIG,
 * MESH_XDS_SERVER); undefined with `xds: false` or when nothing names one.
 * Throws ConfigError for a bad bootstrap.
 */
export function xdsBootstrap(options: XdsOptions | false | undefined, env: Env): XdsBootstrap | undefined {
  if (options === false) return undefined;
  const b = options?.bootstrap;
  return typeof b === 'string' ? parseBootstrap(b, 'options xds.bootstrap', env) : (b ?? bootstrapFromEnv(env));
}

export function listenersFrom(options: XdsOptions | undefined, env: Env): string[] {
  if (options?.listeners !== undefined) return [...options.listeners];
  return (envVar(env, 'MESH_XDS_LISTENERS') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** The inbound listener's name, from `ip:port` or a port (the IP then MESH_POD_IP, POD_IP, else 0.0.0.0). */
export function inboundFrom(options: XdsOptions | undefined, env: Env, bootstrap: XdsBootstrap): string | undefined {
  const value = (options?.inbound ?? envVar(env, 'MESH_XDS_INBOUND') ?? '').trim();
  if (value === '') return undefined;
  const ip = envVar(env, 'MESH_POD_IP') ?? envVar(env, 'POD_IP') ?? '0.0.0.0';
  const address = /^\d{1,5}$/.test(value) ? `${ip.includes(':') ? `[${ip}]` : ip}:${value}` : value;
  if (!/^(?:\[[0-9a-fA-F:.]+\]|[^:[\]\s]+):\d{1,5}$/.test(address) || Number(address.slice(address.lastIndexOf(':') + 1)) > 65535) {
    throw new ConfigError(bootstrap.source, [{ path: 'MESH_XDS_INBOUND', message: `${JSON.stringify(value)} is not ip:port or a port, e.g. "10.0.0.7:8080" or "8080"` }]);
  }
  return inboundListenerName(bootstrap.serverListenerTemplate ?? ISTIO_INBOUND_TEMPLATE, address);
}

/** The client, not yet started; undefined when nothing asks for xDS. Throws ConfigError for bad listeners. */
export function createXdsClient(p: StartXdsParams): { client: XdsClient; source: string } | undefined {
  const bootstrap = p.bootstrap;
  if (p.options === false || bootstrap === undefined) return undefined;
  const listeners = listenersFrom(p.options, p.env);
  const inbound = inboundFrom(p.options, p.env, bootstrap);
  if (listeners.length === 0 && inbound === undefined) {
    throw new ConfigError(bootstrap.source, [
      { path: 'MESH_XDS_LISTENERS', message: 'names no listener; list the targets to route through xDS, e.g. "reviews.default.svc.cluster.local:9080"' },
    ]);
  }
  const same = sameServiceListeners(listeners, p.place?.().namespace);
  if (same !== undefined) {
    throw new ConfigError(bootstrap.source, [{ path: 'MESH_XDS_LISTENERS', message: `"${same[0]}" and "${same[1]}" name the same service on the same port; list one of them` }]);
  }
  const source = `xds ${bootstrap.serverUri}`;
  const client = new XdsClient({
    bootstrap,
    listeners,
    ...(inbound !== undefined ? { inbound } : {}),
    apply: (config) => p.apply(config, source),
    policies: p.policies,
    source,
    rejected: p.rejected,
    logger: p.logger,
    ...(p.place !== undefined ? { place: p.place } : {}),
    ...(p.options?.resourceTimeoutMs !== undefined ? { resourceTimeoutMs: p.options.resourceTimeoutMs } : {}),
    ...(p.options?.backoff !== undefined ? { backoff: p.options.backoff } : {}),
  });
  // One xDS client per registry: a second mesh sharing the registry reports through mesh.xdsStatus() only.
  if (p.registry !== undefined && p.registry.getSingleMetric('proxyless_xds_updates_total') === undefined) {
    client.metrics = new XdsMetrics(p.registry, () => client.status());
  }
  return { client, source };
}
