/**
 * What xDS routes do to real requests: header matches, the fault filter's
 * default and a per-route override, and malformed resources NACKed while
 * serving goes on. Real ADS server, real upstreams, all on port 0.
 */
import { afterEach, expect, test } from 'vitest';
import { createMesh, isMeshError, type Mesh } from '../../src/index.js';
import { cluster, endpoints, faultFilter, listener, packAny, routeConfig, TestAdsServer, TYPE_URL } from '../helpers/ads-server.js';
import { closeServers, startServer } from '../helpers/versioned-server.js';

const LISTENER = 'reviews:9080';
const FILTER_CONFIG_URL = 'type.googleapis.com/envoy.config.route.v3.FilterConfig';
let mesh: Mesh | undefined;
let ads: TestAdsServer | undefined;

afterEach(async () => {
  await mesh?.destroy();
  await ads?.stop();
  await closeServers();
});

async function body(m: Mesh, url: string, headers?: Record<string, string>): Promise<string> {
  try {
    const res = await m.request(url, headers ? { headers } : undefined);
    return `${res.statusCode}:${await res.body.text()}`;
  } catch (err) {
    return isMeshError(err) ? err.code : String(err);
  }
}

async function until(check: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function setUp(): Promise<Mesh> {
  const v1 = await startServer('v1');
  const v2 = await startServer('v2');
  ads = new TestAdsServer();
  await ads.start(0);
  // The fault filter aborts everything by default; routes opt out with a disabled FilterConfig.
  const noFault = packAny(FILTER_CONFIG_URL, { disabled: true });
  ads.set(TYPE_URL.listener, [listener(LISTENER, { rds: 'r' }, [faultFilter({ abort: { http_status: 418, percentage: { numerator: 100 } } })])]);
  ads.set(TYPE_URL.routeConfiguration, [
    routeConfig('r', [
      {
        name: 'vh',
        domains: ['reviews:9080'],
        routes: [
          { match: { prefix: '/', headers: [{ name: 'x-user', string_match: { exact: 'tester' } }] }, route: { cluster: 'v2' }, typed_per_filter_config: { fault: noFault } },
          { match: { prefix: '/teapot' }, route: { cluster: 'v1' } },
          { match: { prefix: '/' }, route: { cluster: 'v1' }, typed_per_filter_config: { fault: noFault } },
        ],
      },
    ]),
  ]);
  ads.set(TYPE_URL.cluster, [cluster('v1'), cluster('v2')]);
  ads.set(TYPE_URL.clusterLoadAssignment, [endpoints('v1', [v1.port]), endpoints('v2', [v2.port])]);
  mesh = createMesh({
    env: false,
    logger: { info() {}, warn() {}, error() {} },
    xds: {
      bootstrap: JSON.stringify({ xds_servers: [{ server_uri: ads.address, channel_creds: [{ type: 'insecure' }] }] }),
      listeners: [LISTENER],
    },
  });
  await mesh.ready();
  return mesh;
}

test('header matches pick the cluster; the fault filter default applies unless a route disables it', async () => {
  const m = await setUp();
  expect(await body(m, 'http://reviews:9080/a', { 'x-user': 'tester' })).toBe('200:v2');
  expect(await body(m, 'http://reviews:9080/a')).toBe('200:v1');
  expect((await body(m, 'http://reviews:9080/teapot')).startsWith('418')).toBe(true);
});

test('malformed bytes and unknown types are NACKed by name; serving goes on', async () => {
  const m = await setUp();
  const server = ads!;
  server.pushRaw(TYPE_URL.cluster, [{ type_url: TYPE_URL.cluster, value: Buffer.from([0xff, 0xff, 0xff]) }], 'broken');
  await until(() => server.nacks(TYPE_URL.cluster).length > 0, 'a CDS NACK');
  expect(server.nacks(TYPE_URL.cluster)[0]?.error_detail?.message).toMatch(/^Cluster resources\[0\]: does not decode as Cluster/);

  server.pushRaw(TYPE_URL.cluster, [packAny(TYPE_URL.listener, { name: 'oops' })], 'mixed');
  await until(() => server.nacks(TYPE_URL.cluster).length > 1, 'a second CDS NACK');
  expect(server.nacks(TYPE_URL.cluster)[1]?.error_detail?.message).toContain(
    `Cluster resources[0]: type_url: is "${TYPE_URL.listener}"; this response is for ${TYPE_URL.cluster}`,
  );

  server.pushRaw(TYPE_URL.cluster, [cluster('v1', { lb_policy: 'CLUSTER_PROVIDED' }), cluster('v2')], 'bad-lb');
  await until(() => server.nacks(TYPE_URL.cluster).length > 2, 'a third CDS NACK');
  expect(server.nacks(TYPE_URL.cluster)[2]?.error_detail?.message).toBe(
    'Cluster "v1": lb_policy: CLUSTER_PROVIDED is not supported; use ROUND_ROBIN, LEAST_REQUEST, RING_HASH, MAGLEV or RANDOM',
  );

  server.pushRaw('type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig', [], 'x');
  await until(() => server.nacks('type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig').length > 0, 'an unknown-type NACK');

  expect(await body(m, 'http://reviews:9080/a')).toBe('200:v1');
  expect(await body(m, 'http://reviews:9080/a', { 'x-user': 'tester' })).toBe('200:v2');
  const status = m.xdsStatus()!;
  expect(status.types.cluster.version).toBe('1');
  expect(status.types.cluster.lastNack?.version).toBe('bad-lb');
});

test('a cluster the merged config cannot take is NACKed naming the cluster, and serving goes on', async () => {
  const m = await setUp();
  const server = ads!;
  // mTLS to v1, but this mesh has no workload certificate: the config layer rejects it.
  const mutual = packAny('type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', {
    common_tls_context: { tls_certificate_provider_instance: { instance_name: 'default' } },
  });
  server.set(TYPE_URL.cluster, [cluster('v1', { transport_socket: { name: 'tls', typed_config: mutual } }), cluster('v2')]);
  await until(() => server.nacks(TYPE_URL.cluster).length > 0, 'a CDS NACK');
  const message = server.nacks(TYPE_URL.cluster)[0]?.error_detail?.message ?? '';
  expect(message).toContain('services.v1.tls.mode: "mutual" needs a workload certificate');
  expect(m.xdsStatus()?.types.cluster.version).toBe('1');
  expect(await body(m, 'http://reviews:9080/a')).toBe('200:v1');
});
