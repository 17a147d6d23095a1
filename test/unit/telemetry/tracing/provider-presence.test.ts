/**
 * How the mesh learns that no tracer provider is registered without
 * starting a span, and what it must still do then: pass on an incoming
 * trace in every format, defer to the app's propagator, and honour
 * suppression. (A provider registered later: provider-registered-later.test.ts.)
 */
import { type Context, ProxyTracerProvider, propagation, type TextMapPropagator, trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerInfo } from '../../../../src/telemetry/tracing/attributes.js';
import { headerSourceGetter } from '../../../../src/telemetry/tracing/carrier.js';
import { MeshTracer } from '../../../../src/telemetry/tracing/mesh-tracer.js';
import { ProviderPresence } from '../../../../src/telemetry/tracing/provider-presence.js';
import { NOOP_SERVER_TRACE, } from '../../../../src/telemetry/tracing/server-trace.js';
import { withoutTracing } from '../../../../src/telemetry/tracing/suppress.js';
import { forwarded, SPAN_ID, TRACE_ID } from './helpers.js';
import { memoryProvider } from './sdk-setup.js';

const INBOUND: ServerInfo = { method: 'GET', scheme: 'http', path: '/users/42', protocol: 'http' };

afterEach(() => {
  trace.disable();
  propagation.disable();
});

describe('ProviderPresence', () => {
  it("reads the api's global proxy: absent until a provider is registered, present from then on", () => {
    const global = trace.getTracerProvider();
    const presence = new ProviderPresence(global, global.getTracer('t'));
    expect(presence.absent).toBe(true);
    expect(trace.setGlobalTracerProvider(memoryProvider().provider)).toBe(true);
    expect(presence.absent).toBe(false);
  });

  it('never declares a provider absent that it cannot read: a real one, or a no-op one that is not the proxy', () => {
    const real = memoryProvider().provider;
    expect(new ProviderPresence(real, real.getTracer('t')).absent).toBe(false);
    const noop = new ProxyTracerProvider().getDelegate();
    expect(new ProviderPresence(noop, noop.getTracer('t')).absent).toBe(false);
  });

  it('is present for a proxy that already had its provider when the tracer was taken', () => {
    const proxy = new ProxyTracerProvider();
    proxy.setDelegate(memoryProvider().provider);
    expect(new ProviderPresence(proxy, proxy.getTracer('t')).absent).toBe(false);
  });
});

describe('no provider: each incoming format is still passed on', () => {
  const TRACEPARENT_00 = `00-${TRACE_ID}-${SPAN_ID}-00`;

  it('W3C alone', () => {
    const mesh = new MeshTracer();
    const st = mesh.startServer({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-01`, tracestate: 'rojo=1' }, INBOUND);
    expect(st.traceId).toBe(TRACE_ID);
    expect(forwarded(mesh, st)).toEqual({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-01`, tracestate: 'rojo=1' });
  });

  it('B3 single alone', () => {
    const mesh = new MeshTracer();
    const st = mesh.startServer({ b3: `${TRACE_ID}-${SPAN_ID}-0` }, INBOUND);
    expect(st.traceId).toBe(TRACE_ID);
    expect(forwarded(mesh, st)).toEqual({ traceparent: TRACEPARENT_00 });
  });

  it('B3 multi alone, in a B3-speaking mesh', () => {
    const mesh = new MeshTracer({ propagation: ['b3multi'] });
    const st = mesh.startServer({ 'x-b3-traceid': TRACE_ID, 'x-b3-spanid': SPAN_ID, 'x-b3-flags': '1' }, INBOUND);
    expect(st.traceId).toBe(TRACE_ID);
    expect(forwarded(mesh, st)).toEqual({ 'x-b3-traceid': TRACE_ID, 'x-b3-spanid': SPAN_ID, 'x-b3-flags': '1' });
  });

  it('baggage alone, with no trace ID', () => {
    const mesh = new MeshTracer();
    const st = mesh.startServer({ baggage: 'tenant=acme' }, INBOUND);
    expect(st).not.toBe(NOOP_SERVER_TRACE);
    expect(st.traceId).toBeUndefined();
    expect(forwarded(mesh, st)).toEqual({ baggage: 'tenant=acme' });
  });

  it('from a header getter (HTTP/2, gRPC) as from a record', () => {
    const mesh = new MeshTracer();
    const headers: Record<string, string> = { traceparent: `00-${TRACE_ID}-${SPAN_ID}-01` };
    const st = mesh.startServer((name) => headers[name], INBOUND);
    expect(st.traceId).toBe(TRACE_ID);
    expect(mesh.startServer(() => undefined, INBOUND)).toBe(NOOP_SERVER_TRACE);
  });

  it('not at all from inside withoutTracing', () => {
    const mesh = new MeshTracer();
    const st = withoutTracing(() => mesh.startServer({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-01`, baggage: 'a=1' }, INBOUND));
    expect(st).toBe(NOOP_SERVER_TRACE);
  });

});

describe('no provider: a propagator other than the mesh’s own is still used', () => {
  const appPropagator: TextMapPropagator = {
    inject(ctx, carrier, setter) {
      const sc = trace.getSpanContext(ctx);
      if (sc) setter.set(carrier, 'x-app-trace', `${sc.traceId}:${sc.spanId}`);
    },
    extract(ctx: Context, carrier, getter) {
      const v = getter.get(carrier, 'x-app-trace');
      if (typeof v !== 'string') return ctx;
      const [traceId, spanId] = v.split(':');
      return trace.setSpanContext(ctx, { traceId: traceId!, spanId: spanId!, traceFlags: 1, isRemote: true });
    },
    fields: () => ['x-app-trace'],
  };

  it('the global one the app registered, for a request with none of the W3C or B3 headers', () => {
    const mesh = new MeshTracer();
    propagation.setGlobalPropagator(appPropagator);
    const st = mesh.startServer({ 'x-app-trace': `${TRACE_ID}:${SPAN_ID}` }, INBOUND);
    expect(st.traceId).toBe(TRACE_ID);
    expect(forwarded(mesh, st)).toEqual({ 'x-app-trace': `${TRACE_ID}:${SPAN_ID}` });
    // And W3C alone is not the app's format.
    expect(mesh.startServer({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-01` }, INBOUND)).toBe(NOOP_SERVER_TRACE);
  });

  it('the one passed as `propagation`', () => {
    const mesh = new MeshTracer({ propagation: appPropagator });
    const st = mesh.startServer({ 'x-app-trace': `${TRACE_ID}:${SPAN_ID}` }, INBOUND);
    expect(st.traceId).toBe(TRACE_ID);
    expect(forwarded(mesh, st)).toEqual({ 'x-app-trace': `${TRACE_ID}:${SPAN_ID}` });
  });
});

describe('headerSourceGetter on a header record', () => {
  it('reads every name, trace header or not, as a plain lookup would', () => {
    const names = ['traceparent', 'tracestate', 'baggage', 'b3', 'x-b3-traceid', 'x-b3-spanid', 'x-b3-sampled', 'x-b3-flags', 'x-app-trace', 'host'];
    const headers: Record<string, string | string[]> = {};
    names.forEach((n, i) => {
      headers[n] = i % 2 === 0 ? `v${i}` : [`v${i}`, `w${i}`];
    });
    for (const n of names) expect(headerSourceGetter.get(headers, n)).toEqual(headers[n]);
    for (const n of names) expect(headerSourceGetter.get({}, n)).toBeUndefined();
  });
});
