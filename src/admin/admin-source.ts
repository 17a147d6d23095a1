/**
 * What the admin endpoint reads from a mesh. The mesh implements it; the
 * admin server only renders it, so the server never reaches into the
 * mesh's internals and tests can serve any source.
 */
import type { AnyRegistry } from '../telemetry/metrics/any-registry.js';

export interface EndpointView {
  /** `address:port`. */
  readonly address: string;
  /** The weight discovery gives the endpoint. */
  readonly weight: number;
  /** The share of that weight it gets while it warms up (`loadBalancer.warmup`), 0 to 1; 1 when not warming. */
  readonly warmth: number;
  readonly region: string;
  readonly zone: string;
  readonly priority: number;
  /** Health from discovery: healthy, unhealthy, draining. */
  readonly health: string;
  readonly ejected: boolean;
  /** Epoch ms when an ejected endpoint returns; undefined when not ejected. */
  readonly ejectedUntil: number | undefined;
  readonly inFlight: number;
  /** The peak-EWMA latency estimate in ms (0 before any response). */
  readonly ewmaMs: number;
  readonly labels: Readonly<Record<string, string>>;
}

export interface ClusterView {
  readonly service: string;
  readonly namespace: string;
  /** Breaker state: closed, open, half-open; 'none' when the service has no breaker. */
  readonly circuit: string;
  readonly loadBalancer: string;
  /** The discovery error being served through, if any. */
  readonly discoveryError: string | undefined;
  readonly endpoints: readonly EndpointView[];
}

export interface ConfigChange {
  /** Epoch ms. */
  readonly time: number;
  /** `options`, `env`, `file /etc/mesh.yaml`, `xds`. */
  readonly source: string;
  readonly version: number;
  readonly accepted: boolean;
  /** Why it was rejected. */
  readonly error?: string;
}

export interface AdminSource {
  /**
   * The registry `/metrics` serves (Istio's metrics and the mesh's own), in
   * either text format: TelemetryMetrics' `registry` as it is.
   */
  readonly registry: AnyRegistry;
  /** True once discovery and certificates are ready and the mesh is not closing. */
  ready(): boolean;
  /** The effective config, with each source (layer) and its version. Secrets never appear. */
  configDump(): unknown;
  clusters(): readonly ClusterView[];
  /** The most recent config updates, newest last (bounded). */
  configChanges(): readonly ConfigChange[];
}
