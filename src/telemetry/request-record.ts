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

/** A RequestRecord whose fields the reporter rewrites per request. */
export type ScratchRecord = { -readonly [K in keyof RequestRecord]: RequestRecord[K] };

/**
 * The one record a reporter rewrites per request when nothing keeps it
 * (no access log, no requestEnd subscriber): metrics read a record
 * synchronously and keep nothing of it, so the common path allocates no
 * record at all. Its fields are in the order every record literal uses,
 * so the metrics code sees one shape.
 */
export function scratchRecord(
  reporter: RequestRecord['reporter'],
  connectionSecurityPolicy: RequestRecord['connectionSecurityPolicy'],
): ScratchRecord {
  return {
    reporter,
    source: undefined as never,
    destination: undefined as never,
    protocol: 'http',
    responseCode: 0,
    grpcStatus: undefined,
    responseFlags: '-',
    connectionSecurityPolicy,
    startTime: 0,
    durationMs: 0,
    requestBytes: 0,
    responseBytes: 0,
    method: '',
    authority: '',
    path: '',
    route: undefined,
    upstreamHost: undefined,
    attempts: 0,
    traceId: undefined,
    peerPrincipal: undefined,
  };
}
