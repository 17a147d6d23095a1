/**
 * The mesh with no OpenTelemetry SDK at all, as most services run it: no
 * tracer provider, no context manager, no propagator. It must cost almost
 * nothing, originate nothing, and still pass an incoming trace on.
 */
import { ProxyTracerProvider } from '@opentelemetry/api';
import { describe, expect, it, vi } from 'vitest';
import type { ClientInfo, ServerInfo } from '../../../../src/telemetry/tracing/attributes.js';
import { NOOP_CLIENT_TRACE } from '../../../../src/telemetry/tracing/client-trace.js';
import { MeshTracer } from '../../../../src/telemetry/tracing/mesh-tracer.js';
import { NOOP_SERVER_TRACE } from '../../../../src/telemetry/tracing/server-trace.js';
import { withoutTracing } from '../../../../src/telemetry/tracing/suppress.js';
import { injected, SPAN_ID, TRACE_ID } from './helpers.js';
import { startTestSdk } from './sdk-setup.js';

const CALL: ClientInfo = {
  service: 'reviews',
  method: 'GET',
  scheme: 'http',
  authority: 'reviews:9080',
  path: '/r',
  protocol: 'http',
};
const INBOUND: ServerInfo = { method: 'GET', scheme: 'http', path: '/p', protocol: 'http' };

/** One outbound call as the pipeline makes it, returning the headers it sent. */
function call(mesh: MeshTracer): Record<string, string> {
  const ct = mesh.startClient(CALL);
  ct.attemptStart(0, '10.0.0.1:9080');
  const headers = injected((set) => ct.inject(set));
  ct.attemptEnd(0, 200);
  ct.end({ status: 200 });
  return headers;
}

describe('no provider, no incoming context', () => {
  it('hands back the shared no-op trace and writes no header', () => {
    const mesh = new MeshTracer();
    const ct = mesh.startClient(CALL);
    expect(ct).toBe(NOOP_CLIENT_TRACE);
    expect(ct.traceId).toBeUndefined();
    expect(call(mesh)).toEqual({});
  });

  it('starts no span at all, so builds no span name or attributes', () => {
    const mesh = new MeshTracer();
    const start = vi.spyOn(mesh.tracer, 'startSpan');
    call(mesh);
    mesh.startServer({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-01` }, INBOUND).end({ status: 200 });
    expect(start).not.toHaveBeenCalled();
  });

  it('given a no-op provider of its own, builds span names and attributes only until it has seen that nothing records', () => {
    // Not the api's global proxy, so the mesh cannot ask it; it learns from the spans instead.
    const noopProvider = new ProxyTracerProvider().getDelegate();
    const mesh = new MeshTracer({ tracerProvider: noopProvider });
    const start = vi.spyOn(mesh.tracer, 'startSpan');
    call(mesh);
    call(mesh);
    call(mesh);
    expect(start.mock.calls.map((c) => [c[0], c[1]?.attributes === undefined])).toEqual([
      ['GET reviews', false],
      ['proxyless', true],
      ['proxyless', true],
    ]);
    expect(mesh.startServer({}, INBOUND)).toBe(NOOP_SERVER_TRACE);
  });

  it('serves a request without headers with the shared no-op trace', () => {
    const st = new MeshTracer().startServer({}, INBOUND);
    expect(st).toBe(NOOP_SERVER_TRACE);
    expect(st.runInContext(() => 42)).toBe(42);
  });
});

describe('no provider, incoming context: passed on', () => {
  it('carries a W3C trace from the inbound request to the outbound call, across awaits', async () => {
    const mesh = new MeshTracer();
    const st = mesh.startServer({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-01`, tracestate: 'rojo=1' }, INBOUND);
    expect(st.recording).toBe(false);
    expect(st.traceId).toBe(TRACE_ID);
    const headers = await st.runInContext(async () => {
      await new Promise((r) => setTimeout(r, 1));
      return call(mesh);
    });
    // No span of our own: the next hop sees the same parent, as if the mesh were not there.
    expect(headers).toEqual({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-01`, tracestate: 'rojo=1' });
  });

  it('turns an inbound B3 context into outbound W3C (the default injection)', () => {
    const mesh = new MeshTracer();
    const st = mesh.startServer({ 'x-b3-traceid': TRACE_ID, 'x-b3-spanid': SPAN_ID, 'x-b3-sampled': '0' }, INBOUND);
    expect(st.runInContext(() => call(mesh))).toEqual({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-00` });
  });

  it('passes baggage on when there is no trace', () => {
    const mesh = new MeshTracer();
    const st = mesh.startServer({ baggage: 'tenant=acme' }, INBOUND);
    expect(st.traceId).toBeUndefined();
    expect(st.runInContext(() => call(mesh))).toEqual({ baggage: 'tenant=acme' });
  });

  it('passes nothing on from inside withoutTracing', () => {
    const mesh = new MeshTracer();
    const st = mesh.startServer({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-01` }, INBOUND);
    expect(st.runInContext(() => withoutTracing(() => call(mesh)))).toEqual({});
  });
});

describe('a provider registered later', () => {
  it('is noticed on the next call, which gets its full name and attributes', async () => {
    const mesh = new MeshTracer();
    call(mesh);
    const sdk = startTestSdk();
    try {
      const headers = call(mesh);
      const span = sdk.span('GET reviews');
      expect(span.attributes['server.address']).toBe('reviews');
      expect(headers.traceparent).toBe(`00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`);
    } finally {
      await sdk.shutdown();
    }
  });
});
