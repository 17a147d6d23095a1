/**
 * When and how a mesh starts its xDS client: when `createMesh({ xds })` or
 * the environment (GRPC_XDS_BOOTSTRAP, GRPC_XDS_BOOTSTRAP_CONFIG,
 * MESH_XDS_SERVER) names a control plane. Kept out of mesh.ts so the
 * assembly root only wires it.
 */
import { ConfigError } from '../../config/config-error.js';
import type { BackoffConfig } from '../../resilience/backoff.js';
import type { MeshLogger } from '../../telemetry/logger.js';
import type { AnyRegistry } from '../../telemetry/metrics/any-registry.js';
import { bootstrapFromEnv, parseBootstrap, type XdsBootstrap } from './bootstrap.js';
import { listenerTarget } from './names.js';
import { XdsClient } from './xds-client.js';
import { XdsMetrics } from './xds-metrics.js';

export interface XdsOptions {
  /**
   * Listener names to subscribe to, as gRPC clients name them: the target's
   * `host:port`, e.g. `reviews.default.svc.cluster.local:9080` (else MESH_XDS_LISTENERS).
   */
  listeners?: readonly string[];
  /** Bootstrap JSON (gRPC's format) or a parsed bootstrap; else from the environment. */
  bootstrap?: string | XdsBootstrap;
  /** gRPC's does-not-exist timeout (default 15 s). */
  resourceTimeoutMs?: number;
  /** Reconnect backoff (default 1 s base, 30 s cap, full jitter). */
  backoff?: BackoffConfig;
}

export interface StartXdsParams {
  readonly options: XdsOptions | false | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger: MeshLogger;
  readonly registry: AnyRegistry | undefined;
  /** Put the translated layer into the config store; throws ConfigError to reject. */
  readonly apply: (config: unknown, source: string) => void;
}

export function listenersFrom(options: XdsOptions | undefined, env: Readonly<Record<string, string | undefined>>): string[] {
  if (options?.listeners !== undefined) return [...options.listeners];
  return (env.MESH_XDS_LISTENERS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** The client, not yet started; undefined when nothing asks for xDS. Throws ConfigError for a bad bootstrap. */
export function createXdsClient(p: StartXdsParams): { client: XdsClient; source: string } | undefined {
  if (p.options === false) return undefined;
  const b = p.options?.bootstrap;
  const bootstrap = typeof b === 'string' ? parseBootstrap(b, 'options xds.bootstrap', p.env) : (b ?? bootstrapFromEnv(p.env));
  if (bootstrap === undefined) return undefined;
  const listeners = listenersFrom(p.options, p.env);
  if (listeners.length === 0) {
    throw new ConfigError(bootstrap.source, [
      { path: 'MESH_XDS_LISTENERS', message: 'names no listener; list the targets to route through xDS, e.g. "reviews.default.svc.cluster.local:9080"' },
    ]);
  }
  const byService = new Map<string, string>();
  for (const name of listeners) {
    const service = listenerTarget(name).service;
    const other = byService.get(service);
    if (other !== undefined) {
      throw new ConfigError(bootstrap.source, [
        { path: 'MESH_XDS_LISTENERS', message: `"${other}" and "${name}" would both be service "${service}"; list one of them` },
      ]);
    }
    byService.set(service, name);
  }
  const source = `xds ${bootstrap.serverUri}`;
  const client = new XdsClient({
    bootstrap,
    listeners,
    apply: (config) => p.apply(config, source),
    logger: p.logger,
    ...(p.options?.resourceTimeoutMs !== undefined ? { resourceTimeoutMs: p.options.resourceTimeoutMs } : {}),
    ...(p.options?.backoff !== undefined ? { backoff: p.options.backoff } : {}),
  });
  // One xDS client per registry: a second mesh sharing the registry reports through mesh.xdsStatus() only.
  if (p.registry !== undefined && p.registry.getSingleMetric('proxyless_xds_updates_total') === undefined) {
    client.metrics = new XdsMetrics(p.registry, () => client.status());
  }
  return { client, source };
}
