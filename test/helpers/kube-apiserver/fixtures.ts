/** EndpointSlice, Service and Node objects for tests, as a controller (or the kubelet) would write them. */
import type { KubeObject } from './store.js';

export interface SliceEndpointSpec {
  readonly ip: string;
  readonly ready?: boolean;
  readonly serving?: boolean;
  readonly terminating?: boolean;
  readonly zone?: string;
  readonly hints?: readonly string[];
}

export function endpointSlice(
  name: string,
  service: string,
  endpoints: readonly (string | SliceEndpointSpec)[],
  ports: readonly { name?: string; port: number }[] = [{ name: 'http', port: 8080 }],
  namespace = 'default',
): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace, labels: { 'kubernetes.io/service-name': service, 'endpointslice.kubernetes.io/managed-by': 'test' } },
    addressType: 'IPv4',
    ports: ports.map((p) => ({ ...(p.name !== undefined ? { name: p.name } : {}), port: p.port, protocol: 'TCP' })),
    endpoints: endpoints.map((e) => {
      const spec = typeof e === 'string' ? { ip: e } : e;
      return {
        addresses: [spec.ip],
        conditions: {
          ready: spec.ready ?? true,
          serving: spec.serving ?? spec.ready ?? true,
          terminating: spec.terminating ?? false,
        },
        ...(spec.zone !== undefined ? { zone: spec.zone } : {}),
        ...(spec.hints !== undefined ? { hints: { forZones: spec.hints.map((z) => ({ name: z })) } } : {}),
      };
    }),
  };
}

export function service(
  name: string,
  ports: readonly { name?: string; port: number; targetPort?: number | string }[],
  namespace = 'default',
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace },
    spec: {
      selector: { app: name },
      ports: ports.map((p) => ({ ...p, protocol: 'TCP', targetPort: p.targetPort ?? p.port })),
    },
  };
}

/** A Node as the kubelet registers it, with the cloud provider's topology labels (`zone` as in `{ zone: 'eu-west-1a' }`). */
export function node(name: string, topology: { zone?: string; region?: string; legacyZone?: string } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        ...(topology.region !== undefined ? { 'topology.kubernetes.io/region': topology.region } : {}),
        ...(topology.zone !== undefined ? { 'topology.kubernetes.io/zone': topology.zone } : {}),
        ...(topology.legacyZone !== undefined ? { 'failure-domain.beta.kubernetes.io/zone': topology.legacyZone } : {}),
      },
    },
    spec: { podCIDR: '10.244.0.0/24' },
    status: {
      addresses: [
        { type: 'InternalIP', address: '192.168.0.10' },
        { type: 'Hostname', address: name },
      ],
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }],
      nodeInfo: { kubeletVersion: 'v1.32.0', osImage: 'Debian GNU/Linux 12 (bookworm)', architecture: 'amd64', operatingSystem: 'linux' },
    },
  };
}
