/** Translation into the config layer: naming, and no dangling references while clusters are on their way. */
import { expect, test } from 'vitest';
import { validateConfig } from '../../../../src/config/validate.js';
import { decodeRouteConfiguration } from '../../../../src/discovery/xds/decode-route.js';
import { clusterServiceName, istioClusterService, listenerServiceKeys, listenerTarget, sameServiceListeners } from '../../../../src/discovery/xds/names.js';
import { selectVirtualHosts, translate } from '../../../../src/discovery/xds/translate.js';

test('listener names: istiod FQDN, short host:port and plain host', () => {
  expect(listenerTarget('reviews.default.svc.cluster.local:9080')).toEqual({
    service: 'reviews',
    host: 'reviews.default.svc.cluster.local',
    port: 9080,
    namespace: 'default',
    authorities: ['reviews.default.svc.cluster.local:9080', 'reviews.default.svc.cluster.local'],
  });
  expect(listenerTarget('reviews:9080')).toMatchObject({ service: 'reviews', namespace: undefined, port: 9080 });
  expect(listenerTarget('api.example.com')).toMatchObject({ service: 'api', host: 'api.example.com', port: undefined });
});

test('cluster names become DNS labels, hashed when they do not fit or collide', () => {
  expect(clusterServiceName('reviews-v1', new Set())).toBe('reviews-v1');
  expect(clusterServiceName('reviews', new Set(['reviews']))).toMatch(/^xds-reviews-[0-9a-f]{8}$/);
  const istio = clusterServiceName('outbound|9080|v1|reviews.default.svc.cluster.local', new Set());
  expect(istio).toMatch(/^xds-outbound-9080-v1-reviews-default-svc-cluster-[0-9a-f]{8}$/);
  expect(istio.length).toBeLessThanOrEqual(63);
});

test('a translation is a valid config even before any cluster arrived', () => {
  const rc = decodeRouteConfiguration(
    {
      name: 'r',
      virtual_hosts: [
        {
          name: 'vh',
          domains: ['*'],
          routes: [
            {
              match: { prefix: '/', path_specifier: 'prefix' },
              action: 'route',
              route: { cluster_specifier: 'cluster', cluster: 'outbound|9080|v1|reviews.default.svc.cluster.local', hash_policy: [{ policy_specifier: 'header', header: { header_name: 'x-user' } }] },
            },
          ],
        },
      ],
    },
    () => {},
  );
  const res = {
    listenerNames: ['reviews.default.svc.cluster.local:9080'],
    listeners: new Map([['reviews.default.svc.cluster.local:9080', { name: 'l', rdsName: 'r', inlineRoutes: undefined, fault: undefined, maxStreamDurationMs: 30_000 }]]),
    routes: new Map([['r', rc]]),
    clusters: new Map(),
  };
  const t = translate(res, selectVirtualHosts(res), () => {});
  const config = validateConfig(t.config, 'xds');
  const reviews = config.services.reviews!;
  expect(reviews.namespace).toBe('default');
  expect(reviews.port).toBe(9080);
  expect(reviews.discovery).toBe('xds:listener/reviews.default.svc.cluster.local:9080');
  const target = reviews.routes![0]!.route![0]!.destination.service!;
  expect(config.services[target]?.discovery).toBe('xds:cluster/outbound|9080|v1|reviews.default.svc.cluster.local');
  // The route's hash policy lands on the cluster it hashes for; the HCM's max_stream_duration is the route's timeout.
  expect(config.services[target]?.loadBalancer?.hashOn).toEqual({ header: 'x-user' });
  expect(reviews.routes![0]!.timeout).toBe(30_000);
  // The Istio-named cluster reports as the Service it names, in that Service's namespace.
  expect(config.services[target]).toMatchObject({ reportAs: 'reviews', namespace: 'default' });
});

test('an Istio-named cluster names its Service; other names name none', () => {
  expect(istioClusterService('outbound|9080|v1|reviews.default.svc.cluster.local')).toEqual({ name: 'reviews', namespace: 'default' });
  expect(istioClusterService('outbound|9080||Ratings.Shop.svc.example.org')).toEqual({ name: 'ratings', namespace: 'shop' });
  // A ServiceEntry host, an inbound cluster, a plain name, a malformed one.
  expect(istioClusterService('outbound|443||api.example.com')).toBeUndefined();
  expect(istioClusterService('inbound|9080||')).toBeUndefined();
  expect(istioClusterService('reviews-v1')).toBeUndefined();
  expect(istioClusterService('outbound|9080|v1|reviews.default.svc.cluster.local|x')).toBeUndefined();
});

test('several listeners of one Service (ports, namesakes elsewhere) are services of their own, on the same hosts, told apart by port', () => {
  const names = ['reviews.shop.svc.cluster.local:9080', 'reviews.shop.svc.cluster.local:9901', 'reviews.qa.svc.cluster.local:9080'];
  const res = { listenerNames: names, listeners: new Map(), routes: new Map(), clusters: new Map() };
  const t = translate(res, selectVirtualHosts(res), () => {}, undefined, { namespace: 'shop', clusterDomain: 'cluster.local' });
  const config = validateConfig({ mesh: { namespace: 'shop' }, services: t.config.services }, 'xds');
  expect(Object.keys(config.services)).toEqual(['reviews', 'reviews-9901', 'reviews-qa']);
  expect(config.services.reviews).toMatchObject({ namespace: 'shop', port: 9080 });
  expect(config.services.reviews?.reportAs).toBeUndefined();
  expect(config.services['reviews-9901']).toMatchObject({
    namespace: 'shop',
    port: 9901,
    reportAs: 'reviews',
    hosts: ['reviews.shop.svc.cluster.local', 'reviews.shop', 'reviews.shop.svc', 'reviews'],
  });
  // Another namespace's namesake: its Kubernetes names, not the bare one (that is this namespace's reviews).
  expect(config.services['reviews-qa']).toMatchObject({
    namespace: 'qa',
    port: 9080,
    reportAs: 'reviews',
    hosts: ['reviews.qa.svc.cluster.local', 'reviews.qa', 'reviews.qa.svc'],
  });
  expect(listenerServiceKeys(['a:1', 'a:2', 'a:3', 'a-2'])).toEqual(
    new Map([
      ['a:1', 'a'],
      ['a:2', 'a-2'],
      ['a:3', 'a-3'],
      ['a-2', expect.stringMatching(/^xds-a-2-[0-9a-f]{8}$/)],
    ]),
  );
});

test('two listeners that name one Service on one port are told apart by nothing, and are found before the client starts', () => {
  expect(sameServiceListeners(['reviews:9080', 'reviews.default.svc.cluster.local:9080'], 'default')).toEqual([
    'reviews:9080',
    'reviews.default.svc.cluster.local:9080',
  ]);
  // Another port, another namespace, a host outside Kubernetes: all fine.
  expect(sameServiceListeners(['reviews:9080', 'reviews.default.svc.cluster.local:9901', 'reviews.qa.svc.cluster.local:9080', 'reviews.example.com:9080'], 'default')).toBeUndefined();
  expect(sameServiceListeners(['reviews:9080', 'reviews.default.svc.cluster.local:9080'], 'qa')).toBeUndefined();
});
