/**
 * What the inbound pipeline reports to: the tracer for SERVER spans,
 * Istio's metrics (reporter="destination"), the access log, the per-route
 * golden metrics, and this workload's labels as the destination.
 */
import type { AccessLog } from '../telemetry/access-log.js';
import type { TelemetryMetrics } from '../telemetry/metrics/telemetry-metrics.js';
import type { DestinationLabels } from '../telemetry/request-record.js';
import type { MeshTracer } from '../telemetry/tracing/mesh-tracer.js';
import type { PeerLabelCache } from '../telemetry/workload-labels.js';
import type { RouteMetrics } from './route-metrics.js';

export interface InboundTelemetry {
  readonly tracer: MeshTracer | undefined;
  readonly metrics: TelemetryMetrics | undefined;
  readonly accessLog: AccessLog | undefined;
  /** Per-route golden metrics; undefined with metrics off. */
  readonly routes?: RouteMetrics | undefined;
  /** This workload, as the destination of its inbound requests. */
  readonly self: () => DestinationLabels;
  readonly peers: PeerLabelCache;
}
