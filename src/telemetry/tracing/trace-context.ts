/**
 * W3C Trace Context: `traceparent` and `tracestate`, parsed strictly by the
 * spec (version 00 exactly 55 characters of lowercase hex; all-zero IDs and
 * version ff invalid; a higher version parsed by its version-00 prefix).
 *
 * Hand-written instead of @opentelemetry/core's W3CTraceContextPropagator
 * because the core of this library may depend on @opentelemetry/api alone
 * (DESIGN.md, principle 8); the SDK packages are optional.
 */
import {
  type Context,
  isSpanContextValid,
  type SpanContext,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
  trace,
} from '@opentelemetry/api';
import { joined, single } from './carrier.js';
import { CheckedSpanContext, TRACEPARENT_OF } from './checked-span-context.js';
import { isLowerHex, isLowerHexId } from './hex.js';
import { isTracingSuppressed } from './suppress.js';
import { parseTracestate } from './tracestate.js';

export const TRACEPARENT = 'traceparent';
export const TRACESTATE = 'tracestate';

/** `00-` + 32 + `-` + 16 + `-` + 2. */
const V00_LENGTH = 55;

/** The remote span context of a valid `traceparent`, or undefined (the caller then starts a new trace). */
export function parseTraceparent(raw: string): SpanContext | undefined {
  const s = trimOws(raw);
  if (s.length < V00_LENGTH) return undefined;
  if (!isLowerHex(s, 0, 2) || s.charCodeAt(2) !== 45) return undefined;
  // The version by its character codes: comparing a two-character slice with a constant takes a runtime call.
  const v0 = s.charCodeAt(0);
  const v1 = s.charCodeAt(1);
  if (v0 === 102 && v1 === 102) return undefined; // ff
  const v00 = v0 === 48 && v1 === 48;
  if (v00) {
    if (s.length !== V00_LENGTH) return undefined;
    // A future version may append fields, but only after another dash.
  } else if (s.length > V00_LENGTH && s.charCodeAt(V00_LENGTH) !== 45) {
    return undefined;
  }
  if (s.charCodeAt(35) !== 45 || s.charCodeAt(52) !== 45) return undefined;
  if (!isLowerHexId(s, 3, 32) || !isLowerHexId(s, 36, 16)) return undefined;
  if (!isLowerHex(s, 53, 2)) return undefined;
  const flags = hexValue(s.charCodeAt(53)) * 16 + hexValue(s.charCodeAt(54));
  // Of a version we do not know, only the sampled bit has a meaning we can rely on.
  const sc = new CheckedSpanContext(s.slice(3, 35), s.slice(36, 52), v00 ? flags : flags & 1, true, undefined);
  // Version 00, checked whole: the header is this context's own, written as formatTraceparent would.
  if (v00) sc[TRACEPARENT_OF] = s;
  return sc;
}

/** A lowercase hex digit's value (the caller checked it is one). */
function hexValue(c: number): number {
  return c <= 57 ? c - 48 : c - 87;
}

/** `00-<trace-id>-<parent-id>-<flags>` for a span context (kept on the mesh's own contexts, see CheckedSpanContext). */
export function formatTraceparent(sc: SpanContext): string {
  if (!(sc instanceof CheckedSpanContext)) return format(sc);
  sc[TRACEPARENT_OF] ??= format(sc);
  return sc[TRACEPARENT_OF];
}

function format(sc: SpanContext): string {
  const f = sc.traceFlags & 0xff;
  return `00-${sc.traceId}-${sc.spanId}-${f === 1 ? '01' : f === 0 ? '00' : f.toString(16).padStart(2, '0')}`;
}

/** The span context a `traceparent` (and `tracestate`) describe, marked remote; undefined if invalid. */
export function extractTraceContext(traceparent: string | undefined, tracestate: string | undefined): SpanContext | undefined {
  if (traceparent === undefined) return undefined;
  const sc = parseTraceparent(traceparent);
  if (sc === undefined || tracestate === undefined) return sc;
  const traceState = parseTracestate(tracestate);
  if (traceState !== undefined) sc.traceState = traceState;
  return sc;
}

/** Writes `traceparent` (and `tracestate` when there is one) for a valid span context. */
export function injectTraceContext<C>(sc: SpanContext, carrier: C, setter: TextMapSetter<C>): void {
  setter.set(carrier, TRACEPARENT, formatTraceparent(sc));
  const ts = sc.traceState?.serialize();
  if (ts) setter.set(carrier, TRACESTATE, ts);
}

export class TraceContextPropagator implements TextMapPropagator {
  inject(ctx: Context, carrier: unknown, setter: TextMapSetter): void {
    const sc = trace.getSpanContext(ctx);
    if (sc === undefined || isTracingSuppressed(ctx) || !isSpanContextValid(sc)) return;
    injectTraceContext(sc, carrier, setter);
  }

  extract(ctx: Context, carrier: unknown, getter: TextMapGetter): Context {
    // A repeated traceparent is ambiguous: the spec's test suite expects a new trace.
    const sc = extractTraceContext(single(getter.get(carrier, TRACEPARENT)), joined(getter.get(carrier, TRACESTATE)));
    return sc === undefined ? ctx : trace.setSpanContext(ctx, sc);
  }

  fields(): string[] {
    return [TRACEPARENT, TRACESTATE];
  }
}

function isOws(c: number): boolean {
  return c === 32 || c === 9;
}

/** Trims spaces and tabs around a header value (the spec's test suite sends them), copying only if there are any. */
function trimOws(s: string): string {
  if (s.length === 0 || (!isOws(s.charCodeAt(0)) && !isOws(s.charCodeAt(s.length - 1)))) return s;
  let a = 0;
  let b = s.length;
  while (a < b && isOws(s.charCodeAt(a))) a++;
  while (b > a && isOws(s.charCodeAt(b - 1))) b--;
  return s.slice(a, b);
}
