/**
 * The resilience blocks of the config model: timeout, retries, retry
 * budget, hedging, connection pool, circuit breaker, rate limit and the
 * request replay cap. Field names follow Istio (VirtualService retries,
 * DestinationRule connectionPool) and Linkerd (retry budget), so their users
 * find what they expect. Every field is optional: the mesh, a service and a
 * route each write only what they change, and the layers are merged (with
 * defaults) later. Ranges are checked here, once.
 */
import { z } from 'zod';
import { MeshError } from '../errors.js';
import { formatDuration } from './duration.js';
// fields.js, not schema.js: schema.ts embeds these blocks, so importing it back would be a cycle.
import { duration, shown } from './fields.js';
import { closestName } from './suggest.js';

function wholeNumber(min: number, max: number, note = '') {
  const rule = (iss: { input?: unknown }) =>
    max === Number.MAX_SAFE_INTEGER
      ? `must be a whole number, ${min} or more${note}, got ${shown(iss.input)}`
      : `must be a whole number from ${min} to ${max}${note}, got ${shown(iss.input)}`;
  return z.number().int({ error: rule }).min(min, { error: rule }).max(max, { error: rule });
}

const atLeastOne = wholeNumber(1, Number.MAX_SAFE_INTEGER);

const positiveDuration = duration.refine((ms) => ms > 0, { error: 'must be longer than 0' });

/** The overall time a call may take, retries included (0 disables it, as in Istio). */
export const timeoutSchema = duration;

// ── retries ──────────────────────────────────────────────────────────────

/** What `retryOn` may name (Envoy's x-envoy-retry-on and x-envoy-retry-grpc-on values). */
export const RETRY_CONDITIONS = [
  '5xx',
  'gateway-error',
  'reset',
  'connect-failure',
  'refused-stream',
  'retriable-status-codes',
  'per-try-timeout',
  'unavailable',
  'cancelled',
  'deadline-exceeded',
  'resource-exhausted',
  'internal',
] as const;
export type RetryCondition = (typeof RETRY_CONDITIONS)[number];

/**
 * A set of retry conditions as a bitmask: one bit per condition, in
 * RETRY_ON. Testing `mask & RETRY_ON['5xx']` on the hot path costs no
 * lookup and no allocation, unlike a Set of strings.
 */
export type RetryConditions = number;

export const RETRY_ON: Readonly<Record<RetryCondition, number>> = Object.freeze(
  Object.fromEntries(RETRY_CONDITIONS.map((c, i) => [c, 1 << i])) as Record<RetryCondition, number>,
);

function isRetryCondition(name: string): name is RetryCondition {
  return (RETRY_CONDITIONS as readonly string[]).includes(name);
}

function unknownConditionMessage(name: string): string {
  const hint = closestName(name, RETRY_CONDITIONS);
  return `unknown retry condition ${JSON.stringify(name)}${hint ? ` (did you mean "${hint}"?)` : ''}; allowed: ${RETRY_CONDITIONS.join(', ')}`;
}

/**
 * Conditions as a bitmask (see RETRY_ON). Names are trimmed; blank ones are
 * skipped. Throws MESH_INVALID_ARGUMENT on an unknown name, which validated
 * config never has.
 */
export function parseRetryOn(list: readonly string[]): RetryConditions {
  let mask = 0;
  for (const raw of list) {
    const name = raw.trim();
    if (name === '') continue;
    if (!isRetryCondition(name)) throw new MeshError('MESH_INVALID_ARGUMENT', unknownConditionMessage(name));
    mask |= RETRY_ON[name];
  }
  return mask;
}

/** Istio's comma-separated string, or a list; either way a list of known conditions, without repeats. */
const retryOnSchema = z
  .union([z.string(), z.array(z.string())], {
    error: (iss) =>
      `must be a comma-separated string such as "5xx,reset" or a list of conditions, got ${shown(iss.input)}`,
  })
  .transform((value, ctx): RetryCondition[] => {
    const fromString = typeof value === 'string';
    const names = fromString ? value.split(',') : value;
    const out: RetryCondition[] = [];
    names.forEach((raw, i) => {
      const name = raw.trim();
      // "5xx,,reset" is a typo Envoy tolerates; an empty list item is not.
      if (name === '') {
        if (!fromString) ctx.addIssue({ code: 'custom', path: [i], message: 'must not be empty' });
        return;
      }
      if (!isRetryCondition(name)) {
        ctx.addIssue({ code: 'custom', path: fromString ? [] : [i], message: unknownConditionMessage(name) });
        return;
      }
      if (!out.includes(name)) out.push(name);
    });
    return out;
  });

const STATUS_RULE = (iss: { input?: unknown }) => `must be an HTTP status code from 100 to 599, got ${shown(iss.input)}`;
const httpStatus = z.number().int({ error: STATUS_RULE }).min(100, { error: STATUS_RULE }).max(599, { error: STATUS_RULE });

const backoffSchema = z
  .strictObject({
    baseInterval: positiveDuration.optional(),
    maxInterval: positiveDuration.optional(),
  })
  .superRefine((b, ctx) => {
    if (b.baseInterval !== undefined && b.maxInterval !== undefined && b.maxInterval < b.baseInterval) {
      ctx.addIssue({
        code: 'custom',
        path: ['maxInterval'],
        message: `must not be shorter than baseInterval (${formatDuration(b.baseInterval)}), got ${formatDuration(b.maxInterval)}`,
      });
    }
  });

export const retriesSchema = z.strictObject({
  /** Retries after the first try (Istio's meaning), so 2 means up to 3 tries. */
  attempts: wholeNumber(0, 10, ' (retries after the first try)').optional(),
  /** 0 is none, and overrides a less specific level's (a Linkerd route's retries replace its Service's whole). */
  perTryTimeout: duration.optional(),
  retryOn: retryOnSchema.optional(),
  retriableStatusCodes: z.array(httpStatus).optional(),
  backoff: backoffSchema.optional(),
  /** Retry POST, PATCH and other non-idempotent requests too (normally only with an Idempotency-Key). */
  retryNonIdempotent: z.boolean().optional(),
});

// ── retry budget ─────────────────────────────────────────────────────────

const RATIO_RULE = (iss: { input?: unknown }) =>
  `must be a number from 0 to 1000 (retries allowed per request: 0.2 allows 20% extra load), got ${shown(iss.input)}`;
const MIN_TTL_MS = 1000;
const MAX_TTL_MS = 60_000;

export const retryBudgetSchema = z.strictObject({
  ratio: z.number({ error: RATIO_RULE }).min(0, { error: RATIO_RULE }).max(1000, { error: RATIO_RULE }).optional(),
  minRetriesPerSecond: wholeNumber(0, Number.MAX_SAFE_INTEGER).optional(),
  // Linkerd's and Finagle's range: shorter windows are too noisy to budget
  // on, longer ones remember an outage long after it ended.
  ttl: duration
    .refine((ms) => ms >= MIN_TTL_MS && ms <= MAX_TTL_MS, {
      error: (iss) => `must be from 1s to 60s, got ${formatDuration(iss.input as number)}`,
    })
    .optional(),
});

// ── hedging ──────────────────────────────────────────────────────────────

/** Hedge once the first request has taken longer than this destination's observed 95th percentile. */
export const HEDGE_AFTER_P95 = 'p95';

const hedgeDelay = z
  .union([z.number(), z.string()], {
    error: (iss) =>
      iss.input === undefined
        ? 'is required: how long to wait before a backup request, such as "50ms", or "p95"'
        : `must be a duration such as "50ms", or "p95", got ${shown(iss.input)}`,
  })
  .transform((value, ctx): number | typeof HEDGE_AFTER_P95 => {
    if (value === HEDGE_AFTER_P95) return HEDGE_AFTER_P95;
    if (typeof value === 'string' && /^p\d/.test(value.trim())) {
      ctx.addIssue({
        code: 'custom',
        message: `${JSON.stringify(value)} is not supported; write "p95" (the observed 95th percentile) or a duration such as "50ms"`,
      });
      return z.NEVER;
    }
    const parsed = duration.safeParse(value);
    if (!parsed.success) {
      const message =
        typeof value === 'string'
          ? `${JSON.stringify(value)} is neither "p95" nor a duration; write milliseconds as a number or a string like "50ms"`
          : (parsed.error.issues[0]?.message ?? 'is not a duration');
      ctx.addIssue({ code: 'custom', message });
      return z.NEVER;
    }
    return parsed.data;
  });

export const hedgingSchema = z.strictObject({
  // Required: a block without it would send no backup requests, silently.
  delay: hedgeDelay,
  /** Backup requests on top of the first. */
  maxRequests: wholeNumber(1, 3, ' (backup requests on top of the first)').optional(),
});

// ── connection pool ──────────────────────────────────────────────────────

/**
 * Node (libuv) sets the probe interval and count itself when it turns
 * keepalive on (1 s and 10 probes, seen with strace on Node 24), and gives
 * no way to change them; only the idle time before the first probe is
 * ours. So `interval` and `probes` are refused with that reason rather than
 * accepted and ignored.
 */
const NOT_SETTABLE = 'cannot be set from Node, which probes every 1 s, 10 times, once time has passed; set time alone';
export const tcpKeepaliveSchema = z
  .strictObject({
    // TCP_KEEPIDLE is in whole seconds.
    time: duration.refine((ms) => ms >= 1000, { error: (iss) => `must be at least 1s (the kernel counts whole seconds), got ${shown(iss.input)}ms` }).optional(),
    interval: z.unknown().optional(),
    probes: z.unknown().optional(),
  })
  .superRefine((k, ctx) => {
    for (const field of ['interval', 'probes'] as const) {
      if (k[field] !== undefined) ctx.addIssue({ code: 'custom', path: [field], message: NOT_SETTABLE });
    }
  })
  .transform((k): { time?: number } => (k.time === undefined ? {} : { time: Math.floor(k.time / 1000) * 1000 }));

export const connectionPoolSchema = z.strictObject({
  maxConnections: atLeastOne.optional(),
  maxPendingRequests: atLeastOne.optional(),
  maxRequests: atLeastOne.optional(),
  maxRetries: atLeastOne.optional(),
  connectTimeout: positiveDuration.optional(),
  /** Requests one connection carries before it is closed (Istio's http.maxRequestsPerConnection): spreads long-lived clients over new replicas. */
  maxRequestsPerConnection: atLeastOne.optional(),
  /** How long a connection may sit idle before it is closed (Istio's http.idleTimeout). */
  idleTimeout: positiveDuration.optional(),
  /** TCP keepalive probes on idle connections (Istio's tcp.tcpKeepalive); see tcpKeepaliveSchema. */
  tcpKeepalive: tcpKeepaliveSchema.optional(),
});

// ── circuit breaker ──────────────────────────────────────────────────────

const THRESHOLD_RULE = (iss: { input?: unknown }) =>
  `must be a percentage above 0 and at most 100, got ${shown(iss.input)}`;

export const circuitBreakerSchema = z.strictObject({
  errorThresholdPercentage: z
    .number({ error: THRESHOLD_RULE })
    .gt(0, { error: THRESHOLD_RULE })
    .max(100, { error: THRESHOLD_RULE })
    .optional(),
  minimumRequests: atLeastOne.optional(),
  window: positiveDuration.optional(),
  openFor: positiveDuration.optional(),
  halfOpenRequests: atLeastOne.optional(),
});

// ── rate limit ───────────────────────────────────────────────────────────

export const rateLimitSchema = z.strictObject({
  maxTokens: atLeastOne.optional(),
  tokensPerFill: atLeastOne.optional(),
  fillInterval: positiveDuration.optional(),
});

// ── request replay cap ───────────────────────────────────────────────────

export const MAX_RETRY_BUFFER_BYTES = 64 * 1024 * 1024;

/** Request bytes kept so a retry or hedge can resend the body; past this a request is not retried. */
export const retryBufferBytesSchema = wholeNumber(0, MAX_RETRY_BUFFER_BYTES, ' bytes (at most 64 MiB)');

// ── output types: durations in ms ────────────────────────────────────────

export type TimeoutSetting = z.output<typeof timeoutSchema>;
export type RetriesSettings = z.output<typeof retriesSchema>;
export type RetryBudgetSettings = z.output<typeof retryBudgetSchema>;
export type HedgingSettings = z.output<typeof hedgingSchema>;
export type ConnectionPoolSettings = z.output<typeof connectionPoolSchema>;
export type CircuitBreakerSettings = z.output<typeof circuitBreakerSchema>;
export type RateLimitSettings = z.output<typeof rateLimitSchema>;
export type RetryBufferBytesSetting = z.output<typeof retryBufferBytesSchema>;

