/**
 * The control plane in Kubernetes mode against the fake API server, driven
 * by the real kubectl: a Service, its EndpointSlices, the Pods they name, a
 * DestinationRule with subsets and a canary VirtualService become xDS that
 * our own data plane (a mesh pointed at the control plane) routes real HTTP
 * by. A kubectl edit of the weights moves the traffic; a bad VirtualService
 * is rejected by name and field while the last good routes keep serving.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { stringify } from 'yaml';
import { runControlPlaneCommand } from '../../src/control/cli.js';
import { ControlPlane } from '../../src/control/control-plane.js';
import { KubernetesInput } from '../../src/control/kubernetes/kubernetes-input.js';
import { TYPE_URL, unpackAny } from '../../src/discovery/xds/envoy-protos.js';
import { createMesh, isMeshError, type Mesh } from '../../src/index.js';
import type { MeshLogger } from '../../src/telemetry/logger.js';
import { answersSeen } from '../helpers/answers.js';
import { endpointSlice, FakeKubeApiServer, FORBIDDEN_TOKEN, kubectl, service, writeKubeconfig } from '../helpers/kube-apiserver/index.js';
import { closeServers, startServer, type TestServer } from '../helpers/versioned-server.js';

const LISTENER = 'reviews.default.svc.cluster.local:9080';
let api: FakeKubeApiServer;
let kc: ReturnType<typeof writeKubeconfig>;
let v1: TestServer;
let v2: TestServer;
let cp: ControlPlane;
let mesh: Mesh;
const errors: string[] = [];
const logger: MeshLogger = {
  info() {},
  warn() {},
  error(message, fields) {
    errors.push(`${message} ${JSON.stringify(fields ?? {})}`);
  },
};

function pod(name: string, version: string): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { app: 'reviews', version } },
    spec: { containers: [{ name: 'app', image: 'reviews' }] },
  };
}

/** A slice as the EndpointSlice controller writes it: one pod, its port, its targetRef. */
function slice(name: string, podName: string, port: number, zone: string): unknown {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: 'default', labels: { 'kubernetes.io/service-name': 'reviews' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port, protocol: 'TCP' }],
    endpoints: [
      {
        addresses: ['127.0.0.1'],
        conditions: { ready: true, serving: true, terminating: false },
        zone,
        targetRef: { kind: 'Pod', name: podName, namespace: 'default' },
      },
    ],
  };
}

const destinationRule = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'DestinationRule',
  metadata: { name: 'reviews', namespace: 'default' },
  spec: { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] },
};

function virtualService(v1Weight: number, extra: Record<string, unknown> = {}): string {
  return stringify({
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'reviews', namespace: 'default' },
    spec: {
      hosts: ['reviews'],
      http: [
        {
          route: [
            { destination: { host: 'reviews', subset: 'v1' }, weight: v1Weight },
            { destination: { host: 'reviews', subset: 'v2' }, weight: 100 - v1Weight },
          ],
        },
      ],
      ...extra,
    },
  });
}

async function apply(yaml: string): Promise<void> {
  const r = await kubectl(kc.path, ['apply', '-f', '-'], yaml);
  expect(r.code, r.stderr).toBe(0);
}

async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const TYPES = [TYPE_URL.listener, TYPE_URL.routeConfiguration, TYPE_URL.cluster, TYPE_URL.clusterLoadAssignment];

/** Whether our mesh acknowledged everything it was sent (a publish sends at once, so after a new version: that one). */
function caughtUp(): boolean {
  const me = cp.status().clients.find((c) => c.nodeId === 'k8s-e2e');
  return TYPES.every((t) => {
    const sub = me?.subscriptions.find((x) => x.typeUrl === t);
    return sub !== undefined && sub.ackedVersion === sub.sentVersion;
  });
}

/** A mesh on the control plane, subscribed to `listeners`, in `namespace`. */
function xdsClient(listeners: string, namespace = 'default'): Mesh {
  return createMesh({
    env: { MESH_XDS_SERVER: `127.0.0.1:${cp.port}`, MESH_XDS_LISTENERS: listeners, MESH_NAMESPACE: namespace },
    logger: { info() {}, warn() {}, error() {} },
  });
}

async function body(url: string): Promise<string> {
  try {
    const res = await mesh.request(url);
    return `${res.statusCode}:${await res.body.text()}`;
  } catch (err) {
    return isMeshError(err) ? `${err.code}:${err.message}` : `error:${String(err)}`;
  }
}

beforeAll(async () => {
  api = await FakeKubeApiServer.start();
  kc = writeKubeconfig(api);
  v1 = await startServer('v1');
  v2 = await startServer('v2');
  const objects = [
    service('reviews', [{ name: 'http', port: 9080, targetPort: 'http' }]),
    pod('reviews-v1-abc', 'v1'),
    pod('reviews-v2-def', 'v2'),
    slice('reviews-v1', 'reviews-v1-abc', v1.port, 'zone-a'),
    slice('reviews-v2', 'reviews-v2-def', v2.port, 'zone-b'),
    destinationRule,
  ];
  await apply(objects.map((o) => stringify(o)).join('---\n'));
  await apply(virtualService(100));
  cp = new ControlPlane({
    input: new KubernetesInput({ kubeconfig: kc.path, logger, debounceMs: 20 }),
    host: '127.0.0.1',
    port: 0,
    logger,
  });
  const port = await cp.start();
  mesh = createMesh({
    env: { MESH_XDS_SERVER: `127.0.0.1:${port}`, MESH_XDS_LISTENERS: LISTENER, MESH_XDS_NODE_ID: 'k8s-e2e' },
    logger: { info() {}, warn() {}, error() {} },
  });
  await mesh.ready();
}, 60_000);

afterAll(async () => {
  await mesh?.destroy();
  await cp?.close();
  await closeServers();
  await api?.close();
  kc?.dispose();
});

test('serves the cluster: the canary VirtualService sends everything to subset v1 (pod labels), every type ACKed', async () => {
  await until(async () => (await body('http://reviews:9080/x')).startsWith('200:'), 'the first routed request', 30_000);
  for (let i = 0; i < 10; i++) expect(await body('http://reviews:9080/x')).toBe('200:v1');
  const me = cp.status().clients.find((c) => c.nodeId === 'k8s-e2e');
  for (const type of [TYPE_URL.listener, TYPE_URL.routeConfiguration, TYPE_URL.cluster, TYPE_URL.clusterLoadAssignment]) {
    const sub = me?.subscriptions.find((s) => s.typeUrl === type);
    expect(sub, type).toBeDefined();
    expect(sub!.lastNack, type).toBeUndefined();
    expect(sub!.ackedVersion, type).toBe(sub!.sentVersion);
  }
  expect(errors).toEqual([]);
}, 60_000);

test('each client gets the endpoints in its own zone first: slices carry zones only, taken to be in the client region', () => {
  const cluster = 'outbound|9080||reviews.default.svc.cluster.local';
  const byPriority = (zone: string) => {
    const r = cp.snapshot.localEndpoints.resource(cluster, { id: zone, locality: { region: 'eu-west1', zone } })!;
    const cla = unpackAny(r.any.type_url, r.any.value) as { endpoints: { priority: number; lb_endpoints: { endpoint: { address: { socket_address: { port_value: number } } } }[] }[] };
    return Object.fromEntries(cla.endpoints.flatMap((g) => g.lb_endpoints.map((e) => [e.endpoint.address.socket_address.port_value, g.priority])));
  };
  expect(byPriority('zone-a')).toEqual({ [v1.port]: 0, [v2.port]: 1 });
  expect(byPriority('zone-b')).toEqual({ [v1.port]: 1, [v2.port]: 0 });
});

test('a kubectl edit of the weights moves the traffic', async () => {
  const before = cp.snapshot.version;
  await apply(virtualService(0));
  await until(async () => (await body('http://reviews:9080/x')) === '200:v2', 'traffic to move to v2', 30_000);
  for (let i = 0; i < 10; i++) expect(await body('http://reviews:9080/x')).toBe('200:v2');
  expect(Number(cp.snapshot.version)).toBeGreaterThan(Number(before));
}, 60_000);

test('a bad VirtualService is rejected by name and field; the last good routes keep serving and other changes still land', async () => {
  await apply(virtualService(100, { tcp: [{ route: [{ destination: { host: 'reviews' } }] }] }));
  await until(() => errors.some((e) => e.includes('VirtualService default/reviews')), 'the rejection to be logged', 30_000);
  const logged = errors.find((e) => e.includes('VirtualService default/reviews'))!;
  expect(logged).toContain('spec.tcp');
  expect(logged).toContain('last good version keeps serving');
  expect(cp.status().lastRejectedConfig?.message).toContain('VirtualService default/reviews.spec.tcp');
  for (let i = 0; i < 10; i++) expect(await body('http://reviews:9080/x')).toBe('200:v2');

  // The rest of the cluster keeps flowing: a new Service is served while the bad object stays.
  await apply(stringify(service('ratings', [{ name: 'http', port: 9080 }])));
  await until(() => cp.status().resources[TYPE_URL.listener]?.includes('ratings') === true, 'ratings to be served', 30_000);
  for (let i = 0; i < 5; i++) expect(await body('http://reviews:9080/x')).toBe('200:v2');

  // Fixing the object brings it back.
  await apply(virtualService(100));
  await until(async () => (await body('http://reviews:9080/x')) === '200:v1', 'the fixed VirtualService to route to v1', 30_000);

  // Deleting the DestinationRule leaves the VirtualService's subsets undefined: it is rejected and left out
  // (its last good version no longer fits either), and the service keeps answering on its default route.
  errors.length = 0;
  const del = await kubectl(kc.path, ['delete', 'destinationrule', 'reviews']);
  expect(del.code, del.stderr).toBe(0);
  await until(() => errors.some((e) => e.includes('it is left out until fixed')), 'the VirtualService to be left out', 30_000);
  expect(errors.join('\n')).toContain('VirtualService default/reviews');
  const seen = new Set<string>();
  await until(
    async () => {
      seen.add(await body('http://reviews:9080/x'));
      return seen.has('200:v1') && seen.has('200:v2');
    },
    'both versions to answer without the canary routes',
    30_000,
  );
  // Make before break: the subset clusters outlive the routes that used them, so nothing failed on the way.
  expect([...seen].filter((r) => !r.startsWith('200:'))).toEqual([]);

  // Re-creating the DestinationRule brings the unchanged VirtualService back. The default route reaches v1
  // too, so wait for the client to have acknowledged the new snapshot before checking where requests go.
  const before = Number(cp.snapshot.version);
  await apply(stringify(destinationRule));
  await until(() => Number(cp.snapshot.version) > before && caughtUp(), 'the client to take the snapshot with the VirtualService', 30_000);
  for (let i = 0; i < 10; i++) expect(await body('http://reviews:9080/x')).toBe('200:v1');
}, 120_000);

test("every port of a Service is served under the Service's names on that port, and one mesh reaches each by the port it calls", async () => {
  const web = await startServer('details-web');
  const admin = await startServer('details-admin');
  const slice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'details-abc', namespace: 'default', labels: { 'kubernetes.io/service-name': 'details' } },
    addressType: 'IPv4',
    ports: [
      { name: 'http', port: web.port, protocol: 'TCP' },
      { name: 'admin', port: admin.port, protocol: 'TCP' },
    ],
    endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true, serving: true, terminating: false } }],
  };
  await apply([service('details', [{ name: 'http', port: 9080 }, { name: 'admin', port: 9901 }]), slice].map((o) => stringify(o)).join('---\n'));
  const admins = 'details.default.svc.cluster.local:9901';
  await until(() => cp.status().resources[TYPE_URL.listener]?.includes(admins) === true, 'the second port to be served', 30_000);
  expect(cp.status().resources[TYPE_URL.cluster]).toEqual(
    expect.arrayContaining(['outbound|9080||details.default.svc.cluster.local', 'outbound|9901||details.default.svc.cluster.local']),
  );
  const both = xdsClient(`details.default.svc.cluster.local:9080,${admins}`);
  try {
    await both.ready();
    expect(await answersSeen(both, 'http://details:9080/x', 5)).toEqual(['200:details-web']);
    expect(await answersSeen(both, 'http://details:9901/x', 5)).toEqual(['200:details-admin']);
    expect(await answersSeen(both, `http://${admins}/x`, 5)).toEqual(['200:details-admin']);

    // A VirtualService for the Service applies on every port: its port-9901 entry only there, and a
    // destination without a port stays on the port the request came in on.
    const routed = stringify({
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'details', namespace: 'default' },
      spec: {
        hosts: ['details'],
        http: [
          { match: [{ port: 9901, uri: { prefix: '/private' } }], directResponse: { status: 403, body: { string: 'admin only' } } },
          { match: [{ uri: { prefix: '/moved' } }], directResponse: { status: 410, body: { string: 'gone' } } },
          { match: [{ port: 9901, uri: { prefix: '/pinned' } }], route: [{ destination: { host: 'details', subset: 'all' } }] },
          { route: [{ destination: { host: 'details' } }] },
        ],
      },
    });
    const rule = stringify({
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: 'details', namespace: 'default' },
      spec: { host: 'details', subsets: [{ name: 'all', labels: {} }] },
    });
    await apply(`${rule}---\n${routed}`);
    await until(async () => (await answersSeen(both, 'http://details:9901/private', 1))[0] === '403:admin only', 'the routes to reach port 9901', 30_000);
    expect(await answersSeen(both, 'http://details:9080/private', 5)).toEqual(['200:details-web']);
    expect(await answersSeen(both, 'http://details:9901/moved', 3)).toEqual(['410:gone']);
    expect(await answersSeen(both, 'http://details:9080/moved', 3)).toEqual(['410:gone']);
    expect(await answersSeen(both, 'http://details:9901/x', 5)).toEqual(['200:details-admin']);
    expect(await answersSeen(both, 'http://details:9080/x', 5)).toEqual(['200:details-web']);
    expect(await answersSeen(both, 'http://details:9901/pinned', 3)).toEqual(['200:details-admin']);

    // Deleting the rule leaves only port 9901's routes without their subset: the VirtualService of the
    // Service that port belongs to is blamed and left out, and the deletion lands.
    errors.length = 0;
    const del = await kubectl(kc.path, ['delete', 'destinationrule', 'details']);
    expect(del.code, del.stderr).toBe(0);
    await until(() => errors.some((e) => e.includes('VirtualService default/details rejected')), 'the VirtualService to be left out', 30_000);
    await until(async () => (await answersSeen(both, 'http://details:9901/private', 1))[0] === '200:details-admin', 'the default routes', 30_000);
  } finally {
    await both.destroy();
  }
}, 60_000);

test('a Service name used in two namespaces serves both, each under its own qualified names, with its own VirtualService', async () => {
  const home = await startServer('profiles-default');
  const away = await startServer('profiles-backend');
  const sliceIn = (ns: string, port: number) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `profiles-${ns}`, namespace: ns, labels: { 'kubernetes.io/service-name': 'profiles' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port, protocol: 'TCP' }],
    endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true, serving: true, terminating: false } }],
  });
  // A short host in a resource means the Service of the resource's own namespace, as in Istio.
  const backendRoutes = {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'profiles', namespace: 'backend' },
    spec: { hosts: ['profiles'], http: [{ match: [{ uri: { prefix: '/closed' } }], directResponse: { status: 503 } }, { route: [{ destination: { host: 'profiles' } }] }] },
  };
  errors.length = 0;
  await apply(
    [
      service('profiles', [{ name: 'http', port: 9080 }], 'default'),
      sliceIn('default', home.port),
      service('profiles', [{ name: 'http', port: 9080 }], 'backend'),
      sliceIn('backend', away.port),
      backendRoutes,
    ]
      .map((o) => stringify(o))
      .join('---\n'),
  );
  const backend = 'profiles.backend.svc.cluster.local:9080';
  await until(() => cp.status().resources[TYPE_URL.listener]?.includes(backend) === true, 'the second namespace to be served', 30_000);
  expect(cp.status().resources[TYPE_URL.cluster]).toEqual(
    expect.arrayContaining(['outbound|9080||profiles.default.svc.cluster.local', 'outbound|9080||profiles.backend.svc.cluster.local']),
  );
  // The bare name stays the mesh namespace's.
  expect(cp.status().resources[TYPE_URL.listener]).toEqual(expect.arrayContaining(['profiles:9080', 'profiles.backend:9080', 'profiles.backend.svc.cluster.local']));
  const client = xdsClient(`profiles.default.svc.cluster.local:9080,${backend}`);
  try {
    await client.ready();
    await until(async () => (await answersSeen(client, 'http://profiles.backend:9080/closed', 1))[0] === '503:', 'the backend routes', 10_000);
    // The previous test left VirtualService default/details out (its subset is gone): its last good version still
    // fails each rebuild, and the blame must stay on it, not move to this new, valid object.
    expect(errors.join('\n')).not.toContain('VirtualService backend/profiles');
    expect(await answersSeen(client, `http://${backend}/x`, 5)).toEqual(['200:profiles-backend']);
    expect(await answersSeen(client, 'http://profiles:9080/x', 5)).toEqual(['200:profiles-default']);
    expect(await answersSeen(client, 'http://profiles.default.svc.cluster.local:9080/closed', 3)).toEqual(['200:profiles-default']);
  } finally {
    await client.destroy();
  }
}, 60_000);

test("Gateway API HTTPRoutes and GRPCRoutes bound to Services route them; another namespace's route only that namespace's clients", async () => {
  const producer = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'profiles', namespace: 'default' },
    spec: {
      parentRefs: [{ group: '', kind: 'Service', name: 'profiles', port: 9080 }],
      rules: [
        { backendRefs: [{ name: 'profiles', port: 9080 }] },
        { matches: [{ path: { type: 'PathPrefix', value: '/details' } }], backendRefs: [{ name: 'details', port: 9080 }] },
      ],
    },
  };
  const consumer = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'profiles-from-backend', namespace: 'backend' },
    spec: {
      parentRefs: [{ kind: 'Service', name: 'profiles', namespace: 'default' }],
      rules: [
        // Its own namespace's copy of the Service: backendRefs resolve in the route's namespace.
        { backendRefs: [{ name: 'profiles', port: 9080 }] },
        // A Service of the parent's namespace, which that namespace's ReferenceGrant allows.
        { matches: [{ path: { value: '/details' } }], backendRefs: [{ name: 'details', namespace: 'default', port: 9080 }] },
      ],
    },
  };
  // A GRPCRoute's method match is a match on the call's path, which an HTTP request can carry as well.
  const grpcRoute = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'GRPCRoute',
    metadata: { name: 'details-grpc', namespace: 'default' },
    spec: {
      parentRefs: [{ kind: 'Service', name: 'details', port: 9080 }],
      rules: [{ backendRefs: [{ name: 'details', port: 9080 }] }, { matches: [{ method: { service: 'pkg.Profiles' } }], backendRefs: [{ name: 'profiles', port: 9080 }] }],
    },
  };
  // details still has the VirtualService an earlier test broke, which would claim its routes too.
  const del = await kubectl(kc.path, ['delete', 'virtualservice', 'details']);
  expect(del.code, del.stderr).toBe(0);
  errors.length = 0;
  const grant = {
    apiVersion: 'gateway.networking.k8s.io/v1beta1',
    kind: 'ReferenceGrant',
    metadata: { name: 'routes-from-backend', namespace: 'default' },
    spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'backend' }], to: [{ group: '', kind: 'Service', name: 'details' }] },
  };
  // The grant first: a rebuild between the two would refuse the consumer route, rightly, for want of it.
  await apply([grant, producer, consumer, grpcRoute].map((o) => stringify(o)).join('---\n'));
  const got = await kubectl(kc.path, ['get', 'httproutes', '-A', '-o', 'name']);
  expect(got.stdout.trim().split('\n').sort()).toEqual(['httproute.gateway.networking.k8s.io/profiles', 'httproute.gateway.networking.k8s.io/profiles-from-backend']);
  const client = xdsClient('profiles.default.svc.cluster.local:9080');
  const backendClient = xdsClient('profiles.default.svc.cluster.local:9080', 'backend');
  try {
    await Promise.all([client.ready(), backendClient.ready()]);
    await until(async () => (await answersSeen(client, 'http://profiles:9080/details/x', 1))[0] === '200:details-web', 'the HTTPRoute to route', 30_000);
    // Whole segments: /detailsx stays on the first rule.
    expect(await answersSeen(client, 'http://profiles:9080/detailsx', 3)).toEqual(['200:profiles-default']);
    expect(await answersSeen(client, 'http://profiles:9080/x', 3)).toEqual(['200:profiles-default']);
    // The consumer route is for clients in backend only, and comes first for them.
    await until(
      async () => (await answersSeen(backendClient, 'http://profiles.default.svc.cluster.local:9080/x', 1))[0] === '200:profiles-backend',
      'the consumer route to reach the backend client',
      30_000,
    );
    expect(await answersSeen(backendClient, 'http://profiles.default.svc.cluster.local:9080/details/x', 3)).toEqual(['200:details-web']);
    expect(await answersSeen(client, 'http://profiles:9080/x', 3)).toEqual(['200:profiles-default']);
    const detailsClient = xdsClient('details.default.svc.cluster.local:9080');
    try {
      await detailsClient.ready();
      expect(await answersSeen(detailsClient, 'http://details:9080/pkg.Profiles/Get', 3)).toEqual(['200:profiles-default']);
      expect(await answersSeen(detailsClient, 'http://details:9080/pkg.Other/Get', 3)).toEqual(['200:details-web']);
    } finally {
      await detailsClient.destroy();
    }
    expect(errors).toEqual([]);
  } finally {
    await Promise.all([client.destroy(), backendClient.destroy()]);
  }
}, 60_000);

/** Our entry in a route's status.parents, as kubectl shows it. */
async function routeStatus(kind: string, name: string, ns = 'default') {
  const got = await kubectl(kc.path, ['get', kind, name, '-n', ns, '-o', 'json']);
  expect(got.code, got.stderr).toBe(0);
  const route = JSON.parse(got.stdout) as {
    metadata: { generation: number };
    status?: { parents?: { controllerName: string; parentRef: Record<string, unknown>; conditions: { type: string; status: string; reason: string; message: string; observedGeneration: number }[] }[] };
  };
  const parents = route.status?.parents ?? [];
  const mine = parents.find((p) => p.controllerName === 'proxyless.dev/control-plane');
  const conditions = Object.fromEntries((mine?.conditions ?? []).map((c) => [c.type, c]));
  return { generation: route.metadata.generation, parents, mine, conditions };
}

const statusPatches = () => api.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith('/status')).length;

test('each route’s status says whether its generation is served and why not, beside other controllers’ entries', async () => {
  // The routes of the previous test, accepted.
  await until(async () => (await routeStatus('httproute', 'profiles')).conditions.Accepted?.status === 'True', 'profiles to be Accepted', 30_000);
  const accepted = await routeStatus('httproute', 'profiles');
  expect(accepted.mine?.parentRef).toEqual({ group: '', kind: 'Service', name: 'profiles', port: 9080 });
  expect(accepted.conditions.Accepted).toMatchObject({ reason: 'Accepted', observedGeneration: accepted.generation });
  expect(accepted.conditions.ResolvedRefs).toMatchObject({ status: 'True', reason: 'ResolvedRefs' });
  await until(async () => (await routeStatus('grpcroute', 'details-grpc')).conditions.Accepted?.status === 'True', 'the GRPCRoute to be Accepted', 30_000);
  await until(async () => (await routeStatus('httproute', 'profiles-from-backend', 'backend')).conditions.Accepted?.status === 'True', 'the consumer route to be Accepted', 30_000);

  // A gateway's entry for its own parent: kept as it is when ours change.
  const gatewayEntry = { parentRef: { name: 'edge' }, controllerName: 'example.net/gateway', conditions: [] };
  const patched = await kubectl(kc.path, ['patch', 'httproute', 'profiles', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { parents: [gatewayEntry, accepted.mine] } })]);
  expect(patched.code, patched.stderr).toBe(0);

  // A new generation that sends to another namespace's Service without its grant: refused, the last good one serving.
  errors.length = 0;
  const client = xdsClient('profiles.default.svc.cluster.local:9080');
  try {
    await client.ready();
    const bad = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'profiles', namespace: 'default' },
      spec: {
        parentRefs: [{ group: '', kind: 'Service', name: 'profiles', port: 9080 }],
        rules: [{ backendRefs: [{ name: 'profiles', namespace: 'backend', port: 9080 }] }],
      },
    };
    await apply(stringify(bad));
    await until(async () => (await routeStatus('httproute', 'profiles')).conditions.Accepted?.status === 'False', 'the refusal to show in the status', 30_000);
    const refused = await routeStatus('httproute', 'profiles');
    expect(refused.generation).toBe(accepted.generation + 1);
    expect(refused.conditions.Accepted).toMatchObject({ reason: 'UnsupportedValue', observedGeneration: refused.generation });
    expect(refused.conditions.Accepted!.message).toContain(`Generation ${accepted.generation} keeps being served until it is fixed.`);
    expect(refused.conditions.ResolvedRefs).toMatchObject({ status: 'False', reason: 'RefNotPermitted', observedGeneration: refused.generation });
    expect(refused.conditions.ResolvedRefs!.message).toContain('that needs a ReferenceGrant in backend from HTTPRoute in default');
    expect(refused.parents[0]).toEqual(gatewayEntry);
    expect(await answersSeen(client, 'http://profiles:9080/details/x', 3)).toEqual(['200:details-web']);
    expect(errors.some((e) => e.includes('HTTPRoute default/profiles rejected'))).toBe(true);

    // Fixed: accepted again at the new generation; its traffic moves.
    await apply(stringify({ ...bad, spec: { ...bad.spec, rules: [{ backendRefs: [{ name: 'details', port: 9080 }] }] } }));
    await until(async () => (await routeStatus('httproute', 'profiles')).conditions.Accepted?.status === 'True', 'the fixed route to be Accepted', 30_000);
    const fixed = await routeStatus('httproute', 'profiles');
    expect(fixed.conditions.Accepted).toMatchObject({ observedGeneration: refused.generation + 1 });
    expect(fixed.parents[0]).toEqual(gatewayEntry);
    await until(async () => (await answersSeen(client, 'http://profiles:9080/x', 1))[0] === '200:details-web', 'the fixed route to route', 30_000);
  } finally {
    await client.destroy();
  }

  // Settled: a rebuild for an unrelated change writes no status (our own writes do not feed back).
  const before = statusPatches();
  await apply(stringify(service('status-idle', [{ name: 'http', port: 9080 }])));
  await until(() => cp.status().resources[TYPE_URL.listener]?.includes('status-idle.default.svc.cluster.local:9080') === true, 'the unrelated change to be served', 30_000);
  expect(statusPatches()).toBe(before);
}, 90_000);

test("Linkerd's retry and timeout annotations on a Service reach every client: a 500 is retried once annotated, and a route's own replace them", async () => {
  // Every other request fails: the first try of each call, with one retry allowed.
  let served = 0;
  const flaky = createServer((_req, res) => {
    served++;
    res.statusCode = served % 2 === 1 ? 500 : 200;
    res.end(served % 2 === 1 ? 'busy' : 'ok');
  });
  await new Promise<void>((r) => flaky.listen(0, '127.0.0.1', r));
  const port = (flaky.address() as AddressInfo).port;
  const listener = `flaky.default.svc.cluster.local:${port}`;
  await apply([service('flaky', [{ name: 'http', port }]), endpointSlice('flaky-1', 'flaky', ['127.0.0.1'], [{ name: 'http', port }])].map((o) => stringify(o)).join('---\n'));
  await until(() => cp.status().resources[TYPE_URL.listener]?.includes(listener) === true, 'the flaky Service to be served', 30_000);
  const client = xdsClient(listener);
  try {
    await client.ready();
    // Unannotated, a 500 is an answer (istiod's default retries only connect failures, refused streams and 503).
    expect(await answersSeen(client, `http://flaky:${port}/`, 4)).toEqual(['200:ok', '500:busy']);
    const annotate = await kubectl(kc.path, ['annotate', 'service', 'flaky', 'retry.linkerd.io/http=500', 'retry.linkerd.io/limit=1', 'timeout.linkerd.io/request=5s']);
    expect(annotate.code, annotate.stderr).toBe(0);
    await until(async () => (await answersSeen(client, `http://flaky:${port}/`, 4)).join() === '200:ok', 'the annotation to reach the client', 30_000);
    expect(await answersSeen(client, `http://flaky:${port}/`, 10)).toEqual(['200:ok']);
    // An HTTPRoute's own retry annotations replace the Service's whole: no retry of a 500 on it.
    const own = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'flaky', namespace: 'default', annotations: { 'retry.linkerd.io/http': '502' } },
      spec: { parentRefs: [{ kind: 'Service', name: 'flaky' }], rules: [{ backendRefs: [{ name: 'flaky', port }] }] },
    };
    await apply(stringify(own));
    await until(async () => (await answersSeen(client, `http://flaky:${port}/`, 4)).includes('500:busy'), "the route's annotations to replace the Service's", 30_000);
    await until(async () => (await routeStatus('httproute', 'flaky')).conditions.Accepted?.status === 'True', 'the route to be Accepted', 30_000);
    // A timeout annotation proxyless cannot honour refuses the route's new generation, and its status says why.
    await apply(stringify({ ...own, metadata: { ...own.metadata, annotations: { 'timeout.linkerd.io/idle': '1m' } } }));
    await until(async () => (await routeStatus('httproute', 'flaky')).conditions.Accepted?.status === 'False', 'the refusal to show in the status', 30_000);
    expect((await routeStatus('httproute', 'flaky')).conditions.Accepted!.message).toContain(
      'HTTPRoute default/flaky.metadata.annotations["timeout.linkerd.io/idle"]: is not supported',
    );
    const removed = await kubectl(kc.path, ['delete', 'httproute', 'flaky']);
    expect(removed.code, removed.stderr).toBe(0);
  } finally {
    await client.destroy();
    flaky.close();
  }
}, 90_000);

test("Linkerd's own HTTPRoute (policy.linkerd.io) is watched beside the Gateway API's of the same name; its Server parents are left to the server", async () => {
  const svc = (name: string, server: TestServer) => [
    service(name, [{ name: 'http', port: server.port }]),
    endpointSlice(`${name}-1`, name, ['127.0.0.1'], [{ name: 'http', port: server.port }]),
  ];
  await apply([...svc('books', v1), ...svc('books-v2', v2)].map((o) => stringify(o)).join('---\n'));
  const linkerdRoute = {
    apiVersion: 'policy.linkerd.io/v1beta3',
    kind: 'HTTPRoute',
    metadata: { name: 'books', namespace: 'default' },
    spec: {
      parentRefs: [
        { group: 'core', kind: 'Service', name: 'books', port: v1.port },
        { group: 'policy.linkerd.io', kind: 'Server', name: 'books-http' },
      ],
      rules: [
        { matches: [{ headers: [{ name: 'x-v2', value: '1' }] }], backendRefs: [{ name: 'books-v2', port: v2.port }], timeouts: { request: '5s' } },
        { backendRefs: [{ name: 'books', port: v1.port }] },
      ],
    },
  };
  // The Gateway API's route of the same name and namespace: a different object.
  const gatewayRoute = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'books', namespace: 'default' },
    spec: { parentRefs: [{ kind: 'Service', name: 'books' }], rules: [{ matches: [{ path: { value: '/gw' } }], backendRefs: [{ name: 'books-v2', port: v2.port }] }] },
  };
  errors.length = 0;
  await apply([linkerdRoute, gatewayRoute].map((o) => stringify(o)).join('---\n'));
  const listener = `books.default.svc.cluster.local:${v1.port}`;
  const client = xdsClient(listener);
  try {
    await client.ready();
    const get = async (path: string, headers: Record<string, string> = {}) => {
      const res = await client.request(`http://books:${v1.port}${path}`, { headers });
      return `${res.statusCode}:${await res.body.text()}`;
    };
    await until(async () => (await get('/x', { 'x-v2': '1' })) === '200:v2', "Linkerd's route to route", 30_000);
    await until(async () => (await get('/gw')) === '200:v2', "the Gateway API's route to route", 30_000);
    expect(await get('/x')).toBe('200:v1');
    // Status for its Service parent only, written to Linkerd's object.
    await until(async () => (await routeStatus('httproutes.policy.linkerd.io', 'books')).conditions.Accepted?.status === 'True', "Linkerd's route to be Accepted", 30_000);
    const { parents } = await routeStatus('httproutes.policy.linkerd.io', 'books');
    expect(parents.map((p) => p.parentRef.kind)).toEqual(['Service']);
    await until(async () => (await routeStatus('httproutes.gateway.networking.k8s.io', 'books')).conditions.Accepted?.status === 'True', "the Gateway API's route to be Accepted", 30_000);
    expect(errors).toEqual([]);
  } finally {
    await client.destroy();
  }
}, 60_000);

test('an ExternalName Service is reached at the name it gives, on the port called', async () => {
  const external = await startServer('external');
  const alias = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'payments', namespace: 'default' },
    spec: { type: 'ExternalName', externalName: '127.0.0.1', ports: [{ name: 'http', port: external.port }] },
  };
  await apply(stringify(alias));
  const listener = `payments.default.svc.cluster.local:${external.port}`;
  await until(() => cp.status().resources[TYPE_URL.listener]?.includes(listener) === true, 'the ExternalName Service to be served', 30_000);
  const client = xdsClient(listener);
  try {
    await client.ready();
    expect(await answersSeen(client, `http://payments:${external.port}/x`, 3)).toEqual(['200:external']);
  } finally {
    await client.destroy();
  }
}, 60_000);

test('RBAC denial fails start with a typed error naming the permission', async () => {
  const denied = writeKubeconfig(api, { token: FORBIDDEN_TOKEN });
  const plane = new ControlPlane({
    input: new KubernetesInput({ kubeconfig: denied.path, logger }),
    host: '127.0.0.1',
    port: 0,
    logger,
  });
  try {
    const err = await plane.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isMeshError(err) && err.code).toBe('MESH_DISCOVERY_FORBIDDEN');
    expect((err as Error).message).toMatch(/forbids reading \S+ in all namespaces \(RBAC\)/);
    expect((err as Error).message).toContain('grant get, list and watch');
  } finally {
    plane.destroy();
    denied.dispose();
  }
});

test('the CLI takes --kubernetes or --config, and --namespace/--kubeconfig only with --kubernetes', async () => {
  let stderr = '';
  const out = { stdout: { write: () => true }, stderr: {
      write: (t: string) => {
        stderr += t;
        return true;
      },
    },
  };
  expect(await runControlPlaneCommand(['--namespace', 'shop', '--config', 'mesh.yaml'], out as never)).toBe(2);
  expect(stderr).toContain('--namespace and --kubeconfig go with --kubernetes');
  expect(await runControlPlaneCommand(['--kubernetes', '--config', 'mesh.yaml'], out as never)).toBe(2);
  expect(stderr).toContain('not both');
  // RBAC denial through the CLI: exit 1 with the typed code.
  const denied = writeKubeconfig(api, { token: FORBIDDEN_TOKEN });
  try {
    expect(await runControlPlaneCommand(['--kubernetes', '--kubeconfig', denied.path, '--host', '127.0.0.1', '--port', '0'], out as never)).toBe(1);
    expect(stderr).toContain('[MESH_DISCOVERY_FORBIDDEN]');
  } finally {
    denied.dispose();
  }
});
