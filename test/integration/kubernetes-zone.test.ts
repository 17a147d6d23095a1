/**
 * This workload's zone from its Node, end to end: the manifests in
 * examples/kubernetes name the Node through the Downward API and grant what
 * reading it takes, and a mesh configured by env vars alone honours topology
 * hints for that zone from its first endpoint set (the fake API server on
 * real HTTPS, port 0).
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { kubernetesProvider } from '../../src/discovery/kubernetes/provider.js';
import { createMesh, type Mesh } from '../../src/index.js';
import { exampleManifests, findManifest } from '../helpers/example-manifests.js';
import { EndpointRecorder, endpointSlice, FakeKubeApiServer, node, service, writeKubeconfig } from '../helpers/kube-apiserver/index.js';
import { findType } from '../helpers/kube-apiserver/resources.js';


type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };
type Binding = { roleRef: { kind: string; name: string }; subjects: { kind: string; name: string; namespace?: string }[] };
type EnvVar = { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } };
type Deployment = { spec: { template: { spec: { serviceAccountName: string; containers: { env?: EnvVar[] }[] } } } };



/** The rules of every Role and ClusterRole bound to this service account. */
function rulesFor(account: string, namespace: string): { role: Rule[]; clusterRole: Rule[] } {
  const bound = (kind: string) =>
    exampleManifests
      .filter((m) => m.kind === kind)
      .map((m) => m as unknown as Binding)
      .filter((b) => b.subjects.some((s) => s.kind === 'ServiceAccount' && s.name === account && s.namespace === namespace))
      .flatMap((b) => findManifest<{ rules: Rule[] }>(b.roleRef.kind, b.roleRef.name).rules);
  return { role: bound('RoleBinding'), clusterRole: bound('ClusterRoleBinding') };
}

const RT = {
  services: findType('', 'v1', 'services')!,
  slices: findType('discovery.k8s.io', 'v1', 'endpointslices')!,
  nodes: findType('', 'v1', 'nodes')!,
};

let api: FakeKubeApiServer;
let kc: ReturnType<typeof writeKubeconfig>;
let mesh: Mesh | undefined;
beforeAll(async () => {
  api = await FakeKubeApiServer.start();
  kc = writeKubeconfig(api);
  api.store.create(RT.nodes, undefined, node('node-b', { zone: 'eu-b', region: 'eu' }));
  api.store.create(RT.services, 'shop', service('reviews', [{ name: 'http', port: 9080 }], 'shop'));
  const slice = endpointSlice(
    'reviews-1',
    'reviews',
    [
      { ip: '10.4.0.1', zone: 'eu-a', hints: ['eu-a'] },
      { ip: '10.4.0.2', zone: 'eu-b', hints: ['eu-b'] },
      { ip: '10.4.0.3', zone: 'eu-b', hints: ['eu-b'] },
    ],
    [{ name: 'http', port: 9080 }],
    'shop',
  );
  api.store.create(RT.slices, 'shop', slice);
});
afterEach(async () => {
  await mesh?.close();
  mesh = undefined;
});
afterAll(async () => {
  await api.close();
  kc.dispose();
});

describe('examples/kubernetes: the zone from the Node', () => {
  it('names the Node through the Downward API and grants get on nodes with a ClusterRole, and nothing more', () => {
    const deploy = findManifest<Deployment>('Deployment', 'productpage');
    const env = deploy.spec.template.spec.containers[0]?.env ?? [];
    expect(env.find((e) => e.name === 'MESH_NODE_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe('spec.nodeName');
    const { clusterRole } = rulesFor(deploy.spec.template.spec.serviceAccountName, 'shop');
    expect(clusterRole).toEqual([{ apiGroups: [''], resources: ['nodes'], verbs: ['get'] }]);
  });

  it('with exactly the RBAC of the manifests, the provider learns the zone and the first set honours the hints', async () => {
    const { role, clusterRole } = rulesFor('productpage', 'shop');
    api.tokens.set('productpage-sa', { allow: [...role, ...clusterRole].flatMap((r) => r.resources) });
    const sa = writeKubeconfig(api, { token: 'productpage-sa', namespace: 'shop' });
    const warnings: string[] = [];
    const provider = kubernetesProvider({
      kubeconfig: sa.path,
      env: { MESH_NODE_NAME: 'node-b' },
      logger: { info() {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) },
    });
    try {
      const rec = new EndpointRecorder();
      provider.watch({ uri: 'k8s:reviews:http', path: 'reviews:http', service: 'reviews', namespace: 'shop', defaultPort: undefined }, rec);
      expect(await rec.nextSet()).toEqual(['10.4.0.2:9080', '10.4.0.3:9080']);
      expect(await provider.localZone()).toEqual({ zone: 'eu-b', region: 'eu', source: 'node', node: 'node-b' });
      expect(warnings).toEqual([]);
    } finally {
      await provider.close();
      sa.dispose();
    }
  });

  it('a mesh configured by env vars alone is ready with the hinted endpoints of its Node\'s zone', async () => {
    mesh = createMesh({
      env: { KUBECONFIG: kc.path, MESH_NAMESPACE: 'shop', MESH_NODE_NAME: 'node-b', MESH_SERVICES: 'reviews=k8s:reviews:http' },
    });
    await mesh.ready();
    const keys = (mesh.destinations.get('reviews')?.upstreams ?? []).map((u) => u.key).sort();
    expect(keys).toEqual(['10.4.0.2:9080', '10.4.0.3:9080']);
  });
});

describe("the Node's zone as this process's locality", () => {
  const nodeReads = () => api.requests.filter((r) => r.path.startsWith('/api/v1/nodes/')).length;

  it('becomes mesh.zone and mesh.region through the lowest config layer, named after the Node, for services of any discovery', async () => {
    const errors: string[] = [];
    mesh = createMesh({
      env: { KUBECONFIG: kc.path, MESH_NODE_NAME: 'node-b' },
      logger: { info() {}, warn: (m) => errors.push(m), error: (m) => errors.push(m) },
      // A static service: the Node is read for locality even when no k8s: service exists.
      config: { services: { ratings: { endpoints: ['10.9.0.1:80'] } } },
    });
    await expect.poll(() => mesh!.config.current.config.mesh.zone).toBe('eu-b');
    expect(mesh.config.current.config.mesh.region).toBe('eu');
    expect(mesh.config.current.sources.find((s) => s.layer === 'kubernetes')?.source).toBe('kubernetes node node-b');
    expect(errors).toEqual([]);
  });

  it("prefers the endpoints in the Node's zone: k8s: endpoints are in its region, their zone from the slice", async () => {
    api.store.create(RT.services, 'shop', service('details', [{ name: 'http', port: 9080 }], 'shop'));
    // No hints: only locality-aware balancing can keep traffic in the zone.
    const slice = endpointSlice(
      'details-1',
      'details',
      [
        { ip: '10.5.0.1', zone: 'eu-a' },
        { ip: '10.5.0.2', zone: 'eu-b' },
        { ip: '10.5.0.3', zone: 'eu-c' },
      ],
      [{ name: 'http', port: 9080 }],
      'shop',
    );
    api.store.create(RT.slices, 'shop', slice);
    mesh = createMesh({ env: { KUBECONFIG: kc.path, MESH_NAMESPACE: 'shop', MESH_NODE_NAME: 'node-b', MESH_SERVICES: 'details=k8s:details:http' } });
    await mesh.ready();
    await expect.poll(() => mesh!.config.current.config.mesh.zone).toBe('eu-b');
    const details = mesh.destinations.get('details')!;
    await expect.poll(() => details.upstreams.every((u) => u.endpoint.region === 'eu')).toBe(true);
    const picked = new Set<string>();
    for (let i = 0; i < 50; i++) picked.add(details.picker(undefined)!.pick()!.key);
    expect([...picked]).toEqual(['10.5.0.2:9080']);
  });

  it('loses to code options that set the zone, though the Node was read', async () => {
    mesh = createMesh({ env: { KUBECONFIG: kc.path, MESH_NODE_NAME: 'node-b' }, config: { mesh: { zone: 'eu-c' } } });
    await expect.poll(() => mesh!.config.current.sources.map((s) => s.layer)).toContain('kubernetes');
    expect(mesh.config.current.config.mesh.zone).toBe('eu-c');
  });

  it('with MESH_ZONE set, the Node is not read at all', async () => {
    const before = nodeReads();
    mesh = createMesh({ env: { KUBECONFIG: kc.path, MESH_NODE_NAME: 'node-b', MESH_ZONE: 'eu-a' } });
    // The provider's answer is settled without a read; a read that had started would be awaited here.
    const k8s = mesh.discovery.get('k8s') as ReturnType<typeof kubernetesProvider>;
    expect(await k8s.localZone()).toMatchObject({ zone: 'eu-a', source: 'MESH_ZONE' });
    expect(mesh.config.current.config.mesh.zone).toBe('eu-a');
    expect(mesh.config.current.sources.map((s) => s.layer)).not.toContain('kubernetes');
    expect(nodeReads()).toBe(before);
  });

  it('loses to a config file that sets the zone, though the Node was read', async () => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'zone-')), 'mesh.yaml');
    writeFileSync(file, 'mesh:\n  zone: eu-f\n');
    mesh = createMesh({ env: { KUBECONFIG: kc.path, MESH_NODE_NAME: 'node-b' }, configFile: file, watchConfigFile: false });
    await expect.poll(() => mesh!.config.current.sources.map((s) => s.layer)).toContain('kubernetes');
    expect(mesh.config.current.config.mesh.zone).toBe('eu-f');
  });
});
