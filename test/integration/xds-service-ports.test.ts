/**
 * Two ports of one Service through our own control plane: the config's
 * second port (`reportAs`) is served under the Service's names on that port
 * (`reviews.shop.svc.cluster.local:9901`, cluster
 * `outbound|9901||reviews.shop.svc.cluster.local`), and a mesh that
 * subscribes to both listeners reaches each port's endpoints by the port
 * it calls, by the bare name too, and counts both under `reviews`.
 */
import { Registry } from 'prom-client';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { ControlPlane } from '../../src/control/control-plane.js';
import { TYPE_URL } from '../../src/discovery/xds/envoy-protos.js';
import type { Mesh } from '../../src/index.js';
import { answersSeen } from '../helpers/answers.js';
import { type FileControlPlane, fileControlPlane } from '../helpers/file-control-plane.js';
import { startServer } from '../helpers/versioned-server.js';

const HTTP = 'reviews.shop.svc.cluster.local:9080';
const ADMIN = 'reviews.shop.svc.cluster.local:9901';
const registry = new Registry();
let plane: FileControlPlane;
let cp: ControlPlane;
let mesh: Mesh;

beforeAll(async () => {
  const web = await startServer('web');
  const admin = await startServer('admin');
  plane = await fileControlPlane(`mesh: { namespace: shop }
services:
  reviews:
    port: 9080
    endpoints: [{ address: 127.0.0.1, port: ${web.port} }]
  reviews-admin:
    port: 9901
    reportAs: reviews
    endpoints: [{ address: 127.0.0.1, port: ${admin.port} }]
`);
  cp = plane.cp;
  mesh = await plane.meshOver(`${HTTP},${ADMIN}`, { MESH_NAMESPACE: 'shop' }, { telemetry: { metrics: { registry }, tracing: false } });
});

afterAll(() => plane?.close());

test("the control plane serves the second port under the Service's names on that port", () => {
  const listeners = [...(cp.snapshot.resources.get(TYPE_URL.listener)?.keys() ?? [])];
  expect(listeners).toEqual(expect.arrayContaining([HTTP, ADMIN, 'reviews:9901', 'reviews.shop:9901', 'reviews', 'reviews:9080']));
  // The port-less names are the first port's alone.
  expect(listeners.filter((l) => l === 'reviews').length).toBe(1);
  const clusters = [...(cp.snapshot.resources.get(TYPE_URL.cluster)?.keys() ?? [])].sort();
  expect(clusters).toEqual(['outbound|9080||reviews.shop.svc.cluster.local', 'outbound|9901||reviews.shop.svc.cluster.local']);
});

test('one mesh, both listeners: each call reaches the port it names', async () => {
  expect(await answersSeen(mesh, `http://${HTTP}/x`, 5)).toEqual(['200:web']);
  expect(await answersSeen(mesh, `http://${ADMIN}/x`, 5)).toEqual(['200:admin']);
  // The bare name in the mesh's own namespace, on each port.
  expect(await answersSeen(mesh, 'http://reviews:9080/x', 5)).toEqual(['200:web']);
  expect(await answersSeen(mesh, 'http://reviews:9901/x', 5)).toEqual(['200:admin']);
  const counted = (await registry.getSingleMetric('istio_requests_total')!.get()).values.filter((v) => v.labels.reporter === 'source');
  expect(counted.map((v) => [v.labels.destination_service_name, v.labels.destination_service, v.value])).toEqual([
    ['reviews', 'reviews.shop.svc.cluster.local', 20],
  ]);
});
