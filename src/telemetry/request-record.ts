/**
 * What the mesh knows about one finished request, on either side: the one
 * record metrics, the access log and request-end events are all built from,
 * so they never disagree. Fields follow Istio's standard labels where Istio
 * has one; 'unknown' where the mesh cannot know (as Istio writes it).
 */

/** A workload as Istio's telemetry names it. */
export interface WorkloadLabels {
  /** Workload name (Deployment), e.g. `reviews-v1`. */
  readonly workload: string;
  readonly namespace: string;
  /** `spiffe://…` identity, or 'unknown' without mTLS. */
  readonly principal: string;
  readonly app: string;
  readonly version: string;
  readonly canonicalService: string;
  readonly canonicalRevision: string;
  readonly cluster: string;
}

export interface DestinationLabels extends WorkloadLabels {
  /** The service's host, e.g. `reviews.default.svc.cluster.local`. */
  readonly service: string;
  readonly serviceName: string;
  readonly serviceNamespace: string;
}

export interface RequestRecord {
  /** `source`: this process made the call (client side); `destination`: it served it. */
  readonly reporter: 'source' | 'destination';
  readonly source: WorkloadLabels;
  readonly destination: DestinationLabels;
  readonly protocol: 'http' | 'grpc';
  /** HTTP status; 0 when no response was received at all. */
  readonly responseCode: number;
  /** gRPC status for gRPC requests; undefined for HTTP. */
  readonly grpcStatus: number | undefined;
  /** Envoy response flags (`UH`, `UF`, `UO`, `URX`, `UT`, `DC`, `NR`, `RL`, `FI`, `DI`, …), '-' for none. */
  readonly responseFlags: string;
  readonly connectionSecurityPolicy: 'mutual_tls' | 'none' | 'unknown';
  /** Epoch milliseconds when the request started. */
  readonly startTime: number;
  readonly durationMs: number;
  readonly requestBytes: number;
  readonly responseBytes: number;
  readonly method: string;
  readonly authority: string;
  /** Raw path with query: for the access log only, never a metric label. */
  readonly path: string;
  /** The matched route's name (bounded: from config) or route template on the inbound side. */
  readonly route: string | undefined;
  /** `address:port` of the endpoint that answered, when one did. */
  readonly upstreamHost: string | undefined;
  readonly attempts: number;
  readonly traceId: string | undefined;
  /** The verified peer (inbound) or expected server identity (outbound), when known. */
  readonly peerPrincipal: string | undefined;
}

export const UNKNOWN = 'unknown';
