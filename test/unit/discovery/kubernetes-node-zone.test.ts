/**
 * The k8s: provider learns this workload's zone from its Node (the fake API
 * server over real HTTPS, port 0): the zone option, then MESH_ZONE, then the
 * Node named by MESH_NODE_NAME / NODE_NAME; read once, never watched; a
 * failed read is one warning and no zone; a slow read holds the first set
 * back at most ZONE_WAIT_MS (fake timers; the API traffic is real I/O).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KubeApiError } from '../../../src/discovery/kubernetes/api-error.js';
import { localityOfNode } from '../../../src/discovery/kubernetes/node-zone.js';
import { type KubernetesProviderOptions, kubernetesProvider } from '../../../src/discovery/kubernetes/provider.js';
import { ZONE_WAIT_MS } from '../../../src/discovery/kubernetes/slice-watch.js';
import type { DiscoveryTarget } from '../../../src/discovery/source.js';
import {
  EndpointRecorder,
  endpointSlice,
  FakeKubeApiServer,
  node,
  realDelay,
  service,
  until,
  writeKubeconfig,
} from '../../helpers/kube-apiserver/index.js';
import { findType } from '../../helpers/kube-apiserver/resources.js';

const RT = {
  services: findType('', 'v1', 'services')!,
  slices: findType('discovery.k8s.io', 'v1', 'endpointslices')!,
  nodes: findType('', 'v1', 'nodes')!,
};
/** A service account with the namespace Role of docs/kubernetes.md and no ClusterRole for nodes. */
const NO_NODES_TOKEN = 'no-nodes-token';

function target(service: string): DiscoveryTarget {
  return { uri: `k8s:${service}:http`, path: `${service}:http`, service, namespace: 'default', defaultPort: undefined };
}

interface LogLine {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly fields: Record<string, unknown> | undefined;
}

let api: FakeKubeApiServer;
const disposers: (() => unknown)[] = [];
let logs: LogLine[];
const warnings = () => logs.filter((l) => l.level !== 'info');
const nodeRequests = () => api.requests.filter((r) => r.path.startsWith('/api/v1/nodes'));

/** What a pod's environment has: NODE_NAME is read only there. */
const IN_CLUSTER = { KUBERNETES_SERVICE_HOST: '10.96.0.1' };

function provider(env: Record<string, string>, options: KubernetesProviderOptions & { token?: string } = {}) {
  const kc = writeKubeconfig(api, { token: options.token ?? 'admin-token' });
  const p = kubernetesProvider({
    kubeconfig: kc.path,
    env,
    random: () => 0.5,
    logger: {
      info: (message, fields) => logs.push({ level: 'info', message, fields }),
      warn: (message, fields) => logs.push({ level: 'warn', message, fields }),
      error: (message, fields) => logs.push({ level: 'error', message, fields }),
    },
    ...options,
  });
  disposers.push(() => p.close?.(), () => kc.dispose());
  return p;
}

beforeEach(async () => {
  logs = [];
  api = await FakeKubeApiServer.start({ tokens: { [NO_NODES_TOKEN]: { allow: ['endpointslices', 'services'] } } });
  api.store.create(RT.services, 'default', service('reviews', [{ name: 'http', port: 80, targetPort: 8080 }]));
  api.store.create(RT.services, 'default', service('ratings', [{ name: 'http', port: 80, targetPort: 8080 }]));
  // Topology-aware routing: each endpoint hinted for its own zone.
  for (const svc of ['reviews', 'ratings']) {
    api.store.create(
      RT.slices,
      'default',
      endpointSlice(`${svc}-a`, svc, [
        { ip: '10.0.0.1', zone: 'eu-a', hints: ['eu-a'] },
        { ip: '10.0.0.2', zone: 'eu-b', hints: ['eu-b'] },
      ]),
    );
  }
  api.store.create(RT.nodes, undefined, node('node-b', { zone: 'eu-b', region: 'eu' }));
});

afterEach(async () => {
  vi.useRealTimers();
  for (const d of disposers.splice(0).reverse()) await d();
  await api.close();
});

describe('k8s: this workload\'s zone from its Node', () => {
  it('reads the Node named by MESH_NODE_NAME once, never watches it, and honours hints from the first set', async () => {
    const p = provider({ MESH_NODE_NAME: 'node-b' });
    const reviews = new EndpointRecorder();
    p.watch(target('reviews'), reviews);
    expect(await reviews.nextSet()).toEqual(['10.0.0.2:8080']);
    expect(p.zone).toBe('eu-b');
    expect(await p.localZone()).toEqual({ zone: 'eu-b', region: 'eu', source: 'node', node: 'node-b' });

    const ratings = new EndpointRecorder();
    p.watch(target('ratings'), ratings);
    expect(await ratings.nextSet()).toEqual(['10.0.0.2:8080']);
    expect(nodeRequests().map((r) => `${r.method} ${r.path}${r.query.size > 0 ? `?${r.query}` : ''}`)).toEqual(['GET /api/v1/nodes/node-b']);
    expect(warnings()).toEqual([]);
  });

  it('reads NODE_NAME when MESH_NODE_NAME is unset, and falls back to the deprecated failure-domain label', async () => {
    api.store.create(RT.nodes, undefined, node('node-old', { legacyZone: 'eu-a' }));
    api.store.create(RT.nodes, undefined, node('node-both', { zone: 'eu-b', legacyZone: 'eu-a' }));
    expect(await provider({ NODE_NAME: 'node-old', ...IN_CLUSTER }).localZone()).toEqual({ zone: 'eu-a', region: '', source: 'node', node: 'node-old' });
    expect((await provider({ NODE_NAME: 'node-both', ...IN_CLUSTER }).localZone()).zone).toBe('eu-b');
    expect((await provider({ MESH_NODE_NAME: ' node-b ', NODE_NAME: 'node-old', ...IN_CLUSTER }).localZone()).node).toBe('node-b');
    // Blank counts as unset, as for every variable.
    expect((await provider({ MESH_NODE_NAME: '  ', NODE_NAME: 'node-old', ...IN_CLUSTER }).localZone()).node).toBe('node-old');
    expect(warnings()).toEqual([]);
    // Outside a pod NODE_NAME is someone else's (Jenkins sets it for every build): not read.
    const before = nodeRequests().length;
    expect(await provider({ NODE_NAME: 'node-old' }).localZone()).toEqual({ zone: '', region: '', source: 'none' });
    expect(nodeRequests().length).toBe(before);
  });

  it('the zone option wins over MESH_ZONE, which wins over the Node; the Node is then not read', async () => {
    const both = provider({ MESH_ZONE: 'eu-b', MESH_NODE_NAME: 'node-b' }, { zone: 'eu-a' });
    expect(await both.localZone()).toEqual({ zone: 'eu-a', region: '', source: 'option' });
    const rec = new EndpointRecorder();
    both.watch(target('reviews'), rec);
    expect(await rec.nextSet()).toEqual(['10.0.0.1:8080']);
    expect(await provider({ MESH_ZONE: 'eu-a', MESH_NODE_NAME: 'node-b' }).localZone()).toEqual({ zone: 'eu-a', region: '', source: 'MESH_ZONE' });
    expect(nodeRequests()).toEqual([]);
    // A blank option or MESH_ZONE counts as unset: the Node decides.
    expect(await provider({ MESH_ZONE: ' ', MESH_NODE_NAME: 'node-b' }, { zone: '' }).localZone()).toMatchObject({ zone: 'eu-b', source: 'node' });
    // Nothing set: no zone, and the cluster is not touched.
    const before = api.requests.length;
    expect(await provider({}).localZone()).toEqual({ zone: '', region: '', source: 'none' });
    expect(api.requests.length).toBe(before);
  });

  it('a Node without a zone label means no zone: hints are ignored, with no warning', async () => {
    api.store.create(RT.nodes, undefined, node('bare-metal'));
    const p = provider({ MESH_NODE_NAME: 'bare-metal' });
    const rec = new EndpointRecorder();
    p.watch(target('reviews'), rec);
    expect(await rec.nextSet()).toEqual(['10.0.0.1:8080', '10.0.0.2:8080']);
    expect(await p.localZone()).toEqual({ zone: '', region: '', source: 'none', node: 'bare-metal' });
    expect(warnings()).toEqual([]);
  });
});

describe('k8s: a Node that cannot be read', () => {
  it('403 without a ClusterRole: one warning naming the Node, the status and the rule to grant; discovery carries on', async () => {
    const p = provider({ MESH_NODE_NAME: 'node-b' }, { token: NO_NODES_TOKEN });
    const reviews = new EndpointRecorder();
    const ratings = new EndpointRecorder();
    p.watch(target('reviews'), reviews);
    p.watch(target('ratings'), ratings);
    expect(await reviews.nextSet()).toEqual(['10.0.0.1:8080', '10.0.0.2:8080']);
    expect(await ratings.nextSet()).toEqual(['10.0.0.1:8080', '10.0.0.2:8080']);
    expect(await p.localZone()).toEqual({ zone: '', region: '', source: 'none', node: 'node-b' });
    expect(nodeRequests()).toHaveLength(1);
    expect(warnings()).toHaveLength(1);
    const [w] = warnings();
    expect(w!.level).toBe('warn');
    expect(w!.message).toContain('cannot read Node "node-b" (from MESH_NODE_NAME)');
    expect(w!.message).toContain('403 Forbidden');
    // The API server's own words, then the rule to grant.
    expect(w!.message).toContain('cannot get resource "nodes" in API group "" at the cluster scope');
    expect(w!.message).toContain('`get` on `nodes`, granted by a ClusterRole and ClusterRoleBinding');
    expect(w!.fields).toMatchObject({ node: 'node-b', status: 403, reason: 'Forbidden', variable: 'MESH_NODE_NAME' });
  });

  it('404: the warning says the Node is not found and points at spec.nodeName', async () => {
    const p = provider({ NODE_NAME: 'gone-node', ...IN_CLUSTER });
    expect(await p.localZone()).toEqual({ zone: '', region: '', source: 'none', node: 'gone-node' });
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]!.message).toContain('404 NotFound: nodes "gone-node" not found; is NODE_NAME set from the Downward API\'s spec.nodeName?');
  });

  it('an unreachable API server: a warning, no zone, and localZone() still resolves', async () => {
    const gone = await FakeKubeApiServer.start();
    const kc = writeKubeconfig(gone);
    await gone.close();
    const p = kubernetesProvider({
      kubeconfig: kc.path,
      env: { MESH_NODE_NAME: 'node-b' },
      logger: { info() {}, warn: (message, fields) => logs.push({ level: 'warn', message, fields }), error() {} },
    });
    disposers.push(() => p.close?.(), () => kc.dispose());
    expect(await p.localZone()).toEqual({ zone: '', region: '', source: 'none', node: 'node-b' });
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]!.message).toContain('cannot read Node "node-b" (from MESH_NODE_NAME) to learn this workload\'s zone: the API server is unreachable (ECONNREFUSED)');
  });

  it('a name that cannot be a Node is a warning, and nothing is read', async () => {
    const p = provider({ MESH_NODE_NAME: 'Node_B/../x' });
    expect((await p.localZone()).zone).toBe('');
    expect(nodeRequests()).toEqual([]);
    expect(warnings().map((w) => w.message)).toEqual([
      'k8s discovery: MESH_NODE_NAME "Node_B/../x" is not a Node name (lower-case letters, digits, "-" and ".", at most 253 characters); carrying on with no zone (topology hints ignored)',
    ]);
  });

  it('an answer that is not a Node is a typed error naming the request', () => {
    const path = '/api/v1/nodes/node-b';
    for (const body of [null, [], 'text', { kind: 'Status' }, { kind: 'Node' }]) {
      expect(() => localityOfNode(body, path)).toThrow(KubeApiError);
    }
    expect(() => localityOfNode({ kind: 'Status', metadata: {} }, path)).toThrow(`the API server answered GET ${path} with a Status that is not a Node`);
    expect(localityOfNode({ kind: 'Node', metadata: { labels: { 'topology.kubernetes.io/zone': ' ' } } }, path)).toEqual({ zone: '', region: '' });
    expect(localityOfNode({ metadata: { labels: null } }, path)).toEqual({ zone: '', region: '' });
    // The region as the zone: the current label, else the deprecated one.
    const legacy = { 'failure-domain.beta.kubernetes.io/region': 'eu-old', 'failure-domain.beta.kubernetes.io/zone': 'eu-old-a' };
    expect(localityOfNode({ kind: 'Node', metadata: { labels: legacy } }, path)).toEqual({ zone: 'eu-old-a', region: 'eu-old' });
    expect(localityOfNode({ kind: 'Node', metadata: { labels: { ...legacy, 'topology.kubernetes.io/region': 'eu' } } }, path).region).toBe('eu');
  });
});

describe('k8s: a slow Node read and readiness', () => {
  it(`holds the first set back at most ${ZONE_WAIT_MS} ms, then re-filters it when the zone lands`, async () => {
    const release = api.hold((path) => path.startsWith('/api/v1/nodes/'));
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const p = provider({ MESH_NODE_NAME: 'node-b' });
    const rec = new EndpointRecorder();
    p.watch(target('reviews'), rec);
    await until(() => nodeRequests().length === 1 && api.requests.some((r) => r.path.endsWith('/endpointslices')), 'the list and the Node read');
    // Real time for the list to land and a set to show, if one were (wrongly) delivered without waiting.
    await realDelay(300);
    await vi.advanceTimersByTimeAsync(ZONE_WAIT_MS - 1);
    expect(rec.untaken).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    // Not waiting any longer: every ready endpoint, hints ignored for now.
    expect(await rec.nextSet()).toEqual(['10.0.0.1:8080', '10.0.0.2:8080']);
    expect(p.zone).toBe('');
    release();
    expect(await rec.nextSet()).toEqual(['10.0.0.2:8080']);
    expect(p.zone).toBe('eu-b');
    expect(warnings()).toEqual([]);
  });

  it('closed during the Node read: no warning and no set afterwards', async () => {
    const release = api.hold((path) => path.startsWith('/api/v1/nodes/'));
    const p = provider({ MESH_NODE_NAME: 'node-b' });
    const rec = new EndpointRecorder();
    p.watch(target('reviews'), rec);
    const zone = p.localZone();
    await until(() => nodeRequests().length === 1, 'the Node read');
    await p.close?.();
    release();
    expect(await zone).toEqual({ zone: '', region: '', source: 'none', node: 'node-b' });
    await realDelay(100);
    expect(rec.untaken).toBe(0);
    expect(logs).toEqual([]);
  });
});
