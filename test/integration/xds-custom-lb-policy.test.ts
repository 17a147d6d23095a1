/**
 * A custom load-balancing policy selected by the control plane, end to end
 * (gRFC A52): a real ADS server on port 0 sends a Cluster whose
 * `load_balancing_policy` names custom policies in TypedStructs, a mesh with
 * one of them registered balances real HTTP requests to real upstreams with
 * it, and its factory gets the TypedStruct's config. A cluster naming none
 * the mesh has is NACKed and the last good config keeps serving.
 */
import { afterEach, expect, test } from 'vitest';
import { createMesh, type Mesh, type PickerFactory, type PickerOptions } from '../../src/index.js';
import { cluster, endpoints, listener, packAny, routeConfig, TestAdsServer, TYPE_URL } from '../helpers/ads-server.js';
import { closeServers, startServer } from '../helpers/versioned-server.js';

const LISTENER = 'reviews.default.svc.cluster.local:9080';
const CLUSTER = 'reviews-cluster';
const ROUND_ROBIN = 'type.googleapis.com/envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin';
const WRR_LOCALITY = 'type.googleapis.com/envoy.extensions.load_balancing_policies.wrr_locality.v3.WrrLocality';

const meshes: Mesh[] = [];
const adsServers: TestAdsServer[] = [];

afterEach(async () => {
  await Promise.all(meshes.splice(0).map((m) => m.destroy()));
  await Promise.all(adsServers.splice(0).map((s) => s.stop()));
  await closeServers();
});

/** Always the endpoint on the port its config names: unlike any built-in, so where traffic goes shows which policy ran with which config. */
function preferPort(seen: PickerOptions[]): PickerFactory {
  return (list, options) => {
    seen.push(options);
    const port = (options.config as { target: { port: number } } | undefined)?.target.port;
    const chosen = list.find((e) => e.key.endsWith(`:${port}`)) ?? list[0];
    return { size: list.length, pick: () => chosen };
  };
}

/** A Struct in protobufjs's spelling of the bundled struct.proto. */
function struct(obj: Record<string, number | string>): Record<string, unknown> {
  return { fields: Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, typeof v === 'number' ? { numberValue: v } : { stringValue: v }])) };
}

function customPolicy(name: string, config: Record<string, unknown>) {
  const typedStruct = packAny('type.googleapis.com/xds.type.v3.TypedStruct', { type_url: `type.googleapis.com/${name}`, value: config });
  return { typed_extension_config: { name, typed_config: typedStruct } };
}

function serve(ads: TestAdsServer, ports: number[], policies: unknown[]): void {
  ads.set(TYPE_URL.listener, [listener(LISTENER, { rds: 'reviews-routes' })]);
  ads.set(TYPE_URL.routeConfiguration, [
    routeConfig('reviews-routes', [{ name: 'reviews', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: CLUSTER } }] }]),
  ]);
  ads.set(TYPE_URL.cluster, [cluster(CLUSTER, { lb_policy: undefined, load_balancing_policy: { policies } })]);
  ads.set(TYPE_URL.clusterLoadAssignment, [endpoints(CLUSTER, ports)]);
}

async function startMesh(ads: TestAdsServer, balancers: Record<string, PickerFactory>): Promise<Mesh> {
  const m = createMesh({
    env: false,
    logger: { info() {}, warn() {}, error() {} },
    balancers,
    xds: {
      bootstrap: JSON.stringify({
        xds_servers: [{ server_uri: ads.address, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
        node: { id: 'custom-lb-node', cluster: 'test', metadata: { NAMESPACE: 'default' } },
      }),
      listeners: [LISTENER],
      backoff: { baseMs: 50, maxMs: 200 },
    },
  });
  meshes.push(m);
  await m.ready();
  return m;
}

async function adsServer(): Promise<TestAdsServer> {
  const s = new TestAdsServer();
  await s.start(0);
  adsServers.push(s);
  return s;
}

async function served(m: Mesh, n: number): Promise<Set<string>> {
  const names = new Set<string>();
  for (let i = 0; i < n; i++) {
    const res = await m.request('http://reviews:9080/');
    names.add(await res.body.text());
  }
  return names;
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('the first registered policy the Cluster lists balances requests, with its TypedStruct config; a new config rebuilds the picker', async () => {
  const [a, b, c] = await Promise.all([startServer('a'), startServer('b'), startServer('c')]);
  const ads = await adsServer();
  const policies = (port: number) => [
    // Not registered in this mesh: skipped, as grpc-go skips it.
    customPolicy('myorg.NotHere', struct({ target: 'x' })),
    { typed_extension_config: { name: 'wrr', typed_config: packAny(WRR_LOCALITY, { endpoint_picking_policy: { policies: [customPolicy('myorg.PreferPort', { fields: { target: { structValue: struct({ port }) } } })] } }) } },
    { typed_extension_config: { name: 'rr', typed_config: packAny(ROUND_ROBIN, {}) } },
  ];
  serve(ads, [a!.port, b!.port, c!.port], policies(b!.port));
  const seen: PickerOptions[] = [];
  const m = await startMesh(ads, { 'myorg.PreferPort': preferPort(seen) });

  expect(await served(m, 9)).toEqual(new Set(['b']));
  // The cluster is a service of its own name, which the listener's route sends to.
  expect(m.destinations.get(CLUSTER)!.loadBalancerPolicy).toBe('myorg.PreferPort');
  expect(seen.at(-1)?.config).toEqual({ target: { port: b!.port } });
  expect(ads.nacks()).toEqual([]);

  // Only the config changes: the picker is rebuilt with the new one.
  serve(ads, [a!.port, b!.port, c!.port], policies(c!.port));
  await until(async () => (await served(m, 1)).has('c'), 'requests to follow the new config');
  expect(await served(m, 9)).toEqual(new Set(['c']));
  expect(seen.at(-1)?.config).toEqual({ target: { port: c!.port } });
});

test('a Cluster naming no policy the mesh has is NACKed naming the cluster and the policies tried; the last good config keeps serving', async () => {
  const [a, b] = await Promise.all([startServer('a'), startServer('b')]);
  const ads = await adsServer();
  serve(ads, [a!.port, b!.port], [customPolicy('myorg.PreferPort', { fields: { target: { structValue: struct({ port: a!.port }) } } })]);
  const m = await startMesh(ads, { 'myorg.PreferPort': preferPort([]) });
  expect(await served(m, 4)).toEqual(new Set(['a']));

  serve(ads, [a!.port, b!.port], [customPolicy('myorg.Missing', struct({})), customPolicy('myorg.AlsoMissing', struct({}))]);
  await until(() => ads.nacks(TYPE_URL.cluster).length > 0, 'a NACK');
  const message = ads.nacks(TYPE_URL.cluster)[0]!.error_detail!.message;
  expect(message).toContain(`Cluster "${CLUSTER}" lists load-balancing policies "myorg.Missing", "myorg.AlsoMissing", and none is registered in this mesh`);
  expect(message).toMatch(/^invalid config from xds 127\.0\.0\.1:\d+: services\.reviews-cluster\.loadBalancer\.policy: /);
  expect(m.xdsStatus()?.types.cluster.lastNack?.message).toBe(message);
  // Recorded by the mesh as any rejected config is, beside the NACK.
  expect(m.config.lastRejection).toMatchObject({ layer: 'xds', error: { message } });
  expect(await served(m, 4)).toEqual(new Set(['a']));
});
