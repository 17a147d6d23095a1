import { expect, test } from 'vitest';
import { keeper } from '../../../src/control/kubernetes/cluster-watch.js';
import { WATCHED_KINDS } from '../../../src/control/kubernetes/watched-kinds.js';

const kind = (name: string) => WATCHED_KINDS.find((k) => k.kind === name)!;

test("keeps what translation reads: an ExternalName Service's alias, a route's creation time (its rank among equals), and a route's status with what it is written against", () => {
  const service = keeper(kind('Service'))({
    metadata: { name: 'payments', namespace: 'shop', uid: 'u1', resourceVersion: '7', creationTimestamp: '2026-12-01T00:00:00Z' },
    spec: { type: 'ExternalName', externalName: 'api.payments.example', ports: [{ port: 443 }], sessionAffinity: 'None' },
  });
  expect(service).toEqual({ metadata: { name: 'payments', namespace: 'shop' }, spec: { ports: [{ port: 443 }], type: 'ExternalName', externalName: 'api.payments.example' } });
  expect(keeper(kind('Service'))({ metadata: { name: 'web' }, spec: { type: 'ClusterIP', clusterIP: '10.0.0.1', ports: [] } })).toEqual({
    metadata: { name: 'web', namespace: undefined },
    spec: { ports: [] },
  });
  const route = keeper(kind('HTTPRoute'))({
    apiVersion: 'gateway.networking.k8s.io/v1',
    metadata: { name: 'r', namespace: 'shop', creationTimestamp: '2026-12-02T10:00:00Z', managedFields: [{}], resourceVersion: '9', generation: 2, uid: 'u2' },
    spec: { rules: [] },
    status: { parents: [] },
  });
  expect(route).toEqual({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'r', namespace: 'shop', creationTimestamp: '2026-12-02T10:00:00Z', generation: 2, resourceVersion: '9' },
    spec: { rules: [] },
    status: { parents: [] },
  });
  // Kinds whose status is not written keep no bookkeeping.
  const vs = keeper(kind('VirtualService'))({
    apiVersion: 'networking.istio.io/v1',
    metadata: { name: 'v', namespace: 'shop', resourceVersion: '3', generation: 1 },
    spec: { hosts: ['v'] },
    status: { observedGeneration: 1 },
  });
  expect(vs).toEqual({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'v', namespace: 'shop' }, spec: { hosts: ['v'] } });
});
