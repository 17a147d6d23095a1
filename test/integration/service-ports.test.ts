/**
 * One Kubernetes Service with two ports, as two mesh services on one host:
 * real requests reach the port they name, and Istio's metrics count both
 * under the one Service (`reportAs`), as a sidecar counts them.
 */
import { Registry } from 'prom-client';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createMesh, type Mesh } from '../../src/index.js';
import { answersSeen } from '../helpers/answers.js';
import { closeServers, startServer } from '../helpers/versioned-server.js';

const registry = new Registry();
let mesh: Mesh;

beforeAll(async () => {
  const web = await startServer('web');
  const admin = await startServer('admin');
  mesh = createMesh({
    env: false,
    config: {
      mesh: { namespace: 'shop' },
      services: {
        reviews: { port: 9080, endpoints: [{ address: '127.0.0.1', port: web.port }] },
        'reviews-admin': {
          port: 9090,
          reportAs: 'reviews',
          hosts: ['reviews', 'reviews.shop.svc.cluster.local'],
          endpoints: [{ address: '127.0.0.1', port: admin.port }],
        },
      },
    },
    telemetry: { metrics: { registry }, tracing: false },
  });
  await mesh.ready();
});

afterAll(async () => {
  await mesh?.destroy();
  await closeServers();
});

test('each port of the host reaches its own service', async () => {
  expect(await answersSeen(mesh, 'http://reviews:9080/x', 5)).toEqual(['200:web']);
  expect(await answersSeen(mesh, 'http://reviews:9090/x', 5)).toEqual(['200:admin']);
  expect(await answersSeen(mesh, 'http://reviews.shop.svc.cluster.local:9090/x', 5)).toEqual(['200:admin']);
  // A name only the first claims reaches it on any port.
  expect(await answersSeen(mesh, 'http://reviews.shop:9090/x', 5)).toEqual(['200:web']);
});

test("Istio's metrics count both ports under the one Service", async () => {
  const before = await registry.getSingleMetric('istio_requests_total')!.get();
  const counted = before.values.filter((v) => v.labels.destination_service_name === 'reviews' && v.labels.reporter === 'source');
  expect(counted).toHaveLength(1);
  expect(counted[0]!.labels.destination_service).toBe('reviews.shop.svc.cluster.local');
  expect(counted[0]!.value).toBe(20);
});
