import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MeshError } from '../../../../src/errors.js';
import { RecordedSpan } from '../../../../src/otel/recorded-span.js';
import type { ClientInfo } from '../../../../src/telemetry/tracing/attributes.js';
import { MeshTracer } from '../../../../src/telemetry/tracing/mesh-tracer.js';
import { withoutTracing } from '../../../../src/telemetry/tracing/suppress.js';
import { injected } from './helpers.js';
import { parentOf, startTestSdk, type TestSdk } from './sdk-setup.js';

const REVIEWS: ClientInfo = {
  service: 'reviews',
  route: 'default',
  subset: 'v2',
  method: 'GET',
  scheme: 'http',
  authority: 'reviews:9080',
  path: '/reviews/1?sig=secret&x=1',
  protocol: 'http',
};

const appTracer = () => trace.getTracer('app');

// Every case twice: the mesh's spans recorded by the SDK's own tracer (an app's
// own SDK set-up) and by proxyless/otel's span recorder. Both must export the same.
describe.each(['sdk', 'lean'] as const)('mesh spans recorded by the %s tracer', (meshSpans) => {
  let sdk: TestSdk;
  beforeAll(() => {
    sdk = startTestSdk(null, meshSpans);
  });
  afterEach(() => sdk.exporter.reset());
  afterAll(() => sdk.shutdown());

  it('records with the tracer this run is about', () => {
    new MeshTracer().startClient(REVIEWS).end({ status: 200 });
    expect(sdk.span('GET reviews') instanceof RecordedSpan).toBe(meshSpans === 'lean');
  });

  describe('client spans', () => {
    it('makes a CLIENT span under the active span, with HTTP and mesh attributes', () => {
      const mesh = new MeshTracer({ version: '0.1.0' });
      const parent = appTracer().startSpan('handler');
      const ct = context.with(trace.setSpan(context.active(), parent), () => mesh.startClient(REVIEWS));
      ct.attemptStart(0, '10.0.0.7:9080');
      const headers = injected((set) => ct.inject(set));
      ct.attemptEnd(0, 200);
      ct.end({ status: 200, responseFlags: '-' });
      parent.end();

      const span = sdk.span('GET reviews');
      expect(span.kind).toBe(SpanKind.CLIENT);
      expect(span.instrumentationScope).toMatchObject({ name: 'proxyless', version: '0.1.0' });
      expect(parentOf(span)).toBe(parent.spanContext().spanId);
      expect(span.spanContext().traceId).toBe(parent.spanContext().traceId);
      expect(span.attributes).toEqual({
        'http.request.method': 'GET',
        'url.full': 'http://reviews:9080/reviews/1?sig=REDACTED&x=1',
        'server.address': 'reviews',
        'server.port': 9080,
        'proxyless.service': 'reviews',
        'proxyless.route': 'default',
        'proxyless.subset': 'v2',
        'proxyless.attempt': 1,
        'proxyless.endpoint': '10.0.0.7:9080',
        'http.response.status_code': 200,
      });
      expect(span.events).toEqual([]);
      expect(span.status.code).toBe(SpanStatusCode.UNSET);
      expect(headers).toEqual({ traceparent: `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01` });
      expect(ct.traceId).toBe(span.spanContext().traceId);
    });

    it('shows a retried call as one span with an event pair per attempt (events mode, the default)', () => {
      const mesh = new MeshTracer();
      const ct = mesh.startClient(REVIEWS);
      ct.attemptStart(0, '10.0.0.7:9080');
      const first = injected((set) => ct.inject(set));
      ct.attemptEnd(0, 503);
      ct.attemptStart(1, '10.0.0.8:9080', 'retriable-status-codes');
      const second = injected((set) => ct.inject(set));
      ct.attemptEnd(1, 200);
      ct.end({ status: 200, responseFlags: 'URX' });

      const span = sdk.span('GET reviews');
      expect(span.events.map((e) => [e.name, e.attributes])).toEqual([
        ['proxyless.attempt.start', { 'proxyless.attempt': 1, 'proxyless.endpoint': '10.0.0.7:9080' }],
        ['proxyless.attempt.end', { 'proxyless.attempt': 1, 'http.response.status_code': 503, 'error.type': '503' }],
        [
          'proxyless.attempt.start',
          { 'proxyless.attempt': 2, 'proxyless.endpoint': '10.0.0.8:9080', 'proxyless.retry_reason': 'retriable-status-codes' },
        ],
        ['proxyless.attempt.end', { 'proxyless.attempt': 2, 'http.response.status_code': 200 }],
      ]);
      // Held-back attempt-0 events keep their own times.
      const t = span.events.map((e) => e.time[0] * 1e9 + e.time[1]);
      expect([...t].sort((a, b) => a - b)).toEqual(t);
      expect(span.attributes).toMatchObject({
        'proxyless.attempt': 2,
        'http.request.resend_count': 1,
        'proxyless.retry_reason': 'retriable-status-codes',
        'proxyless.endpoint': '10.0.0.8:9080',
        'proxyless.response_flags': 'URX',
      });
      // Every attempt carries the call's own span: both server spans are its children.
      expect(first).toEqual(second);
      expect(first.traceparent).toContain(span.spanContext().spanId);
    });

    it('shows a retried call as a child span per attempt in spans mode', () => {
      const mesh = new MeshTracer({ attempts: 'spans' });
      const ct = mesh.startClient(REVIEWS);
      ct.attemptStart(0, '10.0.0.7:9080');
      const first = injected((set) => ct.inject(set));
      ct.attemptEnd(0, new MeshError('MESH_UPSTREAM_RESET', 'reset before responding'));
      ct.attemptStart(1, '10.0.0.8:9080', 'reset');
      const second = injected((set) => ct.inject(set));
      ct.attemptEnd(1, 200);
      ct.end({ status: 200 });

      const call = sdk.span('GET reviews');
      const a1 = sdk.span('GET reviews (attempt 1)');
      const a2 = sdk.span('GET reviews (attempt 2)');
      expect([parentOf(a1), parentOf(a2)]).toEqual([call.spanContext().spanId, call.spanContext().spanId]);
      expect(a1.kind).toBe(SpanKind.CLIENT);
      expect(a1.attributes).toMatchObject({ 'proxyless.attempt': 1, 'error.type': 'MESH_UPSTREAM_RESET' });
      expect(a1.status.code).toBe(SpanStatusCode.ERROR);
      expect(a2.attributes).toMatchObject({
        'proxyless.attempt': 2,
        'http.request.resend_count': 1,
        'proxyless.retry_reason': 'reset',
        'http.response.status_code': 200,
      });
      expect(first.traceparent).toContain(a1.spanContext().spanId);
      expect(second.traceparent).toContain(a2.spanContext().spanId);
    });

    it('ends a hedge that lost together with the call', () => {
      const mesh = new MeshTracer({ attempts: 'spans' });
      const ct = mesh.startClient(REVIEWS);
      ct.attemptStart(0, 'a:1');
      ct.attemptStart(1, 'b:1', 'hedge');
      ct.attemptEnd(1, 200);
      ct.end({ status: 200 });
      expect(sdk.spans()).toHaveLength(3);
    });

    it('marks a failed call: error.type from the error code, status ERROR', () => {
      const ct = new MeshTracer().startClient(REVIEWS);
      ct.attemptStart(0, '10.0.0.7:9080');
      const err = new MeshError('MESH_CONNECT_FAILURE', 'connecting to reviews failed (ECONNREFUSED)');
      ct.attemptEnd(0, err);
      ct.end({ error: err, responseFlags: 'UF' });
      ct.end({ status: 200 });
      const span = sdk.span('GET reviews');
      expect(span.attributes['error.type']).toBe('MESH_CONNECT_FAILURE');
      expect(span.attributes['proxyless.response_flags']).toBe('UF');
      expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: err.message });
      expect(sdk.spans()).toHaveLength(1);
    });

    it('treats 4xx as a client error', () => {
      const ct = new MeshTracer().startClient(REVIEWS);
      ct.end({ status: 404 });
      expect(sdk.span('GET reviews').attributes['error.type']).toBe('404');
    });

    it('names gRPC calls by method and sets rpc.* attributes', () => {
      const ct = new MeshTracer().startClient({
        service: 'ratings',
        method: 'POST',
        scheme: 'http',
        authority: 'ratings:50051',
        path: '/demo.Ratings/Get',
        protocol: 'grpc',
      });
      ct.end({ status: 200, grpcStatus: 14 });
      const span = sdk.span('demo.Ratings/Get');
      expect(span.attributes).toMatchObject({
        'rpc.system': 'grpc',
        'rpc.service': 'demo.Ratings',
        'rpc.method': 'Get',
        'server.address': 'ratings',
        'server.port': 50051,
        'rpc.grpc.status_code': 14,
        'error.type': 'UNAVAILABLE',
      });
    });
  });

  describe('server spans', () => {
    it('continues the caller trace and runs the handler in the SERVER span', async () => {
      const mesh = new MeshTracer();
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const st = mesh.startServer(
        { traceparent: `00-${traceId}-00f067aa0ba902b7-01`, host: 'reviews:9080', 'user-agent': 'curl' },
        { method: 'GET', scheme: 'http', authority: 'reviews:9080', path: '/reviews/1?x=1', protocol: 'http', service: 'reviews' },
      );
      await st.runInContext(async () => {
        await new Promise((r) => setImmediate(r));
        appTracer().startSpan('work').end();
      });
      st.setRoute('/reviews/:id');
      st.end({ status: 404 });
      const server = sdk.span('GET /reviews/:id');
      expect(server.kind).toBe(SpanKind.SERVER);
      expect(server.spanContext().traceId).toBe(traceId);
      expect(parentOf(server)).toBe('00f067aa0ba902b7');
      expect(server.parentSpanContext?.isRemote).toBe(true);
      expect(server.attributes).toMatchObject({
        'http.request.method': 'GET',
        'url.path': '/reviews/1',
        'url.query': 'x=1',
        'http.route': '/reviews/:id',
        'http.response.status_code': 404,
        'proxyless.service': 'reviews',
      });
      // A 404 is the caller's mistake, not the server's.
      expect(server.status.code).toBe(SpanStatusCode.UNSET);
      expect(parentOf(sdk.span('work'))).toBe(server.spanContext().spanId);
      expect(st.traceId).toBe(traceId);
    });

    it('marks 5xx as a server error and starts a root span without headers', () => {
      const st = new MeshTracer().startServer({}, { method: 'POST', scheme: 'http', path: '/x', protocol: 'http' });
      st.end({ status: 503 });
      const span = sdk.span('POST');
      expect(parentOf(span)).toBeUndefined();
      expect(span.attributes['error.type']).toBe('503');
      expect(span.status.code).toBe(SpanStatusCode.ERROR);
    });
  });

  describe('internal traffic', () => {
    it('withoutTracing: no mesh span, no SDK span, no headers', async () => {
      const mesh = new MeshTracer();
      const parent = appTracer().startSpan('handler');
      await context.with(trace.setSpan(ROOT_CONTEXT, parent), () =>
        withoutTracing(async () => {
          await new Promise((r) => setImmediate(r));
          const ct = mesh.startClient(REVIEWS);
          ct.attemptStart(0, 'a:1');
          expect(injected((set) => ct.inject(set))).toEqual({});
          ct.end({ status: 200 });
          // The SDK honours the same key (it is @opentelemetry/core's suppressTracing key).
          expect(appTracer().startSpan('sdk').isRecording()).toBe(false);
        }),
      );
      parent.end();
      expect(sdk.spans().map((s) => s.name)).toEqual(['handler']);
    });
  });
});
