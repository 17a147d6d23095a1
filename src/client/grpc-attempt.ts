/**
 * One gRPC attempt: a grpc-js call on the endpoint the mesh picked, and
 * the listener that hears its answer. Like HttpAttempt, it is one object
 * with the pipeline's attempt state (CallAttempt), and it hands every
 * event to its call, which decides whether the caller sees it.
 */
import type { InterceptingListener, Metadata, NextCall, StatusObject } from '@grpc/grpc-js';
import { CallAttempt } from './call.js';
import type { RouteTarget } from './call-policy.js';
import type { GrpcCall } from './grpc-call.js';
import type { Upstream } from './upstream.js';

export type GrpcCallStream = ReturnType<NextCall>;

export class GrpcAttempt extends CallAttempt implements InterceptingListener {
  readonly grpc: GrpcCall;
  /** The grpc-js call carrying this attempt, once started. */
  stream: GrpcCallStream | undefined;
  /** Response metadata (headers), held until the call commits to this attempt. */
  headers: Metadata | undefined;
  /** A unary response, held until its status says whether the caller gets it. */
  message: unknown;
  hasMessage = false;
  /** Cancelled by the pipeline (hedge loser, per-try timeout): what it says next is not wanted. */
  stopped = false;
  /** The wire bytes of the messages this attempt received: the call reports the committed attempt's. */
  responseBytes = 0;

  constructor(
    call: GrpcCall,
    upstream: Upstream,
    target: RouteTarget,
    n: number,
    hedge: boolean,
    path: string,
    remainingMs: number | undefined,
    now: number,
    isRetry: boolean,
  ) {
    super(upstream, target, n, hedge, path, remainingMs, now, isRetry, call);
    this.grpc = call;
  }

  onReceiveMetadata(metadata: Metadata): void {
    if (!this.stopped) this.grpc.attemptHeaders(this, metadata);
  }

  onReceiveMessage(message: unknown): void {
    // grpc-js deserialized `message` just now, in this same synchronous step: its size is the last one noted.
    this.responseBytes += this.grpc.wire.takeReceived(message);
    if (!this.stopped) this.grpc.attemptMessage(this, message);
  }

  onReceiveStatus(status: StatusObject): void {
    if (!this.stopped) this.grpc.attemptStatus(this, status);
  }

  // The attempt is its own response outcome for the classifier, so judging
  // it allocates nothing: kind, status and grpcStatus below, and header().
  readonly kind = 'response';
  readonly status = 200;
  grpcStatus: number | undefined;
  trailers: Metadata | undefined;

  /** A response trailer or header (lowercase name), trailers first: what the classifier may ask about. */
  header(name: string): string | undefined {
    const v = this.trailers?.get(name)[0] ?? this.headers?.get(name)[0];
    return v === undefined ? undefined : String(v);
  }

  stop(code: number, details: string): void {
    this.stopped = true;
    this.stream?.cancelWithStatus(code, details);
  }
}
