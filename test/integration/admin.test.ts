/**
 * The admin endpoint over real sockets: every route's status, content type
 * and body, rendered from a real TelemetryMetrics fed real RequestRecords.
 * Failures, the host guard and lifecycle are in test/unit/admin/admin-server.test.ts.
 */
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { Registry } from 'prom-client';
import { afterEach, expect, test } from 'vitest';
import type { AdminSource } from '../../src/admin/admin-source.js';
import { type AdminServer, startAdminServer } from '../../src/admin/index.js';
import { ISTIO_DURATION_BUCKETS_MS } from '../../src/telemetry/metrics/index.js';
import { type AdminFixture, adminFixture, adminGet as get, quietLogger } from '../helpers/admin-fixture.js';
import { samples, value } from '../unit/telemetry/metrics/support.js';

const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

const servers: AdminServer[] = [];
const fixtures: AdminFixture[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  for (const f of fixtures.splice(0)) f.close();
});

async function start(source?: AdminSource): Promise<{ server: AdminServer; f: AdminFixture }> {
  const f = adminFixture();
  fixtures.push(f);
  const server = await startAdminServer({ port: 0, source: source ?? f.source, logger: quietLogger() });
  servers.push(server);
  return { server, f };
}

test('binds to 127.0.0.1 by default and serves /healthz', async () => {
  const { server } = await start();
  expect(server.host).toBe('127.0.0.1');
  const r = await get(server, '/healthz');
  expect(r.status).toBe(200);
  expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
  expect(r.headers['cache-control']).toBe('no-store');
  expect(r.body).toBe('ok\n');
});

test('/metrics serves the registry text with the counts recorded', async () => {
  const { server, f } = await start();
  f.traffic(8);
  const r = await get(server, '/metrics');
  expect(r.status).toBe(200);
  expect(r.headers['content-type']).toBe(Registry.PROMETHEUS_CONTENT_TYPE);
  const all = samples(r.body);
  expect(value(all, 'istio_requests_total', { destination_service_name: 'reviews', reporter: 'source' })).toBe(16);
  expect(value(all, 'istio_requests_total', { destination_service_name: 'ratings', response_code: '503' })).toBe(1);
  expect(value(all, 'istio_requests_total', { destination_service_name: 'ratings', response_code: '200' })).toBe(3);
  expect(value(all, 'istio_requests_total', { destination_service_name: 'productpage', reporter: 'destination' })).toBe(8);
  expect(value(all, 'istio_request_duration_milliseconds_count', { destination_service_name: 'details' })).toBe(8);
});

test('/metrics answers OpenMetrics when the Accept header prefers it, as Prometheus sends it', async () => {
  const { server, f } = await start();
  f.traffic(2);
  const r = await get(server, '/metrics', { headers: { accept: PROMETHEUS_ACCEPT } });
  expect(r.headers['content-type']).toBe(Registry.OPENMETRICS_CONTENT_TYPE);
  expect(r.headers.vary).toContain('Accept');
  expect(r.body.endsWith('\n# EOF\n')).toBe(true);
  expect(r.body).not.toContain('\n\n');
  expect(r.body).toContain('# TYPE istio_requests counter\n');
  expect(r.body).toMatch(/^istio_requests_total\{reporter="source",.*destination_service_name="reviews".*\} 4$/m);

  // The text format is unchanged afterwards: the shared registry was never switched.
  const text = await get(server, '/metrics', { headers: { accept: 'text/plain' } });
  expect(text.headers['content-type']).toBe(Registry.PROMETHEUS_CONTENT_TYPE);
  expect(text.body).toContain('# TYPE istio_requests_total counter\n');
});

test('/metrics is gzipped for a client that accepts gzip', async () => {
  const { server, f } = await start();
  f.traffic(3);
  const plain = await get(server, '/metrics');
  const zipped = await get(server, '/metrics', { headers: { 'accept-encoding': 'gzip' } });
  expect(zipped.headers['content-encoding']).toBe('gzip');
  expect(zipped.raw.length).toBeLessThan(plain.raw.length / 4);
  expect(gunzipSync(zipped.raw).toString('utf8')).toBe(plain.body);
});

test('/readyz follows the source', async () => {
  const { server, f } = await start();
  expect(await get(server, '/readyz')).toMatchObject({ status: 200, body: 'ready\n' });
  f.source.isReady = false;
  expect(await get(server, '/readyz')).toMatchObject({ status: 503, body: 'not ready\n' });
  f.source.isReady = true;
  expect((await get(server, '/readyz')).status).toBe(200);
});

test('/config_dump is the source dump as pretty JSON', async () => {
  const { server, f } = await start();
  const r = await get(server, '/config_dump');
  expect(r.status).toBe(200);
  expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
  expect(r.body).toContain('\n  "layers": [');
  expect(JSON.parse(r.body)).toEqual(f.source.configDump());
});

test('/clusters is JSON with every field, and a text table with ?format=text', async () => {
  const { server } = await start();
  const r = await get(server, '/clusters');
  expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
  const { clusters } = JSON.parse(r.body);
  expect(clusters.map((c: { service: string }) => c.service)).toEqual(['details', 'ratings', 'reviews']);
  expect(clusters[0]).toEqual({
    service: 'details',
    namespace: 'bookinfo',
    circuit: 'closed',
    loadBalancer: 'round-robin',
    discoveryError: null,
    endpoints: [
      {
        address: '10.0.1.4:9080',
        weight: 1,
        warmth: 1,
        region: 'eu-west-1',
        zone: 'eu-west-1a',
        priority: 0,
        health: 'healthy',
        ejected: false,
        ejectedUntil: null,
        inFlight: 1,
        ewmaMs: 3.2,
        labels: { version: 'v1' },
      },
    ],
  });
  expect(clusters[2].endpoints[2]).toMatchObject({ ejected: true, ejectedUntil: expect.any(Number) });

  const text = await get(server, '/clusters?format=text');
  expect(text.headers['content-type']).toBe('text/plain; charset=utf-8');
  const lines = text.body.trimEnd().split('\n');
  expect(lines).toContain('reviews::circuit::closed');
  expect(lines).toContain('ratings::circuit::open');
  expect(lines).toContain('ratings::discovery_error::dns: ratings.bookinfo: ETIMEOUT (serving the last good answer)');
  expect(lines).toContain('reviews::10.0.0.7:9080::weight::3');
  expect(lines).toContain('reviews::10.0.0.7:9080::rq_active::4');
  expect(lines).toContain('reviews::10.0.0.7:9080::warmup_percent::35');
  expect(lines).toContain('reviews::10.0.0.11:9080::health_flags::/failed_outlier_check');
  expect(lines).toContain('ratings::10.0.2.8:9080::health_flags::/failed_eds_health');
  const left = lines.find((l) => l.startsWith('reviews::10.0.0.11:9080::ejected_ms_left::'));
  expect(Number(left?.split('::')[3])).toBeGreaterThan(20_000);
});

test('/dashboard/data has per-service cumulative counts, clusters and config changes', async () => {
  const { server, f } = await start();
  f.traffic(8);
  const r = await get(server, '/dashboard/data');
  expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
  const data = JSON.parse(r.body);
  expect(data.le).toEqual(ISTIO_DURATION_BUCKETS_MS);
  expect(data.ready).toBe(true);
  expect(Math.abs(data.time - Date.now())).toBeLessThan(60_000);
  const by = (direction: string, name: string) =>
    data.services.find((s: { direction: string; name: string }) => s.direction === direction && s.name === name);
  expect(by('outbound', 'reviews')).toMatchObject({ requests: 16, errors: 0 });
  expect(by('outbound', 'ratings')).toMatchObject({ requests: 4, errors: 1 });
  expect(by('inbound', 'productpage')).toMatchObject({ requests: 8, errors: 0 });
  const details = by('outbound', 'details');
  expect(details.buckets).toHaveLength(ISTIO_DURATION_BUCKETS_MS.length + 1);
  expect(details.buckets.at(-1)).toBe(8);
  // details took 1–4 ms: two in le=1 … all eight by le=5 (cumulative, as Prometheus reads it).
  expect(details.buckets.slice(0, 3)).toEqual([0, 2, 8]);
  expect(data.clusters.map((c: { service: string }) => c.service)).toEqual(['details', 'ratings', 'reviews']);
  expect(data.clusters[2].endpointsOmitted).toBe(0);
  expect(data.configChanges.at(-1)).toMatchObject({ source: 'xds', accepted: false, error: expect.stringContaining('perTryTimeout') });
});

test('/ is the self-contained dashboard, under a CSP that allows exactly its script', async () => {
  const { server } = await start();
  const r = await get(server, '/');
  expect(r.status).toBe(200);
  expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(r.raw.length).toBeLessThan(25_000);
  const script = /<script>([\s\S]*)<\/script>/.exec(r.body)?.[1] ?? '';
  const hash = createHash('sha256').update(script).digest('base64');
  const csp = String(r.headers['content-security-policy']);
  expect(csp).toContain(`script-src 'sha256-${hash}'`);
  expect(csp).toContain("default-src 'none'");
  expect(csp).toContain("connect-src 'self'");
  // Nothing from elsewhere: no CDN, no fonts, no absolute URLs but the SVG namespace.
  expect(r.body.replaceAll('http://www.w3.org/2000/svg', '')).not.toMatch(/https?:\/\//);
  expect(r.body).not.toContain('innerHTML');
});

test('unknown paths are 404 and methods other than GET and HEAD are 405', async () => {
  const { server } = await start();
  expect(await get(server, '/nope')).toMatchObject({ status: 404, body: 'not found: /nope\n' });
  expect((await get(server, '/metrics/')).status).toBe(404);
  const post = await get(server, '/metrics', { method: 'POST' });
  expect(post.status).toBe(405);
  expect(post.headers.allow).toBe('GET, HEAD');
  expect((await get(server, '/readyz', { method: 'DELETE' })).status).toBe(405);
  const head = await get(server, '/healthz', { method: 'HEAD' });
  expect(head).toMatchObject({ status: 200, body: '' });
  expect(head.headers['content-length']).toBe('3');
});
