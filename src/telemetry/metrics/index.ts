/** Prometheus metrics: Istio's standard request metrics and the mesh's own (re-exports only). */
export {
  ISTIO_BYTES_BUCKETS,
  ISTIO_DURATION_BUCKETS_MS,
  ISTIO_LABEL_NAMES,
  ISTIO_METRIC_NAMES,
  type IstioLabelName,
} from './istio-labels.js';
export { DEFAULT_MAX_SERIES, IstioMetrics, type IstioMetricsOptions } from './istio-metrics.js';
export { MeshMetrics, type MeshMetricsOptions } from './mesh-metrics.js';
export type {
  CircuitStateName,
  CircuitStateReading,
  EndpointHealth,
  EndpointHealthCount,
  MeshStateSource,
} from './mesh-state.js';
export { LABEL_OVERFLOW_METRIC, OVERFLOW_LABEL } from './overflow-counter.js';
export { TelemetryMetrics, type TelemetryMetricsOptions } from './telemetry-metrics.js';
