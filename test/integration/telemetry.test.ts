/**
 * Telemetry through real meshes: a client mesh calling a mesh server, with
 * metrics scraped from each side's registry, one trace spanning both, the
 * access log, and the caller's deadline reaching the handler's own calls.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import { afterEach, expect, test } from 'vitest';
import { createMesh, currentDeadline, isMeshError, type Mesh, type MeshServer } from '../../src/index.js';
import { parentOf, startTestSdk, type TestSdk } from '../unit/telemetry/tracing/sdk-setup.js';

const meshes: Mesh[] = [];
const servers: MeshServer[] = [];
const plain: Server[] = [];
let sdk: TestSdk | undefined;

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close(100)));
  for (const s of plain.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
  await Promise.all(meshes.splice(0).map((m) => m.destroy()));
  await sdk?.shutdown();
  sdk = undefined;
});

function mesh(options: Parameters<typeof createMesh>[0]): Mesh {
  const m = createMesh({ env: false, ...options });
  meshes.push(m);
  return m;
}

/** A backend mesh (service "backend", version v2) whose handler answers with `answer`. */
async function backend(answer: (path: string) => number | 'reset' = () => 200, extra: Parameters<typeof createMesh>[0] = {}) {
  const m = mesh({ config: { mesh: { serviceName: 'backend', labels: { app: 'backend', version: 'v2' } } }, ...extra });
  let calls = 0;
  const server = m.createServer((req, res) => {
    calls++;
    const status = answer(req.url ?? '/');
    if (status === 'reset') {
      req.socket.destroy();
      return;
    }
    res.statusCode = status;
    res.end('x'.repeat(100));
  });
  servers.push(server);
  const { port } = await server.listen(0, '127.0.0.1');
  return { mesh: m, port, calls: () => calls };
}

function client(port: number, extra: Parameters<typeof createMesh>[0] = {}): Mesh {
  return mesh({
    config: {
      mesh: { serviceName: 'frontend', labels: { app: 'frontend', version: 'v1' } },
      services: { backend: { endpoints: [{ address: '127.0.0.1', port, labels: { version: 'v2' } }] } },
    },
    ...extra,
  });
}

function series(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

test('Istio metrics on both sides: counts match the requests, labels name both workloads, buckets are milliseconds', async () => {
  const b = await backend((path) => (path === '/missing' ? 404 : 200));
  const c = client(b.port);
  for (let i = 0; i < 20; i++) await (await c.request('http://backend/ok')).body.dump();
  for (let i = 0; i < 3; i++) await (await c.request('http://backend/missing')).body.dump();

  const source = await c.metricsRegistry!.metrics();
  const base = { reporter: 'source', destination_service: 'backend.default.svc.cluster.local', destination_version: 'v2' };
  expect(series(source, 'istio_requests_total', { ...base, response_code: '200', source_app: 'frontend' })).toBe(20);
  expect(series(source, 'istio_requests_total', { ...base, response_code: '404' })).toBe(3);
  expect(series(source, 'istio_request_duration_milliseconds_count', { ...base, response_code: '200' })).toBe(20);
  // Loopback calls take well under 10 s: all 20 sit in the le="10000" (ms) bucket.
  expect(series(source, 'istio_request_duration_milliseconds_bucket', { ...base, response_code: '200', le: '10000' })).toBe(20);
  expect(series(source, 'istio_response_bytes_sum', { ...base, response_code: '200' })).toBe(2000);

  await expect.poll(async () => series(await b.mesh.metricsRegistry!.metrics(), 'istio_requests_total', { reporter: 'destination', response_code: '200' })).toBe(20);
  const dest = await b.mesh.metricsRegistry!.metrics();
  expect(series(dest, 'istio_requests_total', { reporter: 'destination', destination_app: 'backend', destination_version: 'v2', connection_security_policy: 'none' })).toBe(20);
  // No raw path anywhere in a label.
  expect(source).not.toContain('/missing');
  expect(dest).not.toContain('/missing');
});

// With an app's own SDK (the SDK's tracer records the mesh's spans) and with proxyless/otel's span recorder.
test.each(['sdk', 'lean'] as const)('one trace from the caller through the client span to the server span; a retried call shows its attempts (%s)', async (meshSpans) => {
  sdk = startTestSdk(null, meshSpans);
  let n = 0;
  // The first attempt's connection is reset before any response: retried by default.
  const b = await backend(() => (n++ === 0 ? 'reset' : 200));
  const c = client(b.port);
  const parent = trace.getTracer('test').startSpan('checkout');
  const before = Date.now();
  await trace.getTracer('test').startActiveSpan('checkout-active', async (active) => {
    const res = await c.request('http://backend/pay', { method: 'GET' });
    await res.body.dump();
    active.end();
  });
  parent.end();
  await expect.poll(() => sdk!.spans().filter((s) => s.name.startsWith('GET')).length).toBeGreaterThanOrEqual(3);
  const spans = sdk.spans();
  const app = sdk.span('checkout-active');
  const clientSpan = spans.find((s) => s.kind === 2 /* CLIENT */)!;
  const serverSpans = spans.filter((s) => s.kind === 1 /* SERVER */);
  expect(clientSpan.spanContext().traceId).toBe(app.spanContext().traceId);
  expect(parentOf(clientSpan)).toBe(app.spanContext().spanId);
  // Two attempts (reset, then 200): both server spans hang under the one client span.
  expect(serverSpans).toHaveLength(2);
  for (const s of serverSpans) {
    expect(s.spanContext().traceId).toBe(app.spanContext().traceId);
    expect(parentOf(s)).toBe(clientSpan.spanContext().spanId);
  }
  expect(clientSpan.events.map((e) => e.name)).toEqual([
    'proxyless.attempt.start',
    'proxyless.attempt.end',
    'proxyless.attempt.start',
    'proxyless.attempt.end',
  ]);
  // The times the call read itself hang together on the wall clock: the span holds its
  // attempts in order, and the servers' spans (the same process's clock) sit inside it.
  const ms = (t: [number, number]) => t[0] * 1e3 + t[1] / 1e6;
  const times = [ms(clientSpan.startTime), ...clientSpan.events.map((e) => ms(e.time)), ms(clientSpan.endTime)];
  expect([...times].sort((x, y) => x - y)).toEqual(times);
  expect(times[0]!).toBeGreaterThanOrEqual(before - 2);
  expect(times.at(-1)!).toBeLessThanOrEqual(Date.now() + 2);
  for (const s of serverSpans) {
    expect(ms(s.startTime)).toBeGreaterThanOrEqual(times[0]! - 2);
    expect(ms(s.endTime)).toBeLessThanOrEqual(times.at(-1)! + 2);
  }
});

// The classifier calls a 429 a success: the retry is retriableStatusCodes', and says so everywhere its reason goes.
test.each(['events', 'spans'] as const)('a retry of a status listed in retriableStatusCodes carries the reason retriable-status-codes (attempts as %s)', async (attempts) => {
  sdk = startTestSdk();
  const { subscribe, unsubscribe } = await import('node:diagnostics_channel');
  const { CHANNELS } = await import('../../src/index.js');
  const retries: unknown[] = [];
  const skipped: unknown[] = [];
  const onRetry = (m: unknown) => retries.push(m);
  const onSkipped = (m: unknown) => skipped.push(m);
  subscribe(CHANNELS.retry, onRetry);
  subscribe(CHANNELS.retrySkipped, onSkipped);
  try {
    let flaky = 0;
    // /flaky: 429 then 200; /busy: always 429.
    const b = await backend((path) => (path === '/busy' || flaky++ === 0 ? 429 : 200));
    const c = mesh({
      config: {
        services: {
          backend: { endpoints: [`127.0.0.1:${b.port}`], retries: { attempts: 1, retriableStatusCodes: [429], backoff: { baseInterval: 1 } } },
        },
      },
      telemetry: { tracing: { attempts } },
    });
    const res = await c.request('http://backend/flaky');
    await res.body.dump();
    expect(res.statusCode).toBe(200);
    const retry = { service: 'backend', route: 'default', attempt: 1, reason: 'retriable-status-codes' };
    expect(retries).toEqual([expect.objectContaining(retry)]);

    const text = await c.metricsRegistry!.metrics();
    expect(series(text, 'proxyless_retries_total', { destination_service_name: 'backend', reason: 'retriable-status-codes' })).toBe(1);
    expect(text).not.toContain('reason="unknown"');

    await expect.poll(() => sdk!.spans().filter((s) => s.kind === 2 /* CLIENT */ && s.name === 'GET backend').length).toBe(1);
    const call = sdk.span('GET backend');
    expect(call.attributes['proxyless.retry_reason']).toBe('retriable-status-codes');
    if (attempts === 'events') {
      const starts = call.events.filter((e) => e.name === 'proxyless.attempt.start');
      expect(starts.map((e) => e.attributes?.['proxyless.retry_reason'])).toEqual([undefined, 'retriable-status-codes']);
      // The retried attempt's 429 is an error of that attempt, as a span per attempt would say; the 200 is not.
      const ends = call.events.filter((e) => e.name === 'proxyless.attempt.end');
      expect(ends.map((e) => e.attributes?.['error.type'])).toEqual(['429', undefined]);
    } else {
      await expect.poll(() => sdk!.spans().filter((s) => s.name === 'GET backend (attempt 2)').length).toBe(1);
      expect(sdk.span('GET backend (attempt 2)').attributes['proxyless.retry_reason']).toBe('retriable-status-codes');
      expect(sdk.span('GET backend (attempt 1)').attributes['proxyless.retry_reason']).toBeUndefined();
      expect(sdk.span('GET backend (attempt 1)').attributes['error.type']).toBe('429');
      expect(sdk.span('GET backend (attempt 2)').attributes['error.type']).toBeUndefined();
    }

    // Out of attempts, the second 429 goes to the caller: the skipped retry names the same reason.
    const busy = await c.request('http://backend/busy');
    await busy.body.dump();
    expect(busy.statusCode).toBe(429);
    expect(retries).toHaveLength(2);
    expect(skipped).toEqual([{ service: 'backend', route: 'default', reason: 'retriable-status-codes', why: 'attempts-exhausted' }]);
  } finally {
    unsubscribe(CHANNELS.retry, onRetry);
    unsubscribe(CHANNELS.retrySkipped, onSkipped);
  }
});

test('the access log writes one JSON line per request with Envoy-like fields', async () => {
  const lines: string[] = [];
  const b = await backend();
  const c = client(b.port, { telemetry: { accessLog: { sink: (l) => lines.push(l) } } });
  await (await c.request('http://backend/orders?id=7')).body.dump();
  expect(lines).toHaveLength(1);
  const entry = JSON.parse(lines[0]!);
  expect(entry).toMatchObject({
    method: 'GET',
    path: '/orders?id=7',
    response_code: 200,
    response_flags: '-',
    upstream_host: `127.0.0.1:${b.port}`,
    reporter: 'source',
  });
  expect(typeof entry.duration).toBe('number');
});

test("the caller's budget becomes the handler's deadline, and its own outbound call fails within it", async () => {
  const slow = createServer(() => {});
  plain.push(slow);
  await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
  const slowPort = (slow.address() as AddressInfo).port;
  const middle = mesh({ config: { services: { slow: { endpoints: [`127.0.0.1:${slowPort}`], timeout: '30s' } } } });
  let seen: number | undefined;
  let code: string | undefined;
  const server = middle.createServer(async (_req, res) => {
    const d = currentDeadline();
    seen = d === undefined ? undefined : Math.round(d.at - performance.now());
    const err = await middle.request('http://slow/').catch((e: unknown) => e);
    code = isMeshError(err) ? err.code : String(err);
    res.end('done');
  });
  servers.push(server);
  const { port } = await server.listen(0, '127.0.0.1');
  const c = client(port);
  const started = performance.now();
  const res = await c.request('http://backend/', { headers: { 'x-mesh-timeout-ms': '200' } });
  await res.body.dump();
  expect(seen).toBeGreaterThan(100);
  expect(seen).toBeLessThanOrEqual(200);
  expect(code).toBe('MESH_DEADLINE_EXCEEDED');
  expect(performance.now() - started).toBeLessThan(5_000);
  // Recorded as a sidecar would have answered: 504 with UT, so 5xx dashboards count it.
  const metrics = await middle.metricsRegistry!.metrics();
  expect(series(metrics, 'istio_requests_total', { reporter: 'source', response_code: '504', response_flags: 'UT' })).toBe(1);
});

test('the admin endpoint of a running mesh serves its metrics, endpoints, config and readiness', async () => {
  const b = await backend();
  const c = client(b.port, { admin: { port: 0 } });
  await c.ready();
  for (let i = 0; i < 5; i++) await (await c.request('http://backend/')).body.dump();
  const admin = await c.adminAddress();
  const base = `http://127.0.0.1:${admin!.port}`;
  const { request } = await import('undici');
  const metrics = await (await request(`${base}/metrics`)).body.text();
  expect(series(metrics, 'istio_requests_total', { reporter: 'source', response_code: '200' })).toBe(5);
  const clusters = (await (await request(`${base}/clusters`)).body.json()) as { clusters: Array<{ service: string; endpoints: Array<{ address: string }> }> };
  expect(clusters.clusters.map((x) => x.service)).toEqual(['backend']);
  expect(clusters.clusters[0]!.endpoints[0]!.address).toBe(`127.0.0.1:${b.port}`);
  const dump = (await (await request(`${base}/config_dump`)).body.json()) as { version: number; config: { services: object } };
  expect(Object.keys(dump.config.services)).toEqual(['backend']);
  expect((await request(`${base}/readyz`)).statusCode).toBe(200);
  expect((await (await request(`${base}/`)).body.text())).toContain('proxyless admin');
});

test('inbound B3-only and W3C-only trace headers are both continued by the mesh server', async () => {
  sdk = startTestSdk();
  const b = await backend();
  const { request } = await import('undici');
  const w3cTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
  const b3Trace = '80f198ee56343ba864fe8b2a57d3eff7';
  await (await request(`http://127.0.0.1:${b.port}/`, { headers: { traceparent: `00-${w3cTrace}-00f067aa0ba902b7-01` } })).body.dump();
  await (await request(`http://127.0.0.1:${b.port}/`, { headers: { b3: `${b3Trace}-e457b5a2e4d86bd1-1` } })).body.dump();
  await (
    await request(`http://127.0.0.1:${b.port}/`, {
      headers: { 'x-b3-traceid': 'a3ce929d0e0e4736', 'x-b3-spanid': '00f067aa0ba902b7', 'x-b3-sampled': '1' },
    })
  ).body.dump();
  await expect.poll(() => sdk!.spans().filter((s) => s.kind === 1).length).toBe(3);
  const traces = sdk.spans().filter((s) => s.kind === 1).map((s) => s.spanContext().traceId);
  expect(traces).toEqual([w3cTrace, b3Trace, '0000000000000000a3ce929d0e0e4736']);
});

test('request start and end, and config updates, are published on diagnostics channels', async () => {
  const { subscribe, unsubscribe } = await import('node:diagnostics_channel');
  const { CHANNELS } = await import('../../src/index.js');
  const ends: Array<{ reporter: string; responseCode: number }> = [];
  const configs: Array<{ accepted: boolean }> = [];
  const onEnd = (m: unknown) => ends.push(m as { reporter: string; responseCode: number });
  const onConfig = (m: unknown) => configs.push(m as { accepted: boolean });
  subscribe(CHANNELS.requestEnd, onEnd);
  subscribe(CHANNELS.configUpdate, onConfig);
  try {
    const b = await backend();
    const c = client(b.port, { telemetry: { metrics: false, tracing: false } });
    await (await c.request('http://backend/')).body.dump();
    await expect.poll(() => ends.map((e) => e.reporter).sort()).toEqual(['destination', 'source']);
    expect(ends.every((e) => e.responseCode === 200)).toBe(true);
    expect(() => c.config.setLayer('options', { services: { backend: { endpoints: 'nope' } } }, 'options')).toThrow();
    expect(configs.some((x) => x.accepted)).toBe(true);
  } finally {
    unsubscribe(CHANNELS.requestEnd, onEnd);
    unsubscribe(CHANNELS.configUpdate, onConfig);
  }
});

test('a call no route matches is counted as a 404 with response flag NR', async () => {
  const b = await backend();
  const c = mesh({
    config: {
      services: { backend: { endpoints: [`127.0.0.1:${b.port}`], routes: [{ match: [{ uri: { prefix: '/api/' } }], route: [{ destination: {} }] }] } },
    },
  });
  const err = await c.request('http://backend/elsewhere').catch((e: unknown) => e);
  expect(isMeshError(err) && err.code).toBe('MESH_NO_ROUTE');
  const text = await c.metricsRegistry!.metrics();
  expect(series(text, 'istio_requests_total', { reporter: 'source', response_code: '404', response_flags: 'NR' })).toBe(1);
});

test('a config file reload is counted under the file, even when code options outrank it', async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'proxyless-cfg-'));
  const file = join(dir, 'mesh.yaml');
  writeFileSync(file, 'services:\n  a: { endpoints: ["127.0.0.1:1"] }\n');
  try {
    const m = mesh({ configFile: file, config: { mesh: { serviceName: 'x' } } });
    writeFileSync(file, 'services:\n  b: { endpoints: ["127.0.0.1:2"] }\n');
    await expect.poll(() => Object.keys(m.config.current.config.services), { timeout: 5_000 }).toEqual(['b']);
    const text = await m.metricsRegistry!.metrics();
    expect(series(text, 'proxyless_config_updates_total', { source: `file ${file}`, result: 'accepted' })).toBeGreaterThanOrEqual(1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
