/**
 * Istio's request metrics and the mesh's own, on one Registry: what a mesh
 * instance creates, and what `/metrics` serves (`registry.metrics()`).
 */
import { Registry } from 'prom-client';
import type { RequestRecord } from '../request-record.js';
import type { AnyRegistry } from './any-registry.js';
import { IstioMetrics } from './istio-metrics.js';
import { MeshMetrics } from './mesh-metrics.js';
import type { MeshStateSource } from './mesh-state.js';

export interface TelemetryMetricsOptions {
  /** Default: a new Registry owned by this instance (never prom-client's global one). */
  registry?: AnyRegistry;
  state?: MeshStateSource;
  /** Cap on Istio label sets (default 10,000). */
  maxSeries?: number;
}

export class TelemetryMetrics {
  readonly registry: AnyRegistry;
  readonly istio: IstioMetrics;
  readonly mesh: MeshMetrics;

  constructor(opts: TelemetryMetricsOptions = {}) {
    this.registry = opts.registry ?? new Registry();
    this.istio = new IstioMetrics({ registry: this.registry, maxSeries: opts.maxSeries });
    this.mesh = new MeshMetrics({ registry: this.registry, state: opts.state });
  }

  record(r: RequestRecord): void {
    this.istio.record(r);
  }

  start(): void {
    this.mesh.start();
  }

  close(): void {
    this.mesh.close();
  }
}
