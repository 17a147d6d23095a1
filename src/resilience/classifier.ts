/**
 * The one response classifier. Every attempt's outcome (a response's status,
 * or the error that ended it) is judged here exactly once, and the verdict
 * feeds retries, the circuit breaker, outlier detection and (later) metrics,
 * so they can never disagree about what a failure is. Users may replace it
 * (`createMesh({ classifier })`); the built-in one follows Envoy and Istio.
 */
import { isMeshError } from '../errors.js';

/**
 * What ended one attempt, in protocol-neutral terms. The HTTP adapter fills
 * `status`; the gRPC adapter fills `grpcStatus` (and `status` 200).
 */
export type AttemptOutcome =
  | {
      readonly kind: 'response';
      readonly status: number;
      readonly grpcStatus: number | undefined;
      /** A response header (lowercase name), first value. */
      header(name: string): string | undefined;
    }
  | {
      readonly kind: 'error';
      readonly error: Error;
      /** True when part of a response had already arrived. */
      readonly responseStarted: boolean;
    };

/**
 * Why an attempt failed, in the vocabulary of `retryOn`: the reason a retry
 * carries (metrics, events, spans). `retriable-status-codes` is never the
 * built-in classifier's: it is the reason of a retry made because
 * `retriableStatusCodes` lists a status the classifier called a success (a
 * 429), named, like the others, after its `retryOn` condition.
 */
export type FailureReason =
  | 'connect-failure'
  | 'refused-stream'
  | 'reset'
  | 'reset-after-response'
  | 'per-try-timeout'
  | 'gateway-error'
  | '5xx'
  | 'unavailable'
  | 'cancelled'
  | 'deadline-exceeded'
  | 'resource-exhausted'
  | 'internal'
  | 'retriable-status-codes'
  | 'other';

export type VerdictClass = 'success' | 'retryable' | 'failure';

export interface Verdict {
  /**
   * success: the endpoint did its job (any 1xx–4xx answer counts: a 404 is the
   * caller's problem, not the endpoint's). retryable: failed in a way that is
   * safe to try again for a request that may be repeated. failure: failed;
   * retried only when `retryOn` names its reason.
   */
  readonly class: VerdictClass;
  readonly reason: FailureReason | undefined;
}

export type Classifier = (outcome: AttemptOutcome) => Verdict;

function verdict(cls: VerdictClass, reason: FailureReason | undefined): Verdict {
  return Object.freeze({ class: cls, reason });
}

// Preallocated: classifying allocates nothing.
export const SUCCESS = verdict('success', undefined);
const CONNECT = verdict('retryable', 'connect-failure');
const REFUSED = verdict('retryable', 'refused-stream');
const RESET = verdict('retryable', 'reset');
const RESET_LATE = verdict('failure', 'reset-after-response');
const PER_TRY = verdict('retryable', 'per-try-timeout');
const GATEWAY = verdict('failure', 'gateway-error');
const FIVE_XX = verdict('failure', '5xx');
const OTHER = verdict('failure', 'other');
const GRPC: Readonly<Record<number, Verdict>> = {
  // A server that resets the stream (shutting down) shows as CANCELLED: the
  // caller's own cancellations never reach the classifier.
  1: verdict('retryable', 'cancelled'),
  4: verdict('failure', 'deadline-exceeded'),
  8: verdict('failure', 'resource-exhausted'),
  13: verdict('failure', 'internal'),
  // Istio retries gRPC UNAVAILABLE (and CANCELLED) by default, and grpc-js reports a
  // connection lost under a call as UNAVAILABLE too (there is no separate
  // reset): a replica dying mid-call must not fail idempotent calls.
  14: verdict('retryable', 'unavailable'),
};
/** gRPC codes that mean the server itself is unwell (Envoy maps these to 5xx for outlier detection). */
const GRPC_SERVER_FAULTS = new Set([2, 4, 13, 14, 15]);

/** HTTP/2 REFUSED_STREAM (and GOAWAY for unprocessed streams): the server promised it did nothing. */
function isRefusedStream(err: Error): boolean {
  const cause = (err.cause ?? err) as { code?: string; message?: string };
  return (
    cause.code === 'ERR_HTTP2_STREAM_ERROR' && typeof cause.message === 'string' && cause.message.includes('REFUSED_STREAM')
  );
}

export const builtinClassifier: Classifier = (outcome) => {
  if (outcome.kind === 'response') {
    const g = outcome.grpcStatus;
    if (g !== undefined && g !== 0) return GRPC[g] ?? (GRPC_SERVER_FAULTS.has(g) ? OTHER : SUCCESS);
    const s = outcome.status;
    if (s < 500) return SUCCESS;
    return s === 502 || s === 503 || s === 504 ? GATEWAY : FIVE_XX;
  }
  const err = outcome.error;
  if (isMeshError(err)) {
    switch (err.code) {
      case 'MESH_CONNECT_FAILURE':
        return CONNECT;
      case 'MESH_UPSTREAM_RESET':
        if (outcome.responseStarted) return RESET_LATE;
        return isRefusedStream(err) ? REFUSED : RESET;
      case 'MESH_ATTEMPT_TIMEOUT':
        return PER_TRY;
      default:
        return OTHER;
    }
  }
  return OTHER;
};

/**
 * Why a verdict is (or would be) retried: its reason, or
 * `retriable-status-codes` for a success, which only a listed status gets
 * retried for.
 */
export function retryReasonOf(v: Verdict): FailureReason | undefined {
  return v.class === 'success' ? 'retriable-status-codes' : v.reason;
}

/** How outlier detection counts a verdict (Envoy's split: gateway errors, other 5xx, locally-originated). */
export function outlierResultOf(v: Verdict): 'success' | 'http-5xx' | 'gateway' | 'local-failure' {
  if (v.class === 'success') return 'success';
  switch (v.reason) {
    case 'connect-failure':
    case 'refused-stream':
    case 'reset':
    case 'reset-after-response':
    case 'per-try-timeout':
      return 'local-failure';
    case 'gateway-error':
    case 'unavailable':
      return 'gateway';
    default:
      return 'http-5xx';
  }
}
