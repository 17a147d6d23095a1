/**
 * The protocol-neutral contract between the outbound pipeline (call.ts,
 * stack.ts) and a protocol adapter (http.ts today, grpc.ts next). The
 * pipeline decides; the adapter moves bytes. Nothing here knows undici or
 * grpc-js.
 */
import type { Picker } from '../balancer/types.js';
import type { MeshError } from '../errors.js';
import type { CircuitBreaker } from '../resilience/circuit-breaker.js';
import type { Verdict } from '../resilience/classifier.js';
import type { LatencyWindow } from '../resilience/latency-window.js';
import type { PoolLimits } from '../resilience/pool-limits.js';
import type { TokenBucket } from '../resilience/rate-limit.js';
import type { RetryBudget } from '../resilience/retry-budget.js';
import type { RouteRequest } from '../routing/route-table.js';
import type { Upstream } from './upstream.js';

/** A reply the mesh makes itself (fault abort, redirect, fallback) instead of asking an endpoint. */
export interface LocalReply {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Envoy response flag for logs and metrics: FI (fault), - (redirect), or the fallback's cause. */
  readonly flag: string;
}

/** What a fallback receives when the breaker (or any typed failure) stops a call. */
export type Fallback = (err: MeshError, request: { readonly method: string; readonly path: string }) => LocalReply | undefined;

/** The concrete tier of one service (a cluster, Envoy would say): what the pipeline asks of it. */
export interface Cluster {
  /** The service's key in the config: the mesh's own metrics, events and errors name it so. */
  readonly name: string;
  /** The service Istio's metrics and the spans name (`reportAs`, else the key). */
  readonly reportedName: string;
  readonly namespace: string;
  /** The picker for a subset (undefined: the whole service); undefined for an unknown subset. */
  picker(subset: string | undefined): Picker<Upstream> | undefined;
  readonly budget: RetryBudget;
  readonly limits: PoolLimits;
  readonly breaker: CircuitBreaker | undefined;
  readonly rateLimit: TokenBucket | undefined;
  readonly latency: LatencyWindow;
  readonly fallback: Fallback | undefined;
  /** The request's hash for consistent-hash policies, or undefined. */
  hashOf(request: CallRequest): number | undefined;
  /** Feed one attempt's verdict to the endpoint's outlier detection. */
  recordVerdict(upstream: Upstream, verdict: Verdict): void;
  /** The typed error for "nothing to pick" (no endpoints, all ejected, discovery failed). */
  noUpstreamError(): MeshError;
  /** Resolves once discovery has answered; `initialized` is true after that. */
  readonly initialized: boolean;
  whenInitialized(): Promise<void>;
}

/** The request as the pipeline sees it. */
export interface CallRequest extends RouteRequest {
  /** Which adapter made the call: Istio's `request_protocol` and the span's attributes. */
  readonly protocol: 'http' | 'grpc';
  /** Path as the caller sent it (the route may rewrite it per attempt). */
  readonly path: string;
  /** The protocol's own header shape (undici's array or record; gRPC metadata as a record), for hashing. */
  readonly headers: unknown;
  readonly hasIdempotencyKey: boolean;
  /** The authority the caller addressed (Host header, else the URL's host). */
  readonly authority: string;
  /** `http` or `https`, as the caller wrote it. */
  readonly scheme: string;
  /** Undefined when the body can be sent again; else why not (for the error and the log). */
  readonly replayBlocker: string | undefined;
}

/** One try on one endpoint. The adapter's own per-attempt object is this object (see CallAttempt). */
export interface Attempt {
  readonly upstream: Upstream;
  readonly cluster: Cluster;
  /** 0 for the first try; hedges and retries count up. */
  readonly number: number;
  readonly hedge: boolean;
  /** monotonicNow() when the attempt began. */
  readonly startedAt: number;
  /** Path to send (after rewrite). */
  readonly path: string;
  /** Extra headers for this attempt: route mutations, the deadline budget. */
  readonly requestHeaders: import('../routing/header-mutation.js').HeaderMutation | undefined;
  readonly remainingMs: number | undefined;
  /**
   * Headers the observer asked to send with this attempt (trace context), as
   * a flat [name, value, ...] list that belongs to this attempt alone: the
   * adapter may append its own to it.
   */
  readonly traceHeaders: string[] | undefined;
}

/** What the adapter must do for the pipeline. */
export interface CallTransport {
  readonly request: CallRequest;
  /** Send one attempt; report back through the call's on* methods. */
  startAttempt(attempt: Attempt): void;
  /** Stop an attempt whose result is no longer wanted (hedge loser, per-try timeout). */
  cancelAttempt(attempt: Attempt, reason: Error): void;
  /** The committed attempt must end with this error (deadline while streaming, caller abort). */
  failCommitted(attempt: Attempt, err: Error): void;
  /** Nothing was committed: end the caller's request with this error. */
  fail(err: Error): void;
  /** Nothing was committed: answer the caller locally. */
  reply(reply: LocalReply): void;
  /** Send a fire-and-forget copy of the transformed request to the mirror target. */
  mirror(target: import('./call-policy.js').RouteTarget): void;
}

/** How a call ended, as the adapter saw it: what telemetry records. */
export interface CallResult {
  /** HTTP status sent to the caller (a local reply's too); 0 when the call failed without one. */
  readonly status: number;
  /** gRPC status for gRPC calls. */
  readonly grpcStatus: number | undefined;
  /** Envoy response flags ('-' for none). */
  readonly flags: string;
  readonly requestBytes: number;
  readonly responseBytes: number;
  /** The endpoint that answered, when one did. */
  readonly upstream: Upstream | undefined;
  readonly error: Error | undefined;
}

/**
 * Watches calls for telemetry (metrics, access log, traces). One per mesh;
 * every method runs on the hot path, so each does as little as it can.
 */
export interface CallObserver {
  /** A call is starting; the value returned rides along as `call.observation`. */
  start(call: ObservedCall): unknown;
  /** An attempt is starting; returns headers to send with it (trace context), if any. */
  attempt(call: ObservedCall, attempt: Attempt, retryReason: string | undefined): string[] | undefined;
  /**
   * An attempt got its verdict (a response's HTTP status, and its gRPC status
   * for a gRPC response that ended with one) or failed, at `at` (monotonicNow(),
   * the reading the call took for it).
   */
  attemptEnd(call: ObservedCall, attempt: Attempt, outcome: number | Error, grpcStatus: number | undefined, at: number): void;
  /** The call is over for the caller. */
  end(call: ObservedCall, result: CallResult): void;
  /** A call was refused before it started (no route matched); `err` says why. */
  refused(cluster: Cluster, request: CallRequest, err: MeshError): void;
}

/** What an observer may read of a call. */
export interface ObservedCall {
  readonly observation: unknown;
  readonly request: CallRequest;
  readonly cluster: Cluster;
  readonly subset: string | undefined;
  readonly routeName: string;
  /** Attempts started so far (retries and hedges included). */
  readonly attempts: number;
  /** monotonicNow() when the call started. */
  readonly startedAt: number;
}
