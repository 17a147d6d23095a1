/** What /dashboard/data computes from a real TelemetryMetrics, and its caps. */
import { expect, test } from 'vitest';
import { DASHBOARD_LIMITS, dashboardData } from '../../../src/admin/dashboard-data.js';
import { TelemetryMetrics } from '../../../src/telemetry/metrics/index.js';
import { adminFixture, endpoint, requestRecord } from '../../helpers/admin-fixture.js';

test('errors are no response, 5xx and non-OK gRPC; 4xx are not', async () => {
  const f = adminFixture();
  for (const code of [200, 404, 500, 503, 0]) f.record({ service: 'reviews', code });
  f.record({ service: 'reviews', grpcStatus: 0 });
  f.record({ service: 'reviews', grpcStatus: 14 });
  const data = await dashboardData(f.source, 42);
  expect(data.time).toBe(42);
  expect(data.services.find((s) => s.name === 'reviews')).toMatchObject({ direction: 'outbound', requests: 7, errors: 4 });
});

test('a registry without Istio metrics gives no services, and the rest still renders', async () => {
  const f = adminFixture();
  const data = await dashboardData({ ...f.source, registry: new TelemetryMetrics().mesh.registry });
  expect(data.services).toEqual([]);
  expect(data.le).toEqual([]);
  expect(data.clusters).toHaveLength(3);
});

test('every list is capped: the busiest services, the first clusters and endpoints, the newest changes', async () => {
  const f = adminFixture();
  const metrics = new TelemetryMetrics();
  for (let i = 0; i < DASHBOARD_LIMITS.services + 10; i++) {
    const r = requestRecord({ service: 'reviews' });
    const destination = { ...r.destination, serviceName: `svc-${String(i).padStart(3, '0')}` };
    for (let k = 0; k <= i; k++) metrics.record({ ...r, destination });
  }
  const many = Array.from({ length: DASHBOARD_LIMITS.endpointsPerCluster + 5 }, (_, i) => endpoint(`10.1.0.${i}:80`));
  const changes = Array.from({ length: 30 }, (_, i) => ({ time: i, source: 'xds', version: i, accepted: false, error: 'x'.repeat(1000) }));
  const data = await dashboardData({
    ...f.source,
    registry: metrics.registry,
    clusters: () => [{ ...f.source.clusterList[0]!, endpoints: many }],
    configChanges: () => changes,
  });
  expect(data.services).toHaveLength(DASHBOARD_LIMITS.services);
  expect(data.services[0]?.name).toBe('svc-010');
  expect(data.clusters[0]?.endpoints).toHaveLength(DASHBOARD_LIMITS.endpointsPerCluster);
  expect(data.clusters[0]?.endpointsOmitted).toBe(5);
  expect(data.configChanges.map((c) => c.version)).toEqual(Array.from({ length: 20 }, (_, i) => i + 10));
  expect(data.configChanges[0]?.error).toHaveLength(DASHBOARD_LIMITS.text);
});
