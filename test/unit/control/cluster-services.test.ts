import { expect, test } from 'vitest';
import { validateConfig } from '../../../src/config/validate.js';
import { type ClusterService, type ClusterSlice, clusterServices } from '../../../src/control/kubernetes/cluster-services.js';
import { endpointSlice, service } from '../../helpers/kube-apiserver/fixtures.js';

const withRef = (slice: ReturnType<typeof endpointSlice>, pods: string[]): ClusterSlice =>
  ({
    ...slice,
    endpoints: (slice.endpoints as Record<string, unknown>[]).map((ep, i) => ({ ...ep, targetRef: { kind: 'Pod', name: pods[i] } })),
  }) as ClusterSlice;

test('a Service and its slices become one service per port, with conditions honoured and pod labels attached', () => {
  const out = clusterServices({
    services: [service('reviews', [{ name: 'http', port: 9080, targetPort: 'web' }, { name: 'admin', port: 9901 }], 'shop')],
    slices: [
      withRef(endpointSlice('reviews-a', 'reviews', ['10.0.0.1', { ip: '10.0.0.2', zone: 'z1' }], [{ name: 'http', port: 8080 }, { name: 'admin', port: 9901 }], 'shop'), ['p1', 'p2']),
      endpointSlice('reviews-b', 'reviews', [{ ip: '10.0.0.3', ready: false, serving: false }], [{ name: 'http', port: 8081 }], 'shop') as ClusterSlice,
    ],
    podLabels: new Map([
      ['shop/p1', { version: 'v1' }],
      ['shop/p2', { version: 'v2' }],
    ]),
    meshNamespace: 'default',
  });
  expect(out.skipped).toEqual([]);
  expect(out.services).toEqual({
    reviews: {
      namespace: 'shop',
      port: 9080,
      endpoints: [
        { address: '10.0.0.1', port: 8080, labels: { version: 'v1' } },
        { address: '10.0.0.2', port: 8080, zone: 'z1', labels: { version: 'v2' } },
      ],
    },
    // The second port: the slice that carries it, reported as the Service.
    'reviews-admin': {
      namespace: 'shop',
      port: 9901,
      reportAs: 'reviews',
      endpoints: [
        { address: '10.0.0.1', port: 9901, labels: { version: 'v1' } },
        { address: '10.0.0.2', port: 9901, zone: 'z1', labels: { version: 'v2' } },
      ],
    },
  });
  // The result is valid config-model input.
  expect(() => validateConfig({ services: out.services }, 'test')).not.toThrow();
});

test("a name taken in the mesh namespace is keyed <name>-<namespace> elsewhere, reporting as the Service, ports and all; skipped only when that is taken too", () => {
  const out = clusterServices({
    services: [
      service('reviews', [{ port: 80 }, { name: 'admin', port: 9901 }], 'another'),
      service('reviews', [{ port: 80 }], 'default'),
      service('reviews', [{ port: 80 }], 'third'),
      service('reviews-third', [{ port: 80 }], 'default'),
    ],
    slices: [],
    podLabels: new Map(),
    meshNamespace: 'default',
  });
  expect((out.services.reviews as { namespace: string }).namespace).toBe('default');
  expect(out.services['reviews-another']).toMatchObject({ namespace: 'another', port: 80, reportAs: 'reviews' });
  expect(out.services['reviews-another-admin']).toMatchObject({ namespace: 'another', port: 9901, reportAs: 'reviews' });
  expect(out.skipped).toEqual(['third/reviews (the name is taken by the Service in namespace default, and reviews-third is taken too)']);
  expect(() => validateConfig({ services: out.services }, 'test')).not.toThrow();
});

test("a port's name never takes a Service's: a Service named so keeps it, and the port is skipped and reported", () => {
  const api = service('api', [{ name: 'http', port: 80 }, { name: 'grpc', port: 9090 }, { port: 9100 }, { name: 'dns', port: 53 }], 'default');
  // A UDP port is no HTTP or gRPC destination: not served.
  (api as unknown as { spec: { ports: { protocol: string }[] } }).spec.ports[3]!.protocol = 'UDP';
  const out = clusterServices({
    services: [api as ClusterService, service('api-grpc', [{ port: 80 }], 'default') as ClusterService],
    slices: [],
    podLabels: new Map(),
    meshNamespace: 'default',
  });
  expect(Object.keys(out.services).sort()).toEqual(['api', 'api-9100', 'api-grpc']);
  expect((out.services['api-grpc'] as { reportAs?: string }).reportAs).toBeUndefined();
  expect((out.services['api-9100'] as { reportAs?: string; port: number })).toMatchObject({ reportAs: 'api', port: 9100 });
  expect(out.skipped).toEqual(['default/api port grpc (its name api-grpc is taken)']);
  expect(() => validateConfig({ services: out.services }, 'test')).not.toThrow();
});

test('an ExternalName Service resolves its name by DNS on each of its ports; one without ports is skipped, saying why', () => {
  const alias = { ...service('payments', [{ name: 'https', port: 443 }, { name: 'http', port: 80 }], 'shop'), spec: { type: 'ExternalName', externalName: 'api.payments.example', ports: [{ name: 'https', port: 443 }, { name: 'http', port: 80 }] } };
  const bare = { ...service('legacy', [], 'shop'), spec: { type: 'ExternalName', externalName: 'legacy.example' } };
  const out = clusterServices({ services: [alias as ClusterService, bare as ClusterService], slices: [], podLabels: new Map(), meshNamespace: 'default' });
  expect(out.services).toEqual({
    payments: { namespace: 'shop', port: 443, discovery: 'dns:api.payments.example:443' },
    'payments-http': { namespace: 'shop', port: 80, discovery: 'dns:api.payments.example:80', reportAs: 'payments' },
  });
  expect(out.skipped).toEqual(['shop/legacy (no ports: an ExternalName or selector-less Service without ports; name the port callers use)']);
  expect(() => validateConfig({ services: out.services }, 'test')).not.toThrow();
});
