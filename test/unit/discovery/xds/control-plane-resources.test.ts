/**
 * What proxyless's own control plane serves (src/control, buildSnapshot)
 * decodes here without a NACK, and means the same thing: the client half
 * and the server half agree on the wire.
 */
import { expect, test } from 'vitest';
import { validateConfig } from '../../../../src/config/validate.js';
import { buildSnapshot } from '../../../../src/control/snapshot.js';
import { decodeCluster } from '../../../../src/discovery/xds/decode-cluster.js';
import { decodeEndpoints } from '../../../../src/discovery/xds/decode-endpoints.js';
import { decodeListener } from '../../../../src/discovery/xds/decode-listener.js';
import { decodeResources } from '../../../../src/discovery/xds/decode-response.js';
import { decodeRouteConfiguration } from '../../../../src/discovery/xds/decode-route.js';
import { TYPE_URL, unpackAny } from '../../../../src/discovery/xds/envoy-protos.js';

test('every resource of a rich config decodes, and the routes and clusters mean what the config says', () => {
  const config = validateConfig(
    {
      services: {
        reviews: {
          port: 9080,
          endpoints: [
            { address: '10.0.0.1', labels: { version: 'v1' } },
            { address: '10.0.0.2', labels: { version: 'v2' } },
          ],
          subsets: { v1: { labels: { version: 'v1' } }, v2: { labels: { version: 'v2' } } },
          loadBalancer: { policy: 'peak-ewma', warmup: { duration: '45s', aggression: 1.5 }, failover: [{ from: 'eu', to: 'us' }] },
          connectionPool: { maxConnections: 10, idleTimeout: '90s', maxRequestsPerConnection: 100, tcpKeepalive: { time: '5m' } },
          routes: [
            {
              match: [{ uri: { prefix: '/api' }, headers: { 'x-user': { exact: 'tester' }, 'x-debug': { absent: true } } }],
              route: [{ destination: { subset: 'v2' } }],
              retries: { attempts: 2, perTryTimeout: '1s' },
              timeout: '3s',
              fault: { abort: { percentage: 5, httpStatus: 503 } },
            },
            {
              match: [{ uri: { exact: '/old' } }],
              rewrite: { uri: '/new' },
              route: [{ destination: { subset: 'v1' } }],
              fault: { abort: { percentage: 1, grpcStatus: 'UNAVAILABLE' } },
            },
            { match: [{ uri: { prefix: '/closed' } }], directResponse: { status: 503, body: 'closed' } },
            {
              match: [{ uri: { prefix: '/admin' }, method: 'POST', authority: { prefix: 'reviews.' } }],
              route: [{ destination: { subset: 'v2' } }],
            },
            {
              match: [{ uri: { prefix: '/shadowed' } }],
              route: [{ destination: { subset: 'v1' } }],
              mirrors: [{ destination: { subset: 'v2' } }, { destination: { subset: 'v1' }, percentage: 5 }],
            },
            {
              match: [{ uri: { prefix: '/users/' } }],
              rewrite: { uriRegexRewrite: { match: '^/users/([0-9]+)$', rewrite: '/u/\\1' } },
              route: [{ destination: { subset: 'v1' } }],
            },
            {
              route: [
                { destination: { subset: 'v1' }, weight: 90 },
                { destination: { subset: 'v2' }, weight: 10 },
              ],
            },
          ],
        },
      },
    },
    'test',
  );
  const snapshot = buildSnapshot(config, '1');
  const problems: string[] = [];
  const warn = () => {};
  const all = <T>(type: string, decode: (raw: Record<string, unknown>) => { name: string; value: T }) => {
    const list = [...(snapshot.resources.get(type as never)?.values() ?? [])].map((r) => r.any);
    const out = decodeResources(type, list, (raw) => decode(raw), warn);
    problems.push(...out.errors);
    return out.received;
  };
  const listeners = all(TYPE_URL.listener, (raw) => ({ name: String(raw.name), value: decodeListener(raw, warn) }));
  const routes = all(TYPE_URL.routeConfiguration, (raw) => ({ name: String(raw.name), value: decodeRouteConfiguration(raw, warn) }));
  const clusters = all(TYPE_URL.cluster, (raw) => ({ name: String(raw.name), value: decodeCluster(raw, warn) }));
  const eds = all(TYPE_URL.clusterLoadAssignment, (raw) => {
    const value = decodeEndpoints(raw, warn);
    return { name: value.clusterName, value };
  });
  expect(problems).toEqual([]);
  expect(listeners.size).toBeGreaterThan(0);

  const rc = [...routes.values()][0]!;
  const [api, old, closed, admin, shadowed, users, split] = rc.virtualHosts[0]!.routes;
  // Method and authority travel as :method and :authority header matchers, as istiod writes them, and come back as themselves.
  expect(admin!.route.match).toEqual([{ uri: { prefix: '/admin' }, method: { exact: 'POST' }, authority: { prefix: 'reviews.' } }]);
  expect((shadowed!.route.mirrors as { percentage: number }[]).map((m) => m.percentage)).toEqual([100, 5]);
  expect(shadowed!.clusters.filter((c) => c.includes('|v2|'))).toHaveLength(1);
  expect(users!.route.rewrite).toEqual({ uriRegexRewrite: { match: '^/users/([0-9]+)$', rewrite: '/u/\\1' } });
  expect(closed!.route.directResponse).toEqual({ status: 503, body: 'closed' });
  const match = (api!.route.match as Record<string, unknown>[])[0] as { headers: Record<string, unknown> };
  expect(match.headers['x-user']).toEqual({ exact: 'tester' });
  expect(match.headers['x-debug']).toEqual({ absent: true });
  expect(api!.route.retries).toMatchObject({ attempts: 2, perTryTimeout: 1000 });
  expect(api!.route.timeout).toBe(3000);
  expect(api!.fault).toEqual({ abort: { percentage: 5, httpStatus: 503 } });
  expect(old!.route.rewrite).toEqual({ uri: '/new' });
  expect(old!.fault).toEqual({ abort: { percentage: 1, grpcStatus: 14 } });
  expect((split!.route.route as { weight: number }[]).map((d) => d.weight)).toEqual([90, 10]);

  // The exact model settings travel in the cluster metadata: peak-EWMA survives lb_policy's ROUND_ROBIN.
  const v1 = [...clusters.values()].find((c) => c.name.includes('|v1|'))!;
  expect(v1.loadBalancers).toMatchObject([{ policy: 'peak-ewma', warmup: { duration: 45_000, aggression: 1.5 }, failover: [{ from: 'eu', to: 'us' }] }]);
  // The ramp is in Envoy's own field too, for clients that read no metadata (Envoy, istiod's consumers).
  const rawV1 = [...(snapshot.resources.get(TYPE_URL.cluster as never)?.values() ?? [])]
    .map((r) => unpackAny(r.any.type_url, r.any.value))
    .find((raw) => String(raw.name).includes('|v1|'))!;
  delete rawV1.metadata;
  expect(decodeCluster(rawV1, warn).loadBalancers).toEqual([{ policy: 'round-robin', warmup: { duration: 45_000, aggression: 1.5 } }]);
  expect(v1.settings.connectionPool).toMatchObject({ maxConnections: 10, idleTimeout: 90_000, maxRequestsPerConnection: 100, tcpKeepalive: { time: 300_000 } });
  expect(v1.source.kind).toBe('eds');
  const v1Endpoints = eds.get((v1.source as { serviceName: string }).serviceName)!;
  expect(v1Endpoints.endpoints.map((e) => e.address)).toEqual(['10.0.0.1']);
});
