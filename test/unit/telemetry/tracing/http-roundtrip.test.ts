/**
 * Trace headers over a real HTTP hop: an app span, the mesh's client span,
 * a node:http server on port 0 whose handler runs in the mesh's server
 * span, and the handler's own span, all in one trace with the right parents.
 */
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MeshTracer } from '../../../../src/telemetry/tracing/mesh-tracer.js';
import { SPAN_ID, TRACE_ID } from './helpers.js';
import { parentOf, startTestSdk, type TestSdk } from './sdk-setup.js';

let sdk: TestSdk;
let server: Server;
let port = 0;
/** Status codes the server answers with, in turn (then 200). */
let script: number[] = [];
/** Server spans ended so far, and who waits for a count. */
let ended = 0;
let waiters: Array<() => void> = [];
const serverMesh = new MeshTracer();

beforeAll(async () => {
  sdk = startTestSdk();
  server = createServer((req, res) => {
    const st = serverMesh.startServer(req.headers, {
      method: req.method ?? 'GET',
      scheme: 'http',
      authority: req.headers.host,
      path: req.url ?? '/',
      protocol: 'http',
      service: 'reviews',
    });
    st.runInContext(async () => {
      const status = script.shift() ?? 200;
      // The handler's own work, after an await, is a child of the server span.
      await new Promise((r) => setImmediate(r));
      trace.getTracer('app').startSpan(`handler ${status}`).end();
      res.statusCode = status;
      res.end(() => {
        st.end({ status });
        ended++;
        for (const w of waiters) w();
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterEach(() => {
  sdk.exporter.reset();
  script = [];
  ended = 0;
  waiters = [];
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await sdk.shutdown();
});

function send(headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/reviews/1', headers }, (res: IncomingMessage) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A server span ends once its response is flushed, which may be after the client has read it. */
function settled(serverSpans: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (ended >= serverSpans) resolve();
    };
    waiters.push(check);
    check();
  });
}

/** The mesh's client side: one call, retried while the server answers 503. */
async function meshCall(mesh: MeshTracer): Promise<number> {
  const ct = mesh.startClient({
    service: 'reviews',
    method: 'GET',
    scheme: 'http',
    authority: `127.0.0.1:${port}`,
    path: '/reviews/1',
    protocol: 'http',
  });
  let status = 0;
  for (let n = 0; n < 3; n++) {
    ct.attemptStart(n, `127.0.0.1:${port}`, n > 0 ? 'retriable-status-codes' : undefined);
    const headers: Record<string, string> = {};
    ct.inject((name, value) => {
      headers[name] = value;
    });
    status = await send(headers);
    ct.attemptEnd(n, status);
    if (status !== 503) break;
  }
  ct.end({ status });
  return status;
}

describe('one trace across a real HTTP hop', () => {
  it('app span → client span → server span → handler span', async () => {
    const app = trace.getTracer('app').startSpan('checkout');
    const status = await context.with(trace.setSpan(context.active(), app), () => meshCall(new MeshTracer()));
    app.end();
    expect(status).toBe(200);
    await settled(1);

    const client = sdk.span('GET reviews');
    const srv = sdk.span('GET');
    const handler = sdk.span('handler 200');
    const traceId = app.spanContext().traceId;
    for (const s of [client, srv, handler]) expect(s.spanContext().traceId).toBe(traceId);
    expect(parentOf(client)).toBe(app.spanContext().spanId);
    expect(parentOf(srv)).toBe(client.spanContext().spanId);
    expect(srv.kind).toBe(SpanKind.SERVER);
    expect(srv.attributes['server.port']).toBe(port);
    expect(parentOf(handler)).toBe(srv.spanContext().spanId);
  });

  it('a retried request (events mode): both server spans are children of the one client span', async () => {
    script = [503];
    expect(await meshCall(new MeshTracer())).toBe(200);
    await settled(2);
    const client = sdk.span('GET reviews');
    const servers = sdk.spans().filter((s) => s.kind === SpanKind.SERVER);
    expect(servers.map((s) => s.attributes['http.response.status_code']).sort()).toEqual([200, 503]);
    for (const s of servers) expect(parentOf(s)).toBe(client.spanContext().spanId);
    expect(client.events.map((e) => e.name)).toEqual([
      'proxyless.attempt.start',
      'proxyless.attempt.end',
      'proxyless.attempt.start',
      'proxyless.attempt.end',
    ]);
    expect(client.attributes['proxyless.attempt']).toBe(2);
  });

  it('a retried request (spans mode): each server span under its own attempt span', async () => {
    script = [503];
    await meshCall(new MeshTracer({ attempts: 'spans' }));
    await settled(2);
    const a1 = sdk.span('GET reviews (attempt 1)');
    const a2 = sdk.span('GET reviews (attempt 2)');
    const byStatus = (code: number) => sdk.spans().find((s) => s.kind === SpanKind.SERVER && s.attributes['http.response.status_code'] === code)!;
    expect(parentOf(byStatus(503))).toBe(a1.spanContext().spanId);
    expect(parentOf(byStatus(200))).toBe(a2.spanContext().spanId);
  });
});

describe('inbound formats', () => {
  it.each([
    ['W3C only', { traceparent: `00-${TRACE_ID}-${SPAN_ID}-01` }],
    ['B3 single only', { b3: `${TRACE_ID}-${SPAN_ID}-1` }],
    ['B3 multi only', { 'X-B3-TraceId': TRACE_ID, 'X-B3-SpanId': SPAN_ID, 'X-B3-Sampled': '1' }],
    ['B3 with a 64-bit trace ID', { b3: `${TRACE_ID.slice(16)}-${SPAN_ID}-1` }],
  ])('%s: the server span continues the caller trace', async (what, headers) => {
    await send(headers);
    await settled(1);
    const srv = sdk.span('GET');
    const expected = what.includes('64-bit') ? `${'0'.repeat(16)}${TRACE_ID.slice(16)}` : TRACE_ID;
    expect(srv.spanContext().traceId).toBe(expected);
    expect(parentOf(srv)).toBe(SPAN_ID);
  });
});
