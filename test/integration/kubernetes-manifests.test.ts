/**
 * The manifests in examples/kubernetes: real kubectl accepts every object
 * (`apply --dry-run=client`, discovery answered by the fake API server),
 * the application is configured by env vars only, and the Role it is given
 * is enough for `k8s:` discovery.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEnv } from '../../src/config/env.js';
import { WATCHED_KINDS } from '../../src/control/kubernetes/watched-kinds.js';
import { kubernetesProvider } from '../../src/discovery/kubernetes/provider.js';
import { EXAMPLES_DIR, exampleManifests, findManifest } from '../helpers/example-manifests.js';
import {
  EndpointRecorder,
  endpointSlice,
  FakeKubeApiServer,
  kubectl,
  service,
  writeKubeconfig,
} from '../helpers/kube-apiserver/index.js';
import { findType } from '../helpers/kube-apiserver/resources.js';





type DeploymentShape = { spec: { template: { spec: { containers: Container[] } } } };
type RuleShape = { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] };

let api: FakeKubeApiServer;
let kc: ReturnType<typeof writeKubeconfig>;
beforeAll(async () => {
  api = await FakeKubeApiServer.start();
  kc = writeKubeconfig(api);
});
afterAll(async () => {
  await api.close();
  kc.dispose();
});

describe('examples/kubernetes', () => {
  it('kubectl apply --dry-run=client accepts every object, and nothing is written', async () => {
    const r = await kubectl(kc.path, ['apply', '--dry-run=client', '-f', EXAMPLES_DIR]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const expected = exampleManifests.map((m) => {
      const group = m.apiVersion.includes('/') ? `.${m.apiVersion.split('/')[0]}` : '';
      return `${m.kind.toLowerCase()}${group}/${m.metadata.name} created (dry run)`;
    });
    expect(r.stdout.trim().split('\n').sort()).toEqual(expected.sort());
    expect(exampleManifests.map((m) => m.kind).sort()).toEqual(
      expect.arrayContaining(['ClusterRole', 'ClusterRoleBinding', 'Deployment', 'DestinationRule', 'Role', 'RoleBinding', 'Service', 'ServiceAccount', 'VirtualService']),
    );
    expect(api.requests.filter((q) => q.method !== 'GET')).toEqual([]);
  });

  it('configures the application by env vars only, with the pod name and namespace from the downward API', () => {
    const deploy = findManifest<DeploymentShape>('Deployment', 'productpage');
    const [container] = deploy.spec.template.spec.containers;
    expect(container?.command).toBeUndefined();
    expect(container?.args).toBeUndefined();
    const env = Object.fromEntries((container?.env ?? []).map((e) => [e.name, e]));
    expect(env.POD_NAME?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
    expect(env.POD_NAMESPACE?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.namespace');
    const plain = Object.fromEntries(Object.entries(env).map(([k, e]) => [k, e.value ?? 'shop']));
    const layer = readEnv(plain).raw as { mesh: { namespace: string }; services: { reviews: { discovery: string } } };
    expect(layer.mesh.namespace).toBe('shop');
    expect(layer.services.reviews.discovery).toBe('k8s:reviews:http');
  });

  it('gives the application a Role that is enough for k8s: discovery', async () => {
    const role = findManifest<RuleShape>('Role', 'proxyless-discovery');
    const allow = role.rules.flatMap((rule) => (rule.verbs.includes('list') && rule.verbs.includes('watch') ? rule.resources : []));
    api.tokens.set('productpage-sa', { allow });
    const slices = findType('discovery.k8s.io', 'v1', 'endpointslices')!;
    api.store.create(findType('', 'v1', 'services')!, 'shop', service('reviews', [{ name: 'http', port: 9080 }], 'shop'));
    api.store.create(slices, 'shop', endpointSlice('reviews-1', 'reviews', ['10.4.0.1'], [{ name: 'http', port: 9080 }], 'shop'));
    const sa = writeKubeconfig(api, { token: 'productpage-sa', namespace: 'shop' });
    const provider = kubernetesProvider({ kubeconfig: sa.path, env: {} });
    try {
      const rec = new EndpointRecorder();
      const discovery = findManifest<DeploymentShape>('Deployment', 'productpage');
      const uri = discovery.spec.template.spec.containers[0]!.env!.find((e) => e.name === 'MESH_SERVICES')!.value!.split('=')[1]!;
      provider.watch({ uri, path: uri.slice('k8s:'.length), service: 'reviews', namespace: 'shop', defaultPort: undefined }, rec);
      expect(await rec.nextSet()).toEqual(['10.4.0.1:9080']);
    } finally {
      await provider.close?.();
      sa.dispose();
    }
  });

  it('runs the control plane in Kubernetes mode with read access to Services, EndpointSlices and Istio CRDs, and patch on route status', () => {
    const deploy = findManifest<DeploymentShape>('Deployment', 'proxyless-control-plane');
    expect(deploy.spec.template.spec.containers[0]?.args?.slice(0, 2)).toEqual(['control-plane', '--kubernetes']);
    const role = findManifest<RuleShape>('ClusterRole', 'proxyless-control-plane');
    // Exactly what the control plane lists and watches: nothing missing, nothing extra.
    const granted = role.rules.flatMap((r) =>
      ['get', 'list', 'watch'].every((v) => r.verbs.includes(v)) ? r.apiGroups.flatMap((g) => r.resources.map((res) => `${g}/${res}`)) : [],
    );
    expect(granted.sort()).toEqual(WATCHED_KINDS.map((k) => `${k.group}/${k.resource}`).sort());
    // And patch on the status of the routes it reports on, nothing else writable.
    const written = role.rules.flatMap((r) => (r.verbs.some((v) => !['get', 'list', 'watch'].includes(v)) ? r.apiGroups.flatMap((g) => r.resources.map((res) => `${g}/${res}:${r.verbs.join(',')}`)) : []));
    expect(written.sort()).toEqual(WATCHED_KINDS.filter((k) => k.writesStatus).map((k) => `${k.group}/${k.resource}/status:patch`).sort());
  });
});

interface Container {
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
}
