import { Registry } from 'prom-client';
import { expect, test } from 'vitest';
import { expressRoute } from '../../../src/server/adapters/express.js';
import { methodLabel, RouteMetrics, UNMATCHED_ROUTE } from '../../../src/server/route-metrics.js';

test('requests are counted by route template, method and code; durations by route and method', async () => {
  const registry = new Registry();
  let inFlight = 3;
  const m = new RouteMetrics(registry, () => inFlight);
  m.record('/users/:id', 'GET', 200, 12);
  m.record('/users/:id', 'GET', 200, 30);
  m.record('/users/:id', 'GET', 404, 1);
  m.record(UNMATCHED_ROUTE, 'BREW', 404, 1);
  m.shed('event-loop');
  const text = await registry.metrics();
  expect(text).toContain('proxyless_inbound_requests_total{route="/users/:id",method="GET",response_code="200"} 2');
  expect(text).toContain('proxyless_inbound_requests_total{route="/users/:id",method="GET",response_code="404"} 1');
  // An unknown method is not a new label value per client whim.
  expect(text).toContain('proxyless_inbound_requests_total{route="unmatched",method="other",response_code="404"} 1');
  expect(text).toContain('proxyless_inbound_request_duration_milliseconds_count{route="/users/:id",method="GET"} 3');
  expect(text).toContain('proxyless_inbound_request_duration_milliseconds_bucket{le="25",route="/users/:id",method="GET"} 2');
  expect(text).toContain('proxyless_inbound_shed_total{reason="event-loop"} 1');
  expect(text).toContain('proxyless_inbound_requests_in_flight 3');
  inFlight = 0;
  expect(await registry.metrics()).toContain('proxyless_inbound_requests_in_flight 0');
});

test('past the label-set cap, new label sets fold into overflow and are counted', async () => {
  const registry = new Registry();
  const m = new RouteMetrics(registry, () => 0);
  for (let i = 0; i < 1_005; i++) m.record(`/r${i}`, 'GET', 200, 1);
  const text = await registry.metrics();
  expect(text).toContain('proxyless_inbound_requests_total{route="overflow",method="overflow",response_code="overflow"} 5');
  expect(text).toContain('proxyless_metrics_label_overflow_total{metric="proxyless_inbound_requests_total"} 5');
});

test('method labels come from a fixed set', () => {
  expect(['GET', 'POST', 'DELETE', 'PATCH'].map(methodLabel)).toEqual(['GET', 'POST', 'DELETE', 'PATCH']);
  expect(methodLabel('PROPFIND')).toBe('other');
  expect(methodLabel('get')).toBe('other');
});

test("Express's route template is the mount path joined with the route path", () => {
  const req = (baseUrl: string, path: unknown) => ({ baseUrl, route: { path } }) as unknown as Parameters<typeof expressRoute>[0];
  expect(expressRoute(req('', '/users/:id'))).toBe('/users/:id');
  expect(expressRoute(req('/api', '/users/:id'))).toBe('/api/users/:id');
  expect(expressRoute(req('/api/users', '/'))).toBe('/api/users');
  expect(expressRoute({ baseUrl: '' } as unknown as Parameters<typeof expressRoute>[0])).toBeUndefined();
});

test('a repeat of the last route, method and code counts with it; alternating ones stay apart', async () => {
  const registry = new Registry();
  const m = new RouteMetrics(registry, () => 0);
  for (let i = 0; i < 3; i++) {
    m.record('/a', 'GET', 200, 1);
    m.record('/a', 'GET', 200, 1);
    m.record('/a', 'POST', 200, 1);
    m.record('/a', 'GET', 500, 1);
    m.record('/b', 'GET', 200, 1);
    m.record(`/${'a'}`, 'GET', 200, 1); // an equal string, not the same one
  }
  const text = await registry.metrics();
  expect(text).toContain('proxyless_inbound_requests_total{route="/a",method="GET",response_code="200"} 9');
  expect(text).toContain('proxyless_inbound_requests_total{route="/a",method="POST",response_code="200"} 3');
  expect(text).toContain('proxyless_inbound_requests_total{route="/a",method="GET",response_code="500"} 3');
  expect(text).toContain('proxyless_inbound_requests_total{route="/b",method="GET",response_code="200"} 3');
  expect(text).toContain('proxyless_inbound_request_duration_milliseconds_count{route="/a",method="GET"} 12');
});

test('series are scraped route by route, each route in the order its methods and codes were first seen', async () => {
  const registry = new Registry();
  const m = new RouteMetrics(registry, () => 0);
  m.record('/x', 'POST', 201, 1);
  m.record('/y', 'GET', 200, 1);
  m.record('/x', 'GET', 404, 1);
  m.record('/x', 'GET', 200, 1);
  const lines = (await registry.getSingleMetricAsString('proxyless_inbound_requests_total')).split('\n').filter((l) => !l.startsWith('#'));
  expect(lines).toEqual([
    'proxyless_inbound_requests_total{route="/x",method="POST",response_code="201"} 1',
    'proxyless_inbound_requests_total{route="/x",method="GET",response_code="404"} 1',
    'proxyless_inbound_requests_total{route="/x",method="GET",response_code="200"} 1',
    'proxyless_inbound_requests_total{route="/y",method="GET",response_code="200"} 1',
  ]);
});

test('reset forgets every series and the remembered one; folds are counted even back to back', async () => {
  const registry = new Registry();
  const m = new RouteMetrics(registry, () => 0);
  m.record('/a', 'GET', 200, 1);
  m.record('/a', 'GET', 200, 1);
  registry.resetMetrics();
  m.record('/a', 'GET', 200, 1);
  expect(await registry.metrics()).toContain('proxyless_inbound_requests_total{route="/a",method="GET",response_code="200"} 1');
  // The cap (1,000 label sets) counts /a, seen before the reset, too.
  for (let i = 0; i < 999; i++) m.record(`/r${i}`, 'GET', 200, 1);
  m.record('/late', 'GET', 200, 1);
  m.record('/late', 'GET', 200, 1);
  const text = await registry.metrics();
  expect(text).not.toContain('route="/late"');
  expect(text).toContain('proxyless_inbound_requests_total{route="overflow",method="overflow",response_code="overflow"} 2');
  expect(text).toContain('proxyless_metrics_label_overflow_total{metric="proxyless_inbound_requests_total"} 2');
});
