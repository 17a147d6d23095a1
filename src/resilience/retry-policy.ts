/**
 * A route's retry policy, compiled once per config update: which verdicts
 * are retried, how often, how far apart, and for which requests.
 *
 * The rule: an attempt is retried when the classifier calls it retryable
 * (connect failures, refused streams, resets before any response byte,
 * per-try timeouts), or when `retryOn` names its reason. So the defaults are
 * Istio's safe set, and `retryOn` only ever adds conditions.
 */
import type { AttemptOutcome, FailureReason, Verdict } from './classifier.js';

export interface RetriesInput {
  readonly attempts?: number | undefined;
  readonly perTryTimeout?: number | undefined;
  readonly retryOn?: string | readonly string[] | undefined;
  readonly retriableStatusCodes?: readonly number[] | undefined;
  readonly backoff?: { readonly baseInterval?: number | undefined; readonly maxInterval?: number | undefined } | undefined;
  readonly retryNonIdempotent?: boolean | undefined;
}

export interface RetryPolicy {
  /** Retries after the first try (Istio's `attempts`). */
  readonly maxRetries: number;
  readonly perTryTimeoutMs: number | undefined;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  readonly retryNonIdempotent: boolean;
  /** True when some status codes are retried whatever the classifier says of them. */
  readonly retriesStatuses: boolean;
  /** True when this verdict (on this outcome) may be retried. */
  retries(verdict: Verdict, outcome: AttemptOutcome): boolean;
}

export const DEFAULT_RETRY_ATTEMPTS = 2;
export const DEFAULT_BACKOFF_BASE_MS = 25;

/** What each `retryOn` condition adds, as failure reasons (Envoy's meanings). */
const CONDITION_REASONS: Readonly<Record<string, readonly FailureReason[]>> = {
  '5xx': ['5xx', 'gateway-error', 'connect-failure', 'refused-stream', 'reset', 'per-try-timeout'],
  'gateway-error': ['gateway-error'],
  reset: ['reset', 'per-try-timeout'],
  'connect-failure': ['connect-failure'],
  'refused-stream': ['refused-stream'],
  'per-try-timeout': ['per-try-timeout'],
  unavailable: ['unavailable'],
  cancelled: ['cancelled'],
  'deadline-exceeded': ['deadline-exceeded'],
  'resource-exhausted': ['resource-exhausted'],
  internal: ['internal'],
  'retriable-status-codes': [],
};

function conditionsOf(retryOn: string | readonly string[] | undefined): string[] {
  if (retryOn === undefined) return [];
  const list = typeof retryOn === 'string' ? retryOn.split(',') : retryOn;
  return list.map((c) => c.trim()).filter((c) => c !== '');
}

export function compileRetryPolicy(layers: ReadonlyArray<RetriesInput | undefined>): RetryPolicy {
  let attempts = DEFAULT_RETRY_ATTEMPTS;
  let perTry: number | undefined;
  let retryOn: string | readonly string[] | undefined;
  let codes: readonly number[] | undefined;
  let base = DEFAULT_BACKOFF_BASE_MS;
  let max: number | undefined;
  let nonIdempotent = false;
  // Later layers (mesh, then service, then route) win field by field.
  for (const l of layers) {
    if (l === undefined) continue;
    if (l.attempts !== undefined) attempts = l.attempts;
    if (l.perTryTimeout !== undefined) perTry = l.perTryTimeout;
    if (l.retryOn !== undefined) retryOn = l.retryOn;
    if (l.retriableStatusCodes !== undefined) codes = l.retriableStatusCodes;
    if (l.backoff?.baseInterval !== undefined) base = l.backoff.baseInterval;
    if (l.backoff?.maxInterval !== undefined) max = l.backoff.maxInterval;
    if (l.retryNonIdempotent !== undefined) nonIdempotent = l.retryNonIdempotent;
  }
  const conditions = conditionsOf(retryOn);
  const reasons = new Set<FailureReason>();
  for (const c of conditions) for (const r of CONDITION_REASONS[c] ?? []) reasons.add(r);
  // Listing codes is asking for them to be retried, with or without the
  // condition's name in retryOn; ignoring the list would drop config silently.
  const statusCodes =
    codes !== undefined || conditions.includes('retriable-status-codes') ? new Set(codes ?? [503]) : undefined;
  return {
    maxRetries: attempts,
    perTryTimeoutMs: perTry,
    backoffBaseMs: base,
    backoffMaxMs: Math.max(max ?? base * 10, base),
    retryNonIdempotent: nonIdempotent,
    retriesStatuses: statusCodes !== undefined,
    retries(verdict, outcome) {
      // A listed status is retried even when the classifier calls it a
      // success (a 429 is a 4xx), as Envoy's retriable_status_codes does.
      if (statusCodes !== undefined && outcome.kind === 'response' && statusCodes.has(outcome.status)) return true;
      if (verdict.class === 'success') return false;
      if (verdict.class === 'retryable') return true;
      if (verdict.reason !== undefined && reasons.has(verdict.reason)) return true;
      return false;
    },
  };
}

const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** RFC 9110's idempotent methods, or a request carrying an Idempotency-Key. */
export function isIdempotent(method: string, hasIdempotencyKey: boolean): boolean {
  return hasIdempotencyKey || IDEMPOTENT_METHODS.has(method);
}
