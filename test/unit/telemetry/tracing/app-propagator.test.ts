/**
 * Which propagator the mesh uses: the application's global one whenever it
 * registered one, else its own formats; a propagator passed in code always.
 */
import { propagation, type TextMapPropagator, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ClientInfo } from '../../../../src/telemetry/tracing/attributes.js';
import { MeshTracer } from '../../../../src/telemetry/tracing/mesh-tracer.js';
import { injected } from './helpers.js';
import { parentOf, startTestSdk, type TestSdk } from './sdk-setup.js';

const REVIEWS: ClientInfo = {
  service: 'reviews',
  method: 'GET',
  scheme: 'http',
  authority: 'reviews:9080',
  path: '/reviews/1',
  protocol: 'http',
};

let sdk: TestSdk;
beforeAll(() => {
  sdk = startTestSdk();
});
afterEach(() => sdk.exporter.reset());
afterAll(() => sdk.shutdown());

describe("the app's own propagator wins", () => {
  const custom: TextMapPropagator = {
    inject(ctx, carrier, setter) {
      const sc = trace.getSpanContext(ctx);
      if (sc) setter.set(carrier, 'x-app-trace', `${sc.traceId}:${sc.spanId}`);
    },
    extract(ctx, carrier, getter) {
      const v = getter.get(carrier, 'x-app-trace');
      if (typeof v !== 'string') return ctx;
      const [traceId, spanId] = v.split(':');
      return trace.setSpanContext(ctx, { traceId: traceId!, spanId: spanId!, traceFlags: 1, isRemote: true });
    },
    fields: () => ['x-app-trace'],
  };

  afterEach(() => propagation.disable());

  it('injects and extracts with the global propagator when the app registered one', () => {
    propagation.setGlobalPropagator(custom);
    const mesh = new MeshTracer();
    const ct = mesh.startClient(REVIEWS);
    ct.attemptStart(0, 'a:1');
    const headers = injected((set) => ct.inject(set));
    ct.end({ status: 200 });
    const sc = sdk.span('GET reviews').spanContext();
    expect(headers).toEqual({ 'x-app-trace': `${sc.traceId}:${sc.spanId}` });

    // W3C from the caller is ignored now: the app chose its format.
    const st = mesh.startServer({ traceparent: `00-${sc.traceId}-${sc.spanId}-01` }, { method: 'GET', scheme: 'http', path: '/', protocol: 'http' });
    st.end({ status: 200 });
    expect(parentOf(sdk.span('GET'))).toBeUndefined();
  });

  it('goes back to its own formats once the global one is removed', () => {
    const ct = new MeshTracer({ propagation: ['b3'] }).startClient(REVIEWS);
    expect(Object.keys(injected((set) => ct.inject(set)))).toEqual(['b3']);
    ct.end({ status: 200 });
  });

  it('uses a propagator passed in code always', () => {
    const ct = new MeshTracer({ propagation: custom }).startClient(REVIEWS);
    expect(Object.keys(injected((set) => ct.inject(set)))).toEqual(['x-app-trace']);
    ct.end({ status: 200 });
  });
});

describe('the B3 debug flag', () => {
  const DEBUG_B3 = { b3: '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-d' };
  const INBOUND = { method: 'GET', scheme: 'http', path: '/', protocol: 'http' } as const;

  it("travels from an inbound request to the handler's calls when the mesh writes B3", () => {
    const mesh = new MeshTracer({ propagation: ['b3', 'b3multi'] });
    const st = mesh.startServer(DEBUG_B3, INBOUND);
    const headers = st.runInContext(() => {
      const ct = mesh.startClient(REVIEWS);
      ct.attemptStart(0, 'a:1');
      const h = injected((set) => ct.inject(set));
      ct.end({ status: 200 });
      return h;
    });
    st.end({ status: 200 });
    expect(headers.b3).toMatch(/^80f198ee56343ba864fe8b2a57d3eff7-[0-9a-f]{16}-d$/);
    expect(headers['x-b3-flags']).toBe('1');
  });

  it('leaves W3C headers as they are: the flag has no place in them', () => {
    const mesh = new MeshTracer({ propagation: ['tracecontext'] });
    const st = mesh.startServer(DEBUG_B3, INBOUND);
    const headers = st.runInContext(() => {
      const ct = mesh.startClient(REVIEWS);
      const h = injected((set) => ct.inject(set));
      ct.end({ status: 200 });
      return h;
    });
    st.end({ status: 200 });
    expect(Object.keys(headers)).toEqual(['traceparent']);
    expect(headers.traceparent).toMatch(/^00-80f198ee56343ba864fe8b2a57d3eff7-[0-9a-f]{16}-01$/);
  });
});

describe('a tracer provider passed in code', () => {
  it('is used instead of the global one', async () => {
    const own = new InMemorySpanExporter();
    const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(own)] });
    const ct = new MeshTracer({ tracerProvider: provider }).startClient(REVIEWS);
    ct.end({ status: 200 });
    expect(own.getFinishedSpans().map((s) => s.name)).toEqual(['GET reviews']);
    expect(sdk.spans()).toEqual([]);
    expect(trace.getTracerProvider()).not.toBe(provider);
    await provider.shutdown();
  });
});
