/** Carriers for driving propagators by hand: a plain header record, written and read as the mesh does. */
import { ROOT_CONTEXT, type SpanContext, TraceFlags, trace } from '@opentelemetry/api';
import { type HeaderSource, headerSetterSetter, headerSourceGetter } from '../../../../src/telemetry/tracing/carrier.js';

export type Headers = Record<string, string | string[] | undefined>;

export const getter = headerSourceGetter;
export const setter = headerSetterSetter;

/** Runs `inject` into a fresh record and returns it. */
export function injected(inject: (set: (name: string, value: string) => void) => void): Record<string, string> {
  const out: Record<string, string> = {};
  inject((name, value) => {
    out[name] = value;
  });
  return out;
}

export function source(headers: Headers): HeaderSource {
  return headers;
}

export const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
export const SPAN_ID = '00f067aa0ba902b7';

export function contextWith(sc: Partial<SpanContext> = {}) {
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: TRACE_ID,
    spanId: SPAN_ID,
    traceFlags: TraceFlags.SAMPLED,
    isRemote: false,
    ...sc,
  });
}
