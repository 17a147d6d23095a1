/**
 * Outbound telemetry in one place: each call's client trace (started in the
 * caller's context, so it parents correctly), trace headers per attempt,
 * and at the end one RequestRecord for the metrics and the access log.
 */
import type { Attempt, CallObserver, CallRequest, CallResult, Cluster, ObservedCall } from '../client/call-types.js';
import type { MeshError } from '../errors.js';
import { monotonicNow } from '../net/monotonic-clock.js';
import type { AccessLog } from './access-log.js';
import { hasSubscribers, publish } from './events.js';
import type { TelemetryMetrics } from './metrics/telemetry-metrics.js';
import { type RequestRecord, scratchRecord, type WorkloadLabels } from './request-record.js';
import type { ClientInfo } from './tracing/attributes.js';
import type { ClientTrace } from './tracing/client-trace.js';
import type { MeshTracer } from './tracing/mesh-tracer.js';
import type { DestinationLabelCache } from './workload-labels.js';

export interface OutboundTelemetry {
  readonly tracer: MeshTracer | undefined;
  readonly metrics: TelemetryMetrics | undefined;
  readonly accessLog: AccessLog | undefined;
  readonly source: () => WorkloadLabels;
  readonly destinations: DestinationLabelCache;
}

/** A call seen as the tracer's ClientInfo; startClient reads it synchronously, so one instance serves every call. */
class CallInfo implements ClientInfo {
  call: ObservedCall | undefined;
  get protocol(): 'http' | 'grpc' {
    return this.call!.request.protocol;
  }
  get service(): string {
    return this.call!.cluster.reportedName;
  }
  get route(): string {
    return this.call!.routeName;
  }
  get subset(): string | undefined {
    return this.call!.subset;
  }
  get method(): string {
    return this.call!.request.method;
  }
  get scheme(): string {
    return this.call!.request.scheme;
  }
  get authority(): string {
    return this.call!.request.authority;
  }
  get path(): string {
    return this.call!.request.path;
  }
}

// inject() runs synchronously, so one shared setter and list serve every
// attempt instead of a closure per attempt.
let injected: string[] | undefined;
function collectHeader(name: string, value: string): void {
  if (injected === undefined) injected = [name, value];
  else injected.push(name, value);
}

export class OutboundObserver implements CallObserver {
  readonly #t: OutboundTelemetry;

  constructor(telemetry: OutboundTelemetry) {
    this.#t = telemetry;
  }

  start(call: ObservedCall): ClientTrace | undefined {
    if (hasSubscribers('requestStart')) {
      publish('requestStart', () => ({ reporter: 'source', service: call.cluster.name, method: call.request.method, path: call.request.path }));
    }
    const tracer = this.#t.tracer;
    if (tracer === undefined) return undefined;
    const info = this.#info;
    info.call = call;
    try {
      return tracer.startClient(info);
    } finally {
      info.call = undefined;
    }
  }

  attempt(call: ObservedCall, attempt: Attempt, retryReason: string | undefined): string[] | undefined {
    const trace = call.observation as ClientTrace | undefined;
    if (trace === undefined) return undefined;
    trace.attemptStart(attempt.number, attempt.upstream.key, retryReason, attempt.startedAt);
    injected = undefined;
    trace.inject(collectHeader);
    const headers = injected;
    injected = undefined;
    return headers;
  }

  attemptEnd(call: ObservedCall, attempt: Attempt, outcome: number | Error, grpcStatus: number | undefined, at: number): void {
    (call.observation as ClientTrace | undefined)?.attemptEnd(attempt.number, outcome, grpcStatus, at);
  }

  end(call: ObservedCall, result: CallResult): void {
    const trace = call.observation as ClientTrace | undefined;
    const { metrics, accessLog } = this.#t;
    const keeps = accessLog !== undefined || hasSubscribers('requestEnd');
    // A trace nobody records has nothing to end; skipping it saves an object per call.
    const recording = trace?.recording === true;
    if (!recording && metrics === undefined && !keeps) return;
    // One reading ends the span and measures the duration (a clock read is ~50 ns).
    const endedAt = monotonicNow();
    if (recording) {
      // One literal of one shape: spreads would clone an object per call.
      trace!.end({
        status: result.status > 0 ? result.status : undefined,
        grpcStatus: result.grpcStatus,
        error: result.error,
        responseFlags: result.flags,
        endedAt,
      });
    }
    if (metrics === undefined && !keeps) return;
    const durationMs = endedAt - call.startedAt;
    const endpoint = result.upstream?.endpoint;
    const destination = this.#t.destinations.forEndpoint(call.cluster.reportedName, call.cluster.namespace, endpoint);
    if (!keeps) {
      // Metrics read the record synchronously and keep nothing of it: one scratch
      // record serves every call, so the common path allocates no record at all.
      const r = this.#scratch;
      r.source = this.#t.source();
      r.destination = destination;
      r.protocol = call.request.protocol;
      r.responseCode = result.status;
      r.grpcStatus = result.grpcStatus;
      r.responseFlags = result.flags;
      r.durationMs = durationMs;
      r.requestBytes = result.requestBytes;
      r.responseBytes = result.responseBytes;
      metrics!.record(r as RequestRecord);
      return;
    }
    const req = call.request;
    const record: RequestRecord = {
      reporter: 'source',
      source: this.#t.source(),
      destination,
      protocol: call.request.protocol,
      responseCode: result.status,
      grpcStatus: result.grpcStatus,
      responseFlags: result.flags,
      // Istio's client side reports 'unknown': it cannot see how the server authenticated it.
      connectionSecurityPolicy: 'unknown',
      startTime: Date.now() - durationMs,
      durationMs,
      requestBytes: result.requestBytes,
      responseBytes: result.responseBytes,
      method: req.method,
      authority: req.authority,
      path: req.path,
      route: call.routeName,
      upstreamHost: result.upstream?.key,
      attempts: call.attempts,
      traceId: trace?.traceId,
      peerPrincipal: undefined,
    };
    metrics?.record(record);
    accessLog?.log(record);
    publish('requestEnd', () => record);
  }

  refused(cluster: Cluster, request: CallRequest, err: MeshError): void {
    const { metrics, accessLog } = this.#t;
    if (metrics === undefined && accessLog === undefined && !hasSubscribers('requestEnd')) return;
    const record: RequestRecord = {
      reporter: 'source',
      source: this.#t.source(),
      destination: this.#t.destinations.forEndpoint(cluster.reportedName, cluster.namespace, undefined),
      protocol: request.protocol,
      responseCode: err.httpStatus,
      grpcStatus: undefined,
      responseFlags: err.responseFlag,
      connectionSecurityPolicy: 'unknown',
      startTime: Date.now(),
      durationMs: 0,
      requestBytes: 0,
      responseBytes: 0,
      method: request.method,
      authority: request.authority,
      path: request.path,
      route: undefined,
      upstreamHost: undefined,
      attempts: 0,
      traceId: undefined,
      peerPrincipal: undefined,
    };
    metrics?.record(record);
    accessLog?.log(record);
    publish('requestEnd', () => record);
  }

  /** What the tracer reads of a call, read only if a span is recorded (authority and scheme cost a slice each). */
  readonly #info = new CallInfo();

  /** The metrics-only record: the fields the request metrics read, rewritten per call. */
  readonly #scratch = scratchRecord('source', 'unknown');
}
