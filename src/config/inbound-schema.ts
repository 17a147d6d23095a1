/**
 * `mesh.inbound`: how this workload's servers admit and drain requests.
 * Load shedding (a concurrency limit and an event-loop delay limit, both
 * off unless set), a local rate limit shaped like Envoy's local_ratelimit,
 * and the graceful drain on SIGTERM or `mesh.close()`. Durations in ms.
 */
import { z } from 'zod';
import { duration, shown } from './fields.js';
import { rateLimitSchema } from './resilience-schema.js';

const rule = (what: string) => (iss: { input?: unknown }) => `must be ${what}, got ${shown(iss.input)}`;

const positiveWhole = z
  .number()
  .int({ error: rule('a whole number, 1 or more') })
  .min(1, { error: rule('a whole number, 1 or more') });

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

export const inboundSchema = z.strictObject({
  /** Requests handled at once across the mesh's servers; past it new ones get 503 at once. */
  maxConcurrentRequests: positiveWhole.optional(),
  /** Event-loop delay above which new requests get 503 (a blocked loop would only queue them). */
  maxEventLoopDelay: duration.refine((ms) => ms > 0, { error: 'must be longer than 0' }).optional(),
  /** The `Retry-After` a shed request is told (whole seconds on the wire, at least 1). */
  retryAfter: duration.default(1000),
  /** A token bucket for all inbound requests; past it, 429 MESH_RATE_LIMITED. */
  rateLimit: rateLimitSchema
    // Envoy's local_ratelimit defaults, as the outbound rate limit fills them in.
    .transform((r) => {
      const max = r.maxTokens ?? r.tokensPerFill ?? 100;
      return { maxTokens: max, tokensPerFill: r.tokensPerFill ?? max, fillIntervalMs: r.fillInterval ?? 1000 };
    })
    .optional(),
  drain: z
    .strictObject({
      /** How long requests in flight may take to finish before their connections are closed. */
      timeout: duration.default(10_000),
      /** Keep serving (not ready) this long before the listener closes, while load balancers notice. */
      delay: duration.default(0),
      /** Signals that start the drain; `[]` leaves signals to the application. */
      signals: z.array(z.enum(SIGNALS)).default(['SIGTERM']),
    })
    .default({ timeout: 10_000, delay: 0, signals: ['SIGTERM'] }),
});

export type InboundSettings = z.output<typeof inboundSchema>;
export type InboundSettingsInput = z.input<typeof inboundSchema>;
