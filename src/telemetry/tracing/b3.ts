/**
 * Zipkin's B3 propagation, both encodings: the single `b3` header
 * (`traceid-spanid-sampled-parentspanid`, or a bare sampling decision) and
 * the older multi-header form (`X-B3-TraceId`, `X-B3-SpanId`,
 * `X-B3-Sampled`, `X-B3-Flags`). 64-bit trace IDs are widened to 128 bits
 * with leading zeros, as Zipkin does, and IDs are lowercase hex as the B3
 * spec says. Debug (`d`, `X-B3-Flags: 1`) means sampled and is kept in the
 * context under the same key as @opentelemetry/propagator-b3, so either
 * implementation passes it on.
 *
 * Hand-written because the core of this library depends on
 * @opentelemetry/api alone.
 */
import {
  type Context,
  createContextKey,
  isSpanContextValid,
  type SpanContext,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import { single } from './carrier.js';
import { CheckedSpanContext } from './checked-span-context.js';
import { isLowerHexId, padTraceId } from './hex.js';
import { LinkedContext } from './linked-context.js';
import { isTracingSuppressed } from './suppress.js';

export const B3 = 'b3';
export const X_B3_TRACE_ID = 'x-b3-traceid';
export const X_B3_SPAN_ID = 'x-b3-spanid';
export const X_B3_SAMPLED = 'x-b3-sampled';
export const X_B3_FLAGS = 'x-b3-flags';

/** Same description as @opentelemetry/propagator-b3, hence (Symbol.for) the same key. */
export const B3_DEBUG_FLAG_KEY = createContextKey('OpenTelemetry Context Key B3 Debug Flag');

export interface B3Context {
  readonly spanContext: SpanContext;
  readonly debug: boolean;
}

function isTraceId(s: string, from: number, length: number): boolean {
  return (length === 16 || length === 32) && isLowerHexId(s, from, length);
}

function isSpanId(s: string, from: number): boolean {
  return isLowerHexId(s, from, 16);
}

/** IDs the parsers checked: a context valid by construction. */
function spanContext(traceId: string, spanId: string, sampled: boolean): SpanContext {
  return new CheckedSpanContext(padTraceId(traceId), spanId, sampled ? TraceFlags.SAMPLED : TraceFlags.NONE, true, undefined);
}

/**
 * A `b3` header's context. A bare decision (`b3: 0`, `1` or `d`) carries no
 * IDs, and an OpenTelemetry context cannot hold a decision without them, so
 * it yields undefined: the next hop starts its own trace.
 */
export function parseB3Single(raw: string): B3Context | undefined {
  const s = raw.trim();
  const dash = s.indexOf('-');
  if (dash < 0 || !isTraceId(s, 0, dash)) return undefined;
  const spanFrom = dash + 1;
  if (!isSpanId(s, spanFrom)) return undefined;
  let i = spanFrom + 16;
  let sampling = '';
  if (i < s.length) {
    if (s.charCodeAt(i) !== 45) return undefined;
    i++;
    // The sampling field is one character; a 16-character field here is the parent span ID.
    if (i + 1 === s.length || s.charCodeAt(i + 1) === 45) {
      sampling = s[i]!;
      if (sampling !== '0' && sampling !== '1' && sampling !== 'd') return undefined;
      i += 2;
    }
    // The parent span ID is the caller's business: checked, then dropped (OpenTelemetry has no place for it).
    if (i <= s.length && (s.length - i !== 16 || !isSpanId(s, i))) return undefined;
  }
  const debug = sampling === 'd';
  return { spanContext: spanContext(s.slice(0, dash), s.slice(spanFrom, spanFrom + 16), debug || sampling === '1'), debug };
}

/** The context of the X-B3-* headers, or undefined. An absent X-B3-Sampled defers the decision: not sampled here. */
export function parseB3Multi(
  traceId: string | undefined,
  spanId: string | undefined,
  sampled: string | undefined,
  flags: string | undefined,
): B3Context | undefined {
  if (traceId === undefined || spanId === undefined) return undefined;
  const t = traceId.trim();
  const s = spanId.trim();
  if (!isTraceId(t, 0, t.length) || s.length !== 16 || !isSpanId(s, 0)) return undefined;
  const debug = flags?.trim() === '1';
  const decision = sampled?.trim();
  // "true"/"false" are what some early Zipkin clients sent.
  if (decision !== undefined && decision !== '1' && decision !== '0' && decision !== 'true' && decision !== 'false') {
    return undefined;
  }
  return { spanContext: spanContext(t, s, debug || decision === '1' || decision === 'true'), debug };
}

function isSampled(sc: SpanContext): boolean {
  return (sc.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;
}

/** The span context to send, or undefined when there is none (or tracing is suppressed). */
function outgoing(ctx: Context): SpanContext | undefined {
  const sc = trace.getSpanContext(ctx);
  return sc === undefined || isTracingSuppressed(ctx) || !isSpanContextValid(sc) ? undefined : sc;
}

/** `ctx` carrying a B3 context (and its debug flag), or `ctx` itself when there is none. */
export function contextWithB3(ctx: Context, b3: B3Context | undefined): Context {
  if (b3 === undefined) return ctx;
  const next = trace.setSpanContext(LinkedContext.from(ctx), b3.spanContext);
  return b3.debug ? next.setValue(B3_DEBUG_FLAG_KEY, 'd') : next;
}

/** Writes `b3: traceid-spanid-{1|0|d}`. */
export function injectB3Single<C>(sc: SpanContext, debug: boolean, carrier: C, setter: TextMapSetter<C>): void {
  setter.set(carrier, B3, `${sc.traceId}-${sc.spanId}-${debug ? 'd' : isSampled(sc) ? '1' : '0'}`);
}

/** Writes X-B3-TraceId, X-B3-SpanId and either X-B3-Flags: 1 (debug) or X-B3-Sampled. */
export function injectB3Multi<C>(sc: SpanContext, debug: boolean, carrier: C, setter: TextMapSetter<C>): void {
  setter.set(carrier, X_B3_TRACE_ID, sc.traceId);
  setter.set(carrier, X_B3_SPAN_ID, sc.spanId);
  if (debug) setter.set(carrier, X_B3_FLAGS, '1');
  else setter.set(carrier, X_B3_SAMPLED, isSampled(sc) ? '1' : '0');
}

export function extractB3Single(carrier: unknown, getter: TextMapGetter): B3Context | undefined {
  const raw = single(getter.get(carrier, B3));
  return raw === undefined ? undefined : parseB3Single(raw);
}

export function extractB3Multi(carrier: unknown, getter: TextMapGetter): B3Context | undefined {
  const traceId = single(getter.get(carrier, X_B3_TRACE_ID));
  if (traceId === undefined) return undefined;
  return parseB3Multi(
    traceId,
    single(getter.get(carrier, X_B3_SPAN_ID)),
    single(getter.get(carrier, X_B3_SAMPLED)),
    single(getter.get(carrier, X_B3_FLAGS)),
  );
}

export class B3SinglePropagator implements TextMapPropagator {
  inject(ctx: Context, carrier: unknown, setter: TextMapSetter): void {
    const sc = outgoing(ctx);
    if (sc !== undefined) injectB3Single(sc, ctx.getValue(B3_DEBUG_FLAG_KEY) === 'd', carrier, setter);
  }

  extract(ctx: Context, carrier: unknown, getter: TextMapGetter): Context {
    return contextWithB3(ctx, extractB3Single(carrier, getter));
  }

  fields(): string[] {
    return [B3];
  }
}

export class B3MultiPropagator implements TextMapPropagator {
  inject(ctx: Context, carrier: unknown, setter: TextMapSetter): void {
    const sc = outgoing(ctx);
    if (sc !== undefined) injectB3Multi(sc, ctx.getValue(B3_DEBUG_FLAG_KEY) === 'd', carrier, setter);
  }

  extract(ctx: Context, carrier: unknown, getter: TextMapGetter): Context {
    return contextWithB3(ctx, extractB3Multi(carrier, getter));
  }

  fields(): string[] {
    return [X_B3_TRACE_ID, X_B3_SPAN_ID, X_B3_SAMPLED, X_B3_FLAGS];
  }
}
