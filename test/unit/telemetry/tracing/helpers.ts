/** Carriers for driving propagators by hand: a plain header record, written and read as the mesh does. */
import { ROOT_CONTEXT, type SpanContext, TraceFlags, trace } from '@opentelemetry/api';
import type { ClientInfo } from '../../../../src/telemetry/tracing/attributes.js';
import { type HeaderSource, headerSetterSetter, headerSourceGetter } from '../../../../src/telemetry/tracing/carrier.js';
import type { MeshTracer } from '../../../../src/telemetry/tracing/mesh-tracer.js';
import type { ServerTrace } from '../../../../src/telemetry/tracing/server-trace.js';

export type Headers = Record<string, string | string[] | undefined>;

export const getter = headerSourceGetter;
export const setter = headerSetterSetter;

const CALL: ClientInfo = { service: 'reviews', method: 'GET', scheme: 'http', authority: 'reviews:9080', path: '/r', protocol: 'http' };

/** The headers an outbound call (`GET reviews`) made by the handler of `st` sends. */
export function forwarded(mesh: MeshTracer, st: ServerTrace): Record<string, string> {
  return st.runInContext(() => {
    const ct = mesh.startClient(CALL);
    ct.attemptStart(0, '10.0.0.1:9080');
    const headers = injected((set) => ct.inject(set));
    ct.end({ status: 200 });
    return headers;
  });
}

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
