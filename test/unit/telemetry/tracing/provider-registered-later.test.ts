/**
 * A tracer provider that comes after the mesh: registered globally after
 * untraced requests (noticed on the very next one), passed in code, or
 * absent behind a context manager the app did register.
 */
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerInfo } from '../../../../src/telemetry/tracing/attributes.js';
import { MeshTracer } from '../../../../src/telemetry/tracing/mesh-tracer.js';
import { NOOP_SERVER_TRACE } from '../../../../src/telemetry/tracing/server-trace.js';
import { forwarded, SPAN_ID, TRACE_ID } from './helpers.js';
import { memoryProvider, parentOf, startTestSdk } from './sdk-setup.js';

const INBOUND: ServerInfo = { method: 'GET', scheme: 'http', path: '/users/42', protocol: 'http' };

afterEach(() => {
  trace.disable();
  context.disable();
});

describe('a provider registered after untraced requests', () => {
  it('gets a SERVER span, with its full name and attributes, on the very next request', async () => {
    const mesh = new MeshTracer();
    for (let i = 0; i < 5; i++) expect(mesh.startServer({ host: 'users' }, INBOUND)).toBe(NOOP_SERVER_TRACE);
    const sdk = startTestSdk();
    try {
      const st = mesh.startServer({ host: 'users' }, INBOUND);
      expect(st.recording).toBe(true);
      st.end({ status: 200 });
      const span = sdk.span('GET');
      expect(span.attributes['url.path']).toBe('/users/42');
      expect(parentOf(span)).toBeUndefined();
    } finally {
      await sdk.shutdown();
    }
  });

  it('continues the incoming trace on the next request, and the next outbound call is a CLIENT span under it', async () => {
    const mesh = new MeshTracer();
    for (let i = 0; i < 5; i++) mesh.startServer({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-01` }, INBOUND).end({ status: 200 });
    const sdk = startTestSdk();
    try {
      const st = mesh.startServer({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-01` }, INBOUND);
      const headers = forwarded(mesh, st);
      st.end({ status: 200 });
      const server = sdk.span('GET');
      const client = sdk.span('GET reviews');
      expect(server.spanContext().traceId).toBe(TRACE_ID);
      expect(parentOf(server)).toBe(SPAN_ID);
      expect(parentOf(client)).toBe(server.spanContext().spanId);
      expect(headers.traceparent).toBe(`00-${TRACE_ID}-${client.spanContext().spanId}-01`);
    } finally {
      await sdk.shutdown();
    }
  });
});

describe('the tracerProvider option', () => {
  it('records with a provider passed in code, none registered globally', () => {
    const { provider, exporter } = memoryProvider();
    const mesh = new MeshTracer({ tracerProvider: provider });
    mesh.startServer({}, INBOUND).end({ status: 200 });
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['GET']);
  });

  it("given the api's proxy itself, notices the provider registered behind it", () => {
    const mesh = new MeshTracer({ tracerProvider: trace.getTracerProvider() });
    expect(mesh.startServer({}, INBOUND)).toBe(NOOP_SERVER_TRACE);
    const { provider, exporter } = memoryProvider();
    trace.setGlobalTracerProvider(provider);
    mesh.startServer({}, INBOUND).end({ status: 200 });
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['GET']);
  });
});

describe('no provider, a context manager', () => {
  it('from a context already active (a context manager, no provider), as the no-op span passed it on', () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const mesh = new MeshTracer();
    const active = trace.setSpanContext(context.active(), { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1, isRemote: true });
    const st = context.with(active, () => mesh.startServer({}, INBOUND));
    expect(st.traceId).toBe(TRACE_ID);
    expect(forwarded(mesh, st)).toEqual({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-01` });
  });
});
