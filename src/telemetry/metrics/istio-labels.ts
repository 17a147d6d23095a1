/**
 * Istio's standard metric names, label set and histogram buckets, in one
 * place, so dashboards written for Istio (Grafana's Istio dashboards, Kiali)
 * read the mesh's metrics unchanged.
 *
 * Checked against istio.io "Istio Standard Metrics" and the stats filter in
 * istio/proxy (`source/extensions/filters/http/istio_stats`), which also
 * fixes the label order used here.
 */
import type { DestinationLabels, WorkloadLabels } from '../request-record.js';

export const ISTIO_METRIC_NAMES = {
  requests: 'istio_requests_total',
  duration: 'istio_request_duration_milliseconds',
  requestBytes: 'istio_request_bytes',
  responseBytes: 'istio_response_bytes',
} as const;

/** Label names in the order Istio's stats filter emits them. */
export const ISTIO_LABEL_NAMES = [
  'reporter',
  'source_workload',
  'source_workload_namespace',
  'source_principal',
  'source_app',
  'source_version',
  'source_canonical_service',
  'source_canonical_revision',
  'source_cluster',
  'destination_workload',
  'destination_workload_namespace',
  'destination_principal',
  'destination_app',
  'destination_version',
  'destination_service',
  'destination_service_name',
  'destination_service_namespace',
  'destination_canonical_service',
  'destination_canonical_revision',
  'destination_cluster',
  'request_protocol',
  'response_flags',
  'connection_security_policy',
  'response_code',
  'grpc_response_status',
] as const;

export type IstioLabelName = (typeof ISTIO_LABEL_NAMES)[number];
export type IstioLabels = Readonly<Record<IstioLabelName, string>>;

/**
 * Envoy's default histogram buckets, which Istio (1.5 and later) uses for
 * every one of its histograms unless a pod overrides them with the
 * `sidecar.istio.io/statsHistogramBuckets` annotation. Milliseconds for the
 * duration histogram.
 */
export const ISTIO_DURATION_BUCKETS_MS: readonly number[] = Object.freeze([
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
]);

/**
 * The same Envoy defaults, read as bytes: Istio's size histograms carry no
 * buckets of their own (scrapes of a sidecar show `le="25"`, `le="250"`, …).
 * The decades 1, 10, …, 10^7 were Mixer's size buckets before Istio 1.5.
 */
export const ISTIO_BYTES_BUCKETS: readonly number[] = ISTIO_DURATION_BUCKETS_MS;

/** Label values that describe a workload, in ISTIO_LABEL_NAMES order for one side. */
export function workloadValues(w: WorkloadLabels): string[] {
  return [
    w.workload,
    w.namespace,
    w.principal,
    w.app,
    w.version,
    w.canonicalService,
    w.canonicalRevision,
    w.cluster,
  ];
}

/** Destination values: the workload's, with the service's three after `version`. */
export function destinationValues(d: DestinationLabels): string[] {
  return [
    d.workload,
    d.namespace,
    d.principal,
    d.app,
    d.version,
    d.service,
    d.serviceName,
    d.serviceNamespace,
    d.canonicalService,
    d.canonicalRevision,
    d.cluster,
  ];
}

/** The per-request part of the label set (everything not about a workload). */
export interface RequestLabelValues {
  readonly reporter: string;
  readonly protocol: string;
  readonly responseFlags: string;
  readonly connectionSecurityPolicy: string;
  readonly responseCode: string;
  readonly grpcStatus: string;
}

/** Builds the label object once per series, keys in Istio's order. */
export function buildIstioLabels(source: readonly string[], destination: readonly string[], req: RequestLabelValues): IstioLabels {
  const values = [
    req.reporter,
    ...source,
    ...destination,
    req.protocol,
    req.responseFlags,
    req.connectionSecurityPolicy,
    req.responseCode,
    req.grpcStatus,
  ];
  const labels: Record<string, string> = {};
  for (let i = 0; i < ISTIO_LABEL_NAMES.length; i++) labels[ISTIO_LABEL_NAMES[i]!] = values[i] ?? 'unknown';
  return labels as IstioLabels;
}
