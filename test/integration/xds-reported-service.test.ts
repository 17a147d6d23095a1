/**
 * A mesh configured over xDS reports its calls under the Kubernetes Service
 * an Istio-named cluster stands for, as a sidecar does: Istio's metrics say
 * `destination_service_name="reviews"` and the span is `GET reviews`, not
 * the generated name of the cluster service the route sends to, and the
 * version is the endpoint's, from the labels EDS carries. The mesh's own
 * metrics keep the cluster service's name, as Envoy's cluster stats do.
 */
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Mesh } from '../../src/index.js';
import { type FileControlPlane, fileControlPlane } from '../helpers/file-control-plane.js';
import { startServer } from '../helpers/versioned-server.js';

const LISTENER = 'reviews.shop.svc.cluster.local:9080';
const registry = new Registry();
const exporter = new InMemorySpanExporter();
let plane: FileControlPlane;
let mesh: Mesh;

beforeAll(async () => {
  const v1 = await startServer('v1');
  plane = await fileControlPlane(`mesh: { namespace: shop }
services:
  reviews:
    port: 9080
    endpoints: [{ address: 127.0.0.1, port: ${v1.port}, labels: { version: v1 } }]
    subsets: { v1: { labels: { version: v1 } } }
    routes: [{ name: to-v1, route: [{ destination: { subset: v1 } }] }]
`);
  mesh = await plane.meshOver(LISTENER, {}, {
    telemetry: {
      metrics: { registry },
      tracing: { tracerProvider: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }) },
    },
  });
});

afterAll(() => plane?.close());

test("Istio's metrics and the span name the Service the cluster stands for; the mesh's own metrics, the cluster service", async () => {
  for (let i = 0; i < 3; i++) {
    const res = await mesh.request(`http://${LISTENER}/reviews/1`);
    expect(`${res.statusCode}:${await res.body.text()}`).toBe('200:v1');
  }
  const requests = await registry.getSingleMetric('istio_requests_total')!.get();
  expect(requests.values).toHaveLength(1);
  expect(requests.values[0]!.value).toBe(3);
  expect(requests.values[0]!.labels).toMatchObject({
    reporter: 'source',
    destination_service_name: 'reviews',
    destination_service_namespace: 'shop',
    destination_service: 'reviews.shop.svc.cluster.local',
    destination_canonical_service: 'reviews',
    // From the endpoint's labels, which the control plane sends in the endpoint's metadata.
    destination_version: 'v1',
    destination_canonical_revision: 'v1',
    response_code: '200',
  });
  const spans = exporter.getFinishedSpans();
  expect(spans.map((s) => s.name)).toEqual(['GET reviews', 'GET reviews', 'GET reviews']);
  expect(spans[0]!.attributes).toMatchObject({ 'proxyless.service': 'reviews', 'proxyless.route': 'to-v1' });
  // The cluster service itself: the name the config and the mesh's own metrics know it by.
  const endpoints = await registry.getSingleMetric('proxyless_endpoints')!.get();
  const healthy = endpoints.values.filter((v) => v.labels.health === 'healthy' && v.value > 0).map((v) => v.labels.destination_service_name);
  expect(healthy).toEqual([expect.stringMatching(/^xds-outbound-9080-v1-reviews-shop-svc-cluster-[a-z-]*[0-9a-f]{8}$/)]);
});
