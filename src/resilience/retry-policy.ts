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

/** `retryOn` as a list of condition names (the config allows Envoy's comma-separated string too). */
export function conditionsOf(retryOn: string | readonly string[] | undefined): string[] {
  if (retryOn === undefined) return [];
  const list = typeof retryOn === 'string' ? retryOn.split(',') : retryOn;
  return list.map((c) => c.trim()).filter((c) => c !== '');
}

/** The retry fields of the mesh, service and route layers merged: later layers win field by field; unset stays undefined. */
export interface MergedRetries {
  attempts: number | undefined;
  perTryTimeout: number | undefined;
  retryOn: string | readonly string[] | undefined;
  retriableStatusCodes: readonly number[] | undefined;
  baseInterval: number | undefined;
  maxInterval: number | undefined;
  retryNonIdempotent: boolean | undefined;
}

/** One merge for the data plane (below) and the control plane's Envoy retry policy, so both read layers alike. */
export function mergeRetryLayers(layers: ReadonlyArray<RetriesInput | undefined>): MergedRetries {
  const m: MergedRetries = {
    attempts: undefined,
    perTryTimeout: undefined,
    retryOn: undefined,
    retriableStatusCodes: undefined,
    baseInterval: undefined,
    maxInterval: undefined,
    retryNonIdempotent: undefined,
  };
  for (const l of layers) {
    if (l === undefined) continue;
    if (l.attempts !== undefined) m.attempts = l.attempts;
    if (l.perTryTimeout !== undefined) m.perTryTimeout = l.perTryTimeout;
    if (l.retryOn !== undefined) m.retryOn = l.retryOn;
    if (l.retriableStatusCodes !== undefined) m.retriableStatusCodes = l.retriableStatusCodes;
    if (l.backoff?.baseInterval !== undefined) m.baseInterval = l.backoff.baseInterval;
    if (l.backoff?.maxInterval !== undefined) m.maxInterval = l.backoff.maxInterval;
    if (l.retryNonIdempotent !== undefined) m.retryNonIdempotent = l.retryNonIdempotent;
  }
  return m;
}

export function compileRetryPolicy(layers: ReadonlyArray<RetriesInput | undefined>): RetryPolicy {
  const merged = mergeRetryLayers(layers);
  const attempts = merged.attempts ?? DEFAULT_RETRY_ATTEMPTS;
  const perTry = merged.perTryTimeout;
  const retryOn = merged.retryOn;
  const codes = merged.retriableStatusCodes;
  const base = merged.baseInterval ?? DEFAULT_BACKOFF_BASE_MS;
  const max = merged.maxInterval;
  const nonIdempotent = merged.retryNonIdempotent ?? false;
  const conditions = conditionsOf(retryOn);
  const reasons = new Set<FailureReason>();
  for (const c of conditions) for (const r of CONDITION_REASONS[c] ?? []) reasons.add(r);
  // Listing codes is asking for them to be retried, with or without the
  // condition's name in retryOn; ignoring the list would drop config silently.
  const statusCodes =
    codes !== undefined || conditions.includes('retriable-status-codes') ? new Set(codes ?? [503]) : undefined;
  return {
    maxRetries: attempts,
    // 0 is none, written to override a less specific level's.
    perTryTimeoutMs: perTry === 0 ? undefined : perTry,
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
