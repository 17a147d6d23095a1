/**
 * Keeping the mesh's own traffic (xDS, Kubernetes watches, JWKS fetches)
 * out of traces. OpenTelemetry's SDK and instrumentations (undici, http)
 * skip work when the context holds their SUPPRESS_TRACING key. That key is
 * made in @opentelemetry/core, which the core of this library may not
 * depend on; but the api's `createContextKey(d)` is `Symbol.for(d)`, so the
 * same description yields the very same key here, and both sides honour it.
 */
import { type Context, createContextKey } from '@opentelemetry/api';
import { activeContext, runInContext } from './active-context.js';

/** Identical (by `Symbol.for`) to @opentelemetry/core's suppressTracing key. */
export const SUPPRESS_TRACING_KEY = createContextKey('OpenTelemetry SDK Context Key SUPPRESS_TRACING');

/** True when tracing is suppressed in `ctx` (by withoutTracing or core's suppressTracing). */
export function isTracingSuppressed(ctx: Context): boolean {
  return ctx.getValue(SUPPRESS_TRACING_KEY) === true;
}

/** `ctx` with tracing suppressed. */
export function suppressTracing(ctx: Context): Context {
  return ctx.setValue(SUPPRESS_TRACING_KEY, true);
}

/**
 * Runs `fn` (and everything it starts, sync or async) with tracing
 * suppressed: no spans from the mesh, the SDK or its instrumentations, and
 * no trace headers on the requests it makes. For internal traffic only.
 */
export function withoutTracing<T>(fn: () => T): T {
  return runInContext(suppressTracing(activeContext()), fn);
}
