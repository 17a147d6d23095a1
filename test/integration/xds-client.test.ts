/**
 * The xDS client end to end: a real grpc-js ADS server on port 0 serving
 * hand-built Envoy resources, a mesh that subscribes to it, and real HTTP
 * requests through the mesh to real upstreams on port 0.
 */
import { request } from 'undici';
import { afterEach, expect, test } from 'vitest';
import { packAny } from '../../src/discovery/xds/envoy-protos.js';
import { createMesh, isMeshError, type Mesh } from '../../src/index.js';
import { cluster, endpoints, listener, routeConfig, TestAdsServer, TYPE_URL } from '../helpers/ads-server.js';
import { closeServers, startServer, type TestServer } from '../helpers/versioned-server.js';

const LISTENER = 'reviews.default.svc.cluster.local:9080';
const meshes: Mesh[] = [];
const servers: TestAdsServer[] = [];

afterEach(async () => {
  await Promise.all(meshes.splice(0).map((m) => m.destroy()));
  await Promise.all(servers.splice(0).map((s) => s.stop()));
  await closeServers();
});

async function adsServer(): Promise<TestAdsServer> {
  const s = new TestAdsServer();
  await s.start(0);
  servers.push(s);
  return s;
}

function meshOn(ads: TestAdsServer, extra: { resourceTimeoutMs?: number } = {}): Mesh {
  const m = createMesh({
    env: false,
    logger: { info() {}, warn() {}, error() {} },
    xds: {
      bootstrap: JSON.stringify({
        xds_servers: [{ server_uri: ads.address, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
        node: { id: 'test-node', cluster: 'test', metadata: { NAMESPACE: 'default' } },
      }),
      listeners: [LISTENER],
      backoff: { baseMs: 50, maxMs: 200 },
      ...extra,
    },
  });
  meshes.push(m);
  return m;
}

function serve(ads: TestAdsServer, split: Record<string, number>, ports: Record<string, number>): void {
  ads.set(TYPE_URL.listener, [listener(LISTENER, { rds: 'reviews-routes' })]);
  const clusters = Object.keys(split);
  ads.set(TYPE_URL.routeConfiguration, [
    routeConfig('reviews-routes', [
      {
        name: 'reviews',
        domains: ['reviews.default.svc.cluster.local', 'reviews.default.svc.cluster.local:9080', 'reviews'],
        routes: [
          {
            match: { prefix: '/' },
            route:
              clusters.length === 1
                ? { cluster: clusters[0] }
                : { weighted_clusters: { clusters: clusters.map((c) => ({ name: c, weight: { value: split[c] } })) } },
          },
        ],
      },
    ]),
  ]);
  ads.set(TYPE_URL.cluster, clusters.map((c) => cluster(c)));
  ads.set(TYPE_URL.clusterLoadAssignment, clusters.map((c) => endpoints(c, [ports[c]!])));
}

async function body(m: Mesh, url: string): Promise<string> {
  try {
    const res = await m.request(url);
    const text = await res.body.text();
    return `${res.statusCode}:${text}`;
  } catch (err) {
    return isMeshError(err) ? `${err.code}:${err.message}` : `error:${String(err)}`;
  }
}

async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('routes requests to the cluster the control plane names, and ACKs each type', async () => {
  const v1: TestServer = await startServer('v1');
  const ads = await adsServer();
  serve(ads, { 'reviews-v1': 100 }, { 'reviews-v1': v1.port });
  const m = meshOn(ads);
  await m.ready();
  expect(await body(m, 'http://reviews:9080/x')).toContain('v1');
  expect(await body(m, 'http://reviews.default.svc.cluster.local:9080/x')).toContain('v1');
  for (const type of [TYPE_URL.listener, TYPE_URL.routeConfiguration, TYPE_URL.cluster, TYPE_URL.clusterLoadAssignment]) {
    expect(ads.acks(type, '1').length).toBeGreaterThan(0);
  }
  const status = m.xdsStatus();
  expect(status?.state).toBe('connected');
  expect(status?.types.cluster.version).toBe('1');
  expect(status?.types.cluster.received).toEqual(['reviews-v1']);
  expect(ads.requests[0]?.node?.id).toBe('test-node');
  expect(ads.requests[0]?.node?.metadata?.fields.NAMESPACE?.stringValue).toBe('default');
});

async function tally(m: Mesh, url: string, total: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let i = 0; i < total; i++) {
    const key = await body(m, url);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

test('a canary split follows the control plane, and shifting it fails no request', async () => {
  const v1 = await startServer('v1');
  const v2 = await startServer('v2');
  const ads = await adsServer();
  const ports = { 'reviews-v1': v1.port, 'reviews-v2': v2.port };
  serve(ads, { 'reviews-v1': 100 }, ports);
  const m = meshOn(ads);
  await m.ready();

  // Shift to 80/20 onto a cluster the client has never seen, while requests flow.
  let failures = 0;
  let stop = false;
  const traffic = (async () => {
    while (!stop) if (!(await body(m, 'http://reviews:9080/')).startsWith('200:')) failures++;
  })();
  serve(ads, { 'reviews-v1': 80, 'reviews-v2': 20 }, ports);
  await until(() => m.xdsStatus()?.types.endpoints.received.includes('reviews-v2') === true, 'v2 endpoints');
  await until(async () => (await body(m, 'http://reviews:9080/')).includes('v2'), 'traffic to v2');
  stop = true;
  await traffic;
  expect(failures).toBe(0);

  const counts = await tally(m, 'http://reviews:9080/', 1000);
  const share = (counts.get('200:v2') ?? 0) / 1000;
  expect(share).toBeGreaterThan(0.14);
  expect(share).toBeLessThan(0.26);
  expect((counts.get('200:v1') ?? 0) + (counts.get('200:v2') ?? 0)).toBe(1000);
});

test('a bad route update is NACKed with the resource and field, and serving goes on unchanged', async () => {
  const v1 = await startServer('v1');
  const ads = await adsServer();
  serve(ads, { 'reviews-v1': 100 }, { 'reviews-v1': v1.port });
  const m = meshOn(ads);
  await m.ready();

  ads.set(TYPE_URL.routeConfiguration, [
    routeConfig('reviews-routes', [
      {
        name: 'reviews',
        domains: ['*'],
        routes: [
          {
            match: { prefix: '/' },
            route: { cluster: 'reviews-v1', retry_policy: { retry_on: '5xx', num_retries: { value: 50 } } },
          },
        ],
      },
    ]),
  ]);
  await until(() => ads.nacks(TYPE_URL.routeConfiguration).length > 0, 'a NACK');
  const nack = ads.nacks(TYPE_URL.routeConfiguration)[0]!;
  expect(nack.error_detail?.message).toContain('RouteConfiguration "reviews-routes"');
  expect(nack.error_detail?.message).toContain('virtual_hosts[0].routes[0]');
  expect(nack.error_detail?.message).toContain('retries.attempts');
  expect(nack.error_detail?.message).toContain('from 0 to 10');
  // The NACK carries the last accepted version and the rejected response's nonce.
  expect(nack.version_info).toBe('1');
  expect(nack.response_nonce).not.toBe('');

  expect(await body(m, 'http://reviews:9080/')).toBe('200:v1');
  const status = m.xdsStatus()!;
  expect(status.types.route.version).toBe('1');
  expect(status.types.route.lastNack?.version).toBe('2');
  expect(status.types.route.lastNack?.message).toContain('retries.attempts');
});

test('keeps serving while the control plane is away, reconnects, and takes updates again', async () => {
  const v1 = await startServer('v1');
  const v2 = await startServer('v2');
  const ads = await adsServer();
  const ports = { 'reviews-v1': v1.port, 'reviews-v2': v2.port };
  serve(ads, { 'reviews-v1': 100 }, ports);
  const m = meshOn(ads);
  await m.ready();
  expect(m.xdsStatus()?.streamsOpened).toBe(1);

  for (let round = 0; round < 4; round++) {
    await ads.stop();
    await until(() => m.xdsStatus()?.state === 'reconnecting', 'the client to notice');
    for (let i = 0; i < 20; i++) expect(await body(m, 'http://reviews:9080/')).toBe('200:v1');
    await ads.start();
    serve(ads, { 'reviews-v1': 100 }, ports);
    await until(() => m.xdsStatus()?.state === 'connected', 'reconnection');
  }
  // Resubscribed with the versions it had accepted: no NACK, no lost state.
  expect(ads.nacks()).toEqual([]);
  const resumed = ads.requests.filter((r) => r.type_url === TYPE_URL.listener && r.response_nonce === '');
  expect(resumed.length).toBeGreaterThanOrEqual(5);
  expect(resumed.at(-1)?.version_info).not.toBe('');

  // An update after the reconnects is applied.
  serve(ads, { 'reviews-v2': 100 }, ports);
  await until(async () => (await body(m, 'http://reviews:9080/')) === '200:v2', 'the update after reconnecting');
});

test('a listener the control plane does not have fails requests with a typed error', async () => {
  const ads = await adsServer();
  ads.set(TYPE_URL.listener, []);
  // gRPC's does-not-exist timer, shortened (the 15 s default is tested with fake timers in the unit tests).
  const m = meshOn(ads, { resourceTimeoutMs: 300 });
  await m.ready();
  const answer = await body(m, 'http://reviews:9080/');
  expect(answer).toMatch(/^MESH_DISCOVERY_FAILED:.*xDS listener "reviews\.default\.svc\.cluster\.local:9080" does not exist/);
  expect(m.xdsStatus()?.types.listener.absent).toEqual([LISTENER]);
});

test('a cluster removed from the full CDS state fails its requests with a typed error', async () => {
  const v1 = await startServer('v1');
  const ads = await adsServer();
  serve(ads, { 'reviews-v1': 100 }, { 'reviews-v1': v1.port });
  const m = meshOn(ads);
  await m.ready();
  ads.set(TYPE_URL.cluster, []);
  await until(() => m.xdsStatus()?.types.cluster.absent.includes('reviews-v1') === true, 'the cluster to be absent');
  await until(async () => (await body(m, 'http://reviews:9080/')).startsWith('MESH_'), 'requests to fail');
  expect(await body(m, 'http://reviews:9080/')).toMatch(/^MESH_DISCOVERY_FAILED:.*xDS cluster "reviews-v1" does not exist/);
});

test('what the client was told shows in /config_dump and /metrics', async () => {
  const v1 = await startServer('v1');
  const ads = await adsServer();
  serve(ads, { 'reviews-v1': 100 }, { 'reviews-v1': v1.port });
  const m = createMesh({
    env: false,
    logger: { info() {}, warn() {}, error() {} },
    admin: { port: 0 },
    xds: {
      bootstrap: JSON.stringify({ xds_servers: [{ server_uri: ads.address, channel_creds: [{ type: 'insecure' }] }], node: { id: 'n-admin' } }),
      listeners: [LISTENER],
    },
  });
  meshes.push(m);
  await m.ready();
  ads.set(TYPE_URL.cluster, [cluster('reviews-v1', { lb_policy: 'CLUSTER_PROVIDED' })]);
  await until(() => m.xdsStatus()?.types.cluster.lastNack !== null, 'the NACK');
  const admin = (await m.adminAddress())!;
  const dump = (await (await request(`http://127.0.0.1:${admin.port}/config_dump`)).body.json()) as {
    xds: { nodeId: string; state: string; types: Record<string, { version: string; lastNack: { message: string } | null }> };
    sources: { layer: string; source: string }[];
  };
  expect(dump.xds.nodeId).toBe('n-admin');
  expect(dump.xds.state).toBe('connected');
  expect(dump.xds.types.listener?.version).toBe('1');
  expect(dump.xds.types.cluster?.lastNack?.message).toContain('Cluster "reviews-v1": lb_policy: CLUSTER_PROVIDED is not supported');
  expect(dump.sources.some((s) => s.layer === 'xds' && s.source === `xds ${ads.address}`)).toBe(true);
  const metrics = await (await request(`http://127.0.0.1:${admin.port}/metrics`)).body.text();
  expect(metrics).toMatch(/proxyless_xds_updates_total\{type="cluster",result="accepted"\} 1/);
  expect(metrics).toMatch(/proxyless_xds_updates_total\{type="cluster",result="rejected"\} 1/);
  expect(metrics).toMatch(/proxyless_xds_connected 1/);
});

test('the environment turns the client on; a bad bootstrap is a ConfigError naming the field', async () => {
  expect(() =>
    createMesh({ env: { GRPC_XDS_BOOTSTRAP_CONFIG: JSON.stringify({ xds_servers: [{ server_uri: 'cp:1' }] }), MESH_XDS_LISTENERS: 'a:1' } }),
  ).toThrow(/invalid config from GRPC_XDS_BOOTSTRAP_CONFIG: xds_servers\[0\]\.channel_creds: must list at least one credential type/);
  expect(() => createMesh({ env: { MESH_XDS_SERVER: '127.0.0.1:1' } })).toThrow(/MESH_XDS_LISTENERS: names no listener/);

  const v1 = await startServer('v1');
  const ads = await adsServer();
  serve(ads, { 'reviews-v1': 100 }, { 'reviews-v1': v1.port });
  const m = createMesh({
    env: { MESH_XDS_SERVER: ads.address, MESH_XDS_LISTENERS: LISTENER, MESH_XDS_NODE_ID: 'from-env' },
    logger: { info() {}, warn() {}, error() {} },
  });
  meshes.push(m);
  await m.ready();
  expect(await body(m, 'http://reviews.default:9080/')).toBe('200:v1');
  expect(m.xdsStatus()?.nodeId).toBe('from-env');
  const off = createMesh({ env: { MESH_XDS_SERVER: ads.address }, xds: false });
  meshes.push(off);
  expect(off.xdsStatus()).toBeUndefined();
});

test('an EDS update moves traffic to the new endpoints without a config change', async () => {
  const v1 = await startServer('v1');
  const v2 = await startServer('v2');
  const ads = await adsServer();
  serve(ads, { 'reviews-v1': 100 }, { 'reviews-v1': v1.port });
  const m = meshOn(ads);
  await m.ready();
  const configVersion = m.config.current.version;
  ads.set(TYPE_URL.clusterLoadAssignment, [endpoints('reviews-v1', [v2.port], () => ({ load_balancing_weight: { value: 5 } }))]);
  await until(async () => (await body(m, 'http://reviews:9080/')) === '200:v2', 'traffic to the new endpoint');
  expect(m.config.current.version).toBe(configVersion);
  const upstream = m.destinations.get('reviews-v1')?.upstreams[0];
  expect(upstream?.key).toBe(`127.0.0.1:${v2.port}`);
  expect(upstream?.endpoint.region).toBe('r1');
  expect(upstream?.endpoint.weight).toBe(5);
});

test("locality weights a control plane writes (istiod's distribute) share the traffic; weights that are only the localities' sizes leave the zone order", async () => {
  const servers = Object.fromEntries(await Promise.all(['zone-a', 'zone-b', 'zone-c'].map(async (n) => [n, await startServer(n)] as const)));
  const ads = await adsServer();
  serve(ads, { 'reviews-v1': 100 }, { 'reviews-v1': servers['zone-a']!.port });
  const assignment = (weights: Record<string, number>) =>
    packAny(TYPE_URL.clusterLoadAssignment, {
      cluster_name: 'reviews-v1',
      endpoints: Object.entries(weights).map(([zone, weight]) => ({
        locality: { region: 'r1', zone },
        load_balancing_weight: { value: weight },
        lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: servers[zone]!.port } } } }],
      })),
    });
  ads.set(TYPE_URL.clusterLoadAssignment, [assignment({ 'zone-a': 1, 'zone-b': 1, 'zone-c': 1 })]);
  const m = createMesh({
    env: false,
    logger: { info() {}, warn() {}, error() {} },
    config: { mesh: { region: 'r1', zone: 'zone-a' } },
    xds: {
      bootstrap: JSON.stringify({ xds_servers: [{ server_uri: ads.address, channel_creds: [{ type: 'insecure' }] }], node: { id: 'weights' } }),
      listeners: [LISTENER],
    },
  });
  meshes.push(m);
  await m.ready();
  // One endpoint per locality, each locality weighing 1: sizes, not a split. The mesh keeps to its own zone.
  expect([...(await tally(m, 'http://reviews:9080/', 40)).keys()]).toEqual(['200:zone-a']);

  // As istiod writes it for a client in zone-a under distribute {zone-a: 75, zone-b: 25}: weights, and zone-c left out.
  ads.set(TYPE_URL.clusterLoadAssignment, [assignment({ 'zone-a': 75, 'zone-b': 25 })]);
  await until(async () => (await tally(m, 'http://reviews:9080/', 40)).has('200:zone-b'), 'the split to apply');
  const counts = await tally(m, 'http://reviews:9080/', 400);
  // 75% of 400 is 300 (sd 8.7).
  expect([...counts.keys()].sort()).toEqual(['200:zone-a', '200:zone-b']);
  expect(counts.get('200:zone-a')).toBeGreaterThan(260);
  expect(counts.get('200:zone-a')).toBeLessThan(340);
  expect(m.destinations.get('reviews-v1')?.upstreams.find((u) => u.endpoint.zone === 'zone-b')?.endpoint.localityWeight).toBe(25);
});
