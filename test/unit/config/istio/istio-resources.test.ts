import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../../src/config/file-source.js';
import { checkRouteTargets } from '../../../../src/config/route-targets.js';
import { validateConfig } from '../../../../src/config/validate.js';
import { configProblems, loadConfigText } from '../../../helpers/config-text.js';

const OWN = `
mesh:
  namespace: shop
  labels: { app: reviews }
services:
  reviews:
    port: 9080
    endpoints:
      - { address: 10.0.0.1, labels: { version: v1 } }
      - { address: 10.0.0.2, labels: { version: v2 } }
  ratings:
    port: 9080
    endpoints: ["10.0.1.1"]
`;

const load = loadConfigText;
const problems = configProblems;

/** OWN with a DestinationRule for reviews: `policy` is its trafficPolicy's body (indented four spaces), `subsets` its subsets block. */
function reviewsRule(policy: string, subsets = ''): string {
  return `${OWN}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews, namespace: shop }
spec:
  host: reviews
  trafficPolicy:
    ${policy}
${subsets}`;
}

/** OWN with one VirtualService for ratings, whose `http:` list is `http` (YAML, indented four spaces). */
function withRatingsRoutes(http: string): string {
  return `${OWN}
---
kind: VirtualService
metadata: { name: ratings, namespace: shop }
spec:
  hosts: [ratings]
  http:
${http}`;
}

describe('Istio resources in a config file', () => {
  it('translates VirtualService and DestinationRule into routes, subsets and traffic policy', () => {
    const config = load(`${OWN}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews, namespace: shop }
spec:
  hosts: [reviews]
  http:
    - name: jason
      match:
        - headers: { end-user: { exact: jason } }
          uri: { prefix: /api }
      route:
        - destination: { host: reviews, subset: v2 }
      timeout: 2s
      retries: { attempts: 3, perTryTimeout: 500ms, retryOn: "5xx,reset" }
      fault: { abort: { httpStatus: 503, percentage: { value: 10 } } }
    - route:
        - destination: { host: reviews.shop.svc.cluster.local, subset: v1 }
          weight: 90
        - destination: { host: reviews, subset: v2 }
          weight: 10
      mirror: { host: ratings }
      mirrorPercentage: { value: 5 }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews, namespace: shop }
spec:
  host: reviews.shop.svc.cluster.local
  trafficPolicy:
    loadBalancer: { consistentHash: { httpHeaderName: x-user } }
    connectionPool:
      tcp: { maxConnections: 100, connectTimeout: 1s }
      http: { http1MaxPendingRequests: 10, http2MaxRequests: 200, maxRetries: 4, maxRequestsPerConnection: 50, idleTimeout: 30s }
    outlierDetection: { consecutive5xxErrors: 3, interval: 5s, baseEjectionTime: 30s, maxEjectionPercent: 50, minHealthPercent: 30 }
    tls: { mode: ISTIO_MUTUAL }
  subsets:
    - { name: v1, labels: { version: v1 } }
    - name: v2
      labels: { version: v2 }
      trafficPolicy: { loadBalancer: { simple: LEAST_REQUEST } }
`);
    const reviews = config.services.reviews!;
    expect(reviews.routes).toHaveLength(2);
    expect(reviews.routes![0]).toMatchObject({
      name: 'jason',
      match: [{ headers: { 'end-user': { exact: 'jason' } }, uri: { prefix: '/api' } }],
      route: [{ destination: { service: 'reviews', subset: 'v2' }, weight: 100 }],
      timeout: 2000,
      retries: { attempts: 3, perTryTimeout: 500, retryOn: ['5xx', 'reset'] },
      fault: { abort: { httpStatus: 503, percentage: 10 } },
    });
    expect(reviews.routes![1]!.route).toEqual([
      { destination: { service: 'reviews', subset: 'v1' }, weight: 90 },
      { destination: { service: 'reviews', subset: 'v2' }, weight: 10 },
    ]);
    expect(reviews.routes![1]).toMatchObject({ mirror: { service: 'ratings' }, mirrorPercentage: 5 });
    // minHealthPercent is Envoy's healthy_panic_threshold, as istiod writes it.
    expect(reviews.loadBalancer).toMatchObject({ policy: 'ring-hash', hashOn: { header: 'x-user' }, panicThreshold: 30 });
    expect(reviews.connectionPool).toEqual({
      maxConnections: 100,
      connectTimeout: 1000,
      maxPendingRequests: 10,
      maxRequests: 200,
      maxRetries: 4,
      maxRequestsPerConnection: 50,
      idleTimeout: 30_000,
    });
    expect(reviews.outlierDetection).toEqual({ consecutive5xxErrors: 3, interval: 5000, baseEjectionTime: 30_000, maxEjectionPercent: 50 });
    expect(reviews.tls).toEqual({ mode: 'mutual' });
    expect(reviews.subsets).toEqual({
      v1: { labels: { version: 'v1' } },
      v2: { labels: { version: 'v2' }, loadBalancer: { policy: 'least-request' } },
    });
  });

  it("reads a DestinationRule's warmup, and its deprecated warmupDurationSecs, as loadBalancer.warmup", () => {
    const dr = (lb: string, subsets = '') => reviewsRule(`loadBalancer: ${lb}`, subsets);
    expect(load(dr('{ simple: ROUND_ROBIN, warmup: { duration: 90s, minimumPercent: 5, aggression: 2 } }')).services.reviews!.loadBalancer).toEqual({
      policy: 'round-robin',
      warmup: { duration: 90_000, minimumPercent: 5, aggression: 2 },
    });
    expect(load(dr('{ simple: LEAST_REQUEST, warmupDurationSecs: 100s }')).services.reviews!.loadBalancer).toEqual({
      policy: 'least-request',
      warmup: { duration: 100_000 },
    });
    expect(problems(dr('{ simple: ROUND_ROBIN, warmup: { duration: 10s }, warmupDurationSecs: 10s }'))).toContain(
      'spec.trafficPolicy.loadBalancer.warmupDurationSecs: set only one of warmup and warmupDurationSecs',
    );
    expect(problems(dr('{ simple: ROUND_ROBIN, warmup: { duration: 10s, shape: linear } }'))).toContain('spec.trafficPolicy.loadBalancer.warmup.shape: is not supported');
    expect(problems(dr('{ consistentHash: { httpHeaderName: x-user }, warmupDurationSecs: 60s }'))).toContain(
      `services.reviews.loadBalancer.warmup: the service's policy "ring-hash" cannot ramp`,
    );
    expect(problems(dr('{ simple: ROUND_ROBIN }', '  subsets:\n    - { name: v1, labels: { version: v1 }, trafficPolicy: { loadBalancer: { warmupDurationSecs: 30s } } }'))).toContain(
      'spec.subsets[0].trafficPolicy.loadBalancer.warmup: is not supported on a subset',
    );
  });

  it("reads connectionPool.tcp.tcpKeepalive's time; interval and probes are refused with the reason", () => {
    const dr = (keepalive: string) => reviewsRule(`connectionPool: { tcp: { tcpKeepalive: ${keepalive} } }`);
    expect(load(dr('{ time: 300s }')).services.reviews!.connectionPool).toEqual({ tcpKeepalive: { time: 300_000 } });
    expect(problems(dr('{ time: 300s, interval: 75s }'))).toContain(
      'services.reviews.connectionPool.tcpKeepalive.interval: cannot be set from Node, which probes every 1 s, 10 times',
    );
  });

  it("reads a DestinationRule's locality failover, failoverPriority and distribute", () => {
    const dr = (locality: string) =>
      reviewsRule(`loadBalancer: { simple: ROUND_ROBIN, localityLbSetting: ${locality} }\n    outlierDetection: { consecutive5xxErrors: 3 }`);
    expect(load(dr('{ enabled: true, failover: [{ from: us-east, to: eu-west }, { from: eu-west, to: us-east }] }')).services.reviews!.loadBalancer).toEqual({
      policy: 'round-robin',
      localityAware: true,
      failover: [
        { from: 'us-east', to: 'eu-west' },
        { from: 'eu-west', to: 'us-east' },
      ],
    });
    expect(load(dr('{ failoverPriority: [topology.istio.io/network, topology.kubernetes.io/region] }')).services.reviews!.loadBalancer).toEqual({
      policy: 'round-robin',
      failoverPriority: ['topology.istio.io/network', 'topology.kubernetes.io/region'],
    });
    expect(load(dr('{ distribute: [{ from: "us-east/*", to: { "us-east/*": 80, "us-west/*": 20 } }] }')).services.reviews!.loadBalancer).toEqual({
      policy: 'round-robin',
      distribute: [{ from: 'us-east/*', to: { 'us-east/*': 80, 'us-west/*': 20 } }],
    });
    expect(problems(dr('{ distribute: [{ from: "us-east/*", to: { "us-east/*": 80, "us-west/*": 10 } }] }'))).toContain(
      'services.reviews.loadBalancer.distribute[0].to: shares add up to 90; they must add up to 100',
    );
    expect(problems(dr('{ failover: [{ from: us-east, to: us-east }] }'))).toContain(
      'services.reviews.loadBalancer.failover[0].to: fails "us-east" over to itself',
    );
    expect(problems(dr('{ failover: [{ from: a, to: b }], failoverPriority: [x] }'))).toContain(
      'services.reviews.loadBalancer: sets (or inherits) failover and failoverPriority',
    );
  });

  it('adds ServiceEntry services that VirtualServices then find by host', () => {
    const config = load(`${OWN}
---
kind: ServiceEntry
metadata: { name: payments.example.com, namespace: shop }
spec:
  hosts: [payments.example.com]
  ports: [{ number: 443, name: https, protocol: HTTPS }]
  resolution: STATIC
  endpoints:
    - { address: 192.0.2.10, locality: eu-west/eu-west-1a, labels: { tier: gold }, weight: 3 }
    - { address: 192.0.2.11, ports: { https: 8443 } }
---
kind: ServiceEntry
metadata: { name: geo }
spec:
  hosts: [geo.example.com]
  ports: [{ number: 80, name: http }]
  resolution: DNS
---
kind: VirtualService
metadata: { name: payments, namespace: shop }
spec:
  hosts: [payments.example.com]
  http:
    - route: [{ destination: { host: payments.example.com } }]
      timeout: 3s
`);
    expect(config.services['payments-example-com']).toMatchObject({
      hosts: ['payments.example.com'],
      port: 443,
      namespace: 'shop',
      endpoints: [
        { address: '192.0.2.10', port: 443, region: 'eu-west', zone: 'eu-west-1a', labels: { tier: 'gold' }, weight: 3 },
        { address: '192.0.2.11', port: 8443 },
      ],
      routes: [{ timeout: 3000, route: [{ destination: { service: 'payments-example-com' }, weight: 100 }] }],
    });
    expect(config.services.geo).toMatchObject({ discovery: 'dns:geo.example.com:80', port: 80 });
  });

  it('applies the most specific PeerAuthentication for this workload', () => {
    const config = load(`${OWN}
---
kind: PeerAuthentication
metadata: { name: default, namespace: istio-system }
spec: { mtls: { mode: PERMISSIVE } }
---
kind: PeerAuthentication
metadata: { name: reviews, namespace: shop }
spec:
  selector: { matchLabels: { app: reviews } }
  mtls: { mode: STRICT }
  portLevelMtls: { "9090": { mode: DISABLE } }
---
kind: PeerAuthentication
metadata: { name: other, namespace: shop }
spec:
  selector: { matchLabels: { app: other } }
  mtls: { mode: DISABLE }
`);
    expect(config.mesh.security?.mtls).toEqual({ mode: 'STRICT', portLevelMtls: { '9090': { mode: 'DISABLE' } } });
  });

  it('reads gateways as a sidecar does: a VirtualService or match bound only to other gateways is not the mesh\'s', () => {
    const config = load(`${OWN}
---
kind: VirtualService
metadata: { name: ingress, namespace: shop }
spec:
  hosts: [bookinfo.example.com]
  gateways: [istio-system/bookinfo-gateway]
  http:
    - route: [{ destination: { host: productpage } }]
      corsPolicy: { allowOrigins: [{ exact: "*" }] }
---
kind: VirtualService
metadata: { name: reviews, namespace: shop }
spec:
  hosts: [reviews]
  gateways: [istio-system/bookinfo-gateway, mesh]
  http:
    - name: edge-only
      match: [{ uri: { prefix: /edge }, gateways: [istio-system/bookinfo-gateway], authority: { exact: x } }]
      route: [{ destination: { host: ratings } }]
    - name: mixed
      match:
        - uri: { prefix: /a }
          gateways: [istio-system/bookinfo-gateway]
        - uri: { prefix: /b }
          gateways: [mesh]
        - uri: { prefix: /c }
      route: [{ destination: { host: ratings } }]
    - route: [{ destination: { host: reviews } }]
`);
    const routes = config.services.reviews!.routes!;
    expect(routes.map((r) => r.name)).toEqual(['mixed', undefined]);
    expect(routes[0]!.match).toEqual([{ uri: { prefix: '/b' } }, { uri: { prefix: '/c' } }]);
    expect(config.services.productpage).toBeUndefined();
  });

  it('carries an authority match; scheme is still refused', () => {
    const config = load(withRatingsRoutes(`    - match: [{ authority: { prefix: ratings.shop }, method: { exact: GET } }]
      route: [{ destination: { host: ratings } }]
    - route: [{ destination: { host: ratings } }]
`));
    expect(config.services.ratings!.routes![0]!.match).toEqual([{ authority: { prefix: 'ratings.shop' }, method: { exact: 'GET' } }]);
    expect(
      problems(withRatingsRoutes(`    - match: [{ scheme: { exact: https } }]
      route: [{ destination: { host: ratings } }]
`)),
    ).toContain('spec.http[0].match[0].scheme: is not supported: proxyless matches on uri, method, authority, headers');
  });

  it('reads mirrors (several copies, each with its percentage), and refuses them beside mirror', () => {
    const config = load(withRatingsRoutes(`    - route: [{ destination: { host: ratings } }]
      mirrors:
        - { destination: { host: reviews } }
        - { destination: { host: ratings }, percentage: { value: 5 } }
`));
    expect(config.services.ratings!.routes![0]!.mirrors).toEqual([
      { destination: { service: 'reviews' } },
      { destination: { service: 'ratings' }, percentage: 5 },
    ]);
    // Each mirror's target is checked as a route's destination is.
    const typo = validateConfig(
      parseConfigText(
        withRatingsRoutes(`    - route: [{ destination: { host: ratings } }]
      mirrors: [{ destination: { host: reviews, subset: v9 } }]
`),
        'file mesh.yaml',
      ),
      'file mesh.yaml',
    );
    expect(checkRouteTargets(typo)).toEqual([
      { path: 'services.ratings.routes[0].mirrors[0].destination.subset', message: 'names subset "v9" of service "reviews", which defines no subsets' },
    ]);
    expect(
      problems(withRatingsRoutes(`    - route: [{ destination: { host: ratings } }]
      mirror: { host: reviews }
      mirrors: [{ destination: { host: reviews } }]
`)),
    ).toContain('services.ratings.routes[0].mirrors: set mirror (one copy, with mirrorPercentage) or mirrors (several, each with its percentage), not both');
    expect(
      problems(withRatingsRoutes(`    - route: [{ destination: { host: ratings } }]
      mirrors: [{ destination: { host: reviews }, percent: 5 }]
`)),
    ).toContain('spec.http[0].mirrors[0].percent: is not supported');
  });

  it('carries sourceLabels and sourceNamespace into the route model, and checks them there', () => {
    const config = load(withRatingsRoutes(`    - match: [{ sourceLabels: { app: reviews, version: v2 }, sourceNamespace: shop }]
      route: [{ destination: { host: ratings } }]
      timeout: 1s
    - route: [{ destination: { host: ratings } }]
`));
    expect(config.services.ratings!.routes![0]!.match).toEqual([{ sourceLabels: { app: 'reviews', version: 'v2' }, sourceNamespace: 'shop' }]);
    const message = problems(withRatingsRoutes(`    - match: [{ sourceLabels: { "-bad": x }, sourceNamespace: Shop, gateways: "mesh" }]
      route: [{ destination: { host: ratings } }]
`));
    expect(message).toContain('spec.http[0].match[0].gateways: must be a list, got string');
    const routed = problems(withRatingsRoutes(`    - match: [{ sourceLabels: { "-bad": x }, sourceNamespace: Shop }]
      route: [{ destination: { host: ratings } }]
`));
    expect(routed).toContain('services.ratings.routes[0].match[0].sourceLabels');
    expect(routed).toContain('label key "-bad" is not a valid label name');
    expect(routed).toContain('services.ratings.routes[0].match[0].sourceNamespace: "Shop" is not a valid namespace name');
  });

  it("reads Istio's empty header match as presence, and withoutHeaders with one as absence", () => {
    const config = load(withRatingsRoutes(`    - match: [{ headers: { x-debug: {}, x-user: { exact: jason } }, withoutHeaders: { x-test: {} }, name: debug, statPrefix: debug }]
      route: [{ destination: { host: ratings } }]
`));
    expect(config.services.ratings!.routes![0]!.match).toEqual([
      { headers: { 'x-debug': { present: true }, 'x-user': { exact: 'jason' }, 'x-test': { absent: true } } },
    ]);
    const message = problems(withRatingsRoutes(`    - match: [{ headers: { x-a: {} }, withoutHeaders: { x-a: {}, x-b: { exact: "1" } } }]
      route: [{ destination: { host: ratings } }]
`));
    expect(message).toContain('spec.http[0].match[0].withoutHeaders.x-b: is not supported with a value');
    expect(message).toContain('spec.http[0].match[0].withoutHeaders.x-a: is also under headers');
  });

  it('translates directResponse with a string body or a base64 one that is text', () => {
    const config = load(
      withRatingsRoutes(`    - match: [{ uri: { prefix: /old } }]
      directResponse: { status: 410, body: { string: gone } }
    - match: [{ uri: { prefix: /b } }]
      directResponse: { status: 503, body: { bytes: ${Buffer.from('down for maintenance').toString('base64')} } }
    - route: [{ destination: { host: ratings } }]
`),
    );
    expect(config.services.ratings!.routes!.map((r) => r.directResponse)).toEqual([
      { status: 410, body: 'gone' },
      { status: 503, body: 'down for maintenance' },
      undefined,
    ]);
    const message = problems(
      withRatingsRoutes(`    - directResponse: { status: 503, body: { bytes: ${Buffer.from([0xff, 0xfe]).toString('base64')} } }
`),
    );
    expect(message).toContain('spec.http[0].directResponse.body.bytes: is not UTF-8 text once base64-decoded');
  });

  it('carries rewrite.uriRegexRewrite', () => {
    const config = load(
      withRatingsRoutes(`    - rewrite: { uriRegexRewrite: { match: "^/service/([^/]+)(/.*)$", rewrite: "\\\\2/instance/\\\\1" } }
      route: [{ destination: { host: ratings } }]
`),
    );
    expect(config.services.ratings!.routes![0]!.rewrite).toEqual({ uriRegexRewrite: { match: '^/service/([^/]+)(/.*)$', rewrite: '\\2/instance/\\1' } });
  });

  it("carries a fault abort's grpcStatus, by Istio's name", () => {
    const config = load(
      withRatingsRoutes(`    - route: [{ destination: { host: ratings } }]
      fault: { abort: { grpcStatus: UNAVAILABLE, percentage: { value: 10 } } }
`),
    );
    expect(config.services.ratings!.routes![0]!.fault).toEqual({ abort: { grpcStatus: 14, percentage: 10 } });
  });

  it("applies the portLevelSettings entry for the service's port over the destination's blocks; others select nothing", () => {
    const config = load(`${OWN}
---
kind: DestinationRule
metadata: { name: reviews, namespace: shop }
spec:
  host: reviews
  trafficPolicy:
    loadBalancer: { simple: ROUND_ROBIN }
    connectionPool: { tcp: { maxConnections: 10 }, http: { maxRetries: 2 } }
    portLevelSettings:
      - port: { number: 9080 }
        connectionPool: { http: { http2MaxRequests: 50 } }
      - port: { number: 15000 }
        loadBalancer: { simple: RANDOM }
`);
    // Istio's rule: an overriding block does not inherit the destination's fields.
    expect(config.services.reviews!.connectionPool).toEqual({ maxRequests: 50 });
    expect(config.services.reviews!.loadBalancer).toMatchObject({ policy: 'round-robin' });
    const message = problems(`${OWN}
  bare:
    endpoints: ["10.0.9.1:80"]
---
kind: DestinationRule
metadata: { name: bare }
spec:
  host: bare
  trafficPolicy: { portLevelSettings: [{ port: { number: 80 }, loadBalancer: { simple: RANDOM } }] }
`);
    expect(message).toContain('spec.trafficPolicy.portLevelSettings[0]: needs services.bare.port to know which entry applies');
  });

  it('reports unsupported fields, unknown hosts and double definitions with their document and path', () => {
    const message = problems(`${OWN}
  cart:
    endpoints: ["10.0.2.1:80"]
    routes: [{ route: [{ destination: {} }] }]
---
kind: VirtualService
metadata: { name: reviews, namespace: shop }
spec:
  hosts: [reviews, details]
  http:
    - match: [{ scheme: { exact: https } }]
      route: [{ destination: { host: reviews } }]
      corsPolicy: { allowOrigins: [{ exact: "*" }] }
---
kind: VirtualService
metadata: { name: cart }
spec:
  hosts: [cart]
  http: [{ route: [{ destination: { host: cart } }] }]
---
kind: DestinationRule
metadata: { name: reviews }
spec:
  host: reviews
  trafficPolicy:
    tls: { mode: MUTUAL, clientCertificate: /etc/c.pem }
    portLevelSettings: [{ tls: { mode: SIMPLE } }]
`);
    expect(message).toContain('document 2 (VirtualService shop/reviews).spec.hosts[1]: host "details" is not a configured service');
    expect(message).toContain('document 2 (VirtualService shop/reviews).spec.http[0].match[0].scheme: is not supported');
    expect(message).toContain('document 2 (VirtualService shop/reviews).spec.http[0].corsPolicy: is not supported');
    expect(message).toContain('document 3 (VirtualService cart): sets routes of service "cart", which services.cart.routes sets too');
    expect(message).toContain('document 4 (DestinationRule reviews).spec.trafficPolicy.tls.clientCertificate: is not supported');
    expect(message).toContain('tls.mode: must be one of DISABLE, SIMPLE, ISTIO_MUTUAL, got "MUTUAL" (MUTUAL with your own client certificate');
    expect(message).toContain('document 4 (DestinationRule reviews).spec.trafficPolicy.portLevelSettings[0].port: port.number is required');
  });

  it('validates the translated routes with the route schema (bad values still name the service)', () => {
    const message = problems(`${OWN}
---
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
    - route: [{ destination: { host: reviews } }]
      fault: { abort: { httpStatus: 700, percentage: { value: 5 } } }
`);
    expect(message).toContain('services.reviews.routes[0].fault.abort.httpStatus: must be an HTTP status from 200 to 599, got 700');
  });

  it('reports ServiceEntry shapes proxyless cannot serve', () => {
    const message = problems(`${OWN}
---
kind: ServiceEntry
metadata: { name: passthrough }
spec: { hosts: ["*.example.com"], ports: [{ number: 443 }, { number: 80 }], resolution: NONE }
---
kind: ServiceEntry
metadata: { name: reviews }
spec: { hosts: [reviews.example.com], ports: [{ number: 80 }], resolution: STATIC }
`);
    expect(message).toContain('document 2 (ServiceEntry passthrough).spec.hosts[0]: wildcard host "*.example.com" is not supported');
    expect(message).toContain('document 2 (ServiceEntry passthrough).spec.resolution: resolution NONE');
    expect(message).toContain('document 3 (ServiceEntry reviews): defines service "reviews", which the mesh config already defines');
  });

  it('names an unsupported kind with the supported list', () => {
    expect(problems(`${OWN}\n---\nkind: EnvoyFilter\nmetadata: { name: lua }\n`)).toMatch(
      /document 2: kind EnvoyFilter is not supported in a config file; supported: AuthorizationPolicy, RequestAuthentication, ServiceEntry, DestinationRule, VirtualService, HTTPRoute, GRPCRoute, ReferenceGrant, PeerAuthentication \(and Gateway, which is skipped\)/,
    );
  });

  it('skips Gateways, which configure gateways only, with the VirtualServices bound to them', () => {
    const config = load(`${OWN}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: bookinfo-gateway, namespace: shop }
spec:
  selector: { istio: ingressgateway }
  servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: ["*"] }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: edge }
spec: { gatewayClassName: istio, listeners: [{ name: http, port: 80, protocol: HTTP }] }
---
kind: VirtualService
metadata: { name: bookinfo, namespace: shop }
spec:
  hosts: ["*"]
  gateways: [bookinfo-gateway]
  http: [{ route: [{ destination: { host: productpage, port: { number: 9080 } } }] }]
`);
    expect(Object.keys(config.services).sort()).toEqual(['ratings', 'reviews']);
    expect(config.services.reviews!.routes).toBeUndefined();
  });
});

/** A VirtualService document in namespace shop for `hosts`, whose `http:` list is `http` (YAML, indented four spaces). */
function vs(name: string, hosts: string, http: string): string {
  return `
---
kind: VirtualService
metadata: { name: ${name}, namespace: shop }
spec:
  hosts: [${hosts}]
  http:
${http}`;
}

/** A Service with two ports as the Kubernetes control plane writes it: its own name on 9080, `reviews-admin` reporting as it on 9901. */
const TWO_PORTS = `
mesh: { namespace: shop }
services:
  reviews:
    port: 9080
    endpoints:
      - { address: 10.0.0.1, port: 9080, labels: { version: v1 } }
      - { address: 10.0.0.2, port: 9080, labels: { version: v2 } }
  reviews-admin:
    port: 9901
    reportAs: reviews
    endpoints:
      - { address: 10.0.0.1, port: 9901, labels: { version: v1 } }
      - { address: 10.0.0.2, port: 9901, labels: { version: v2 } }
  ratings:
    port: 9080
    endpoints: ["10.0.1.1:9080"]
  details:
    port: 9080
    endpoints: ["10.0.2.1:9080"]
  details-grpc:
    port: 9090
    reportAs: details
    endpoints: ["10.0.2.1:9090"]
---
kind: DestinationRule
metadata: { name: reviews, namespace: shop }
spec:
  host: reviews.shop.svc.cluster.local
  trafficPolicy:
    loadBalancer: { simple: RANDOM }
    portLevelSettings:
      - port: { number: 9901 }
        loadBalancer: { simple: ROUND_ROBIN }
  subsets:
    - { name: v1, labels: { version: v1 } }
    - { name: v2, labels: { version: v2 } }
`;

describe('a Service with several ports', () => {
  it("applies a DestinationRule to every port, each with its own portLevelSettings entry", () => {
    const config = load(TWO_PORTS);
    expect(config.services.reviews!.loadBalancer).toMatchObject({ policy: 'random' });
    expect(config.services['reviews-admin']!.loadBalancer).toMatchObject({ policy: 'round-robin' });
    for (const name of ['reviews', 'reviews-admin']) expect(Object.keys(config.services[name]!.subsets ?? {})).toEqual(['v1', 'v2']);
  });

  it("applies a VirtualService to every port: match port picks the port, and a destination without one keeps the route's port", () => {
    const config = load(`${TWO_PORTS}${vs('reviews', 'reviews', `    - name: admin-only
      match: [{ port: 9901, uri: { prefix: /debug } }]
      directResponse: { status: 403 }
    - name: canary
      match: [{ headers: { x-canary: { exact: "1" } } }]
      route: [{ destination: { host: reviews, subset: v2 } }]
    - name: to-the-api
      match: [{ port: 9901, uri: { prefix: /api } }]
      route: [{ destination: { host: reviews, subset: v1, port: { number: 9080 } } }]
    - name: default
      route: [{ destination: { host: reviews, subset: v1 } }]
      mirror: { host: ratings }
`)}`);
    const on = (name: string) => config.services[name]!.routes!;
    expect(on('reviews').map((r) => r.name)).toEqual(['canary', 'default']);
    expect(on('reviews-admin').map((r) => r.name)).toEqual(['admin-only', 'canary', 'to-the-api', 'default']);
    expect(on('reviews-admin')[0]!.match).toEqual([{ uri: { prefix: '/debug' } }]);
    expect(on('reviews')[0]!.route![0]!.destination).toEqual({ service: 'reviews', subset: 'v2' });
    expect(on('reviews-admin')[1]!.route![0]!.destination).toEqual({ service: 'reviews-admin', subset: 'v2' });
    expect(on('reviews-admin')[2]!.route![0]!.destination).toEqual({ service: 'reviews', subset: 'v1' });
    // A one-port destination is that port from any port.
    expect(on('reviews-admin')[3]!.mirror).toEqual({ service: 'ratings' });
  });

  it('refuses a destination port the Service lacks, and a multi-port destination the route port cannot pick, naming both', () => {
    const message = problems(`${TWO_PORTS}${vs('reviews', 'reviews', `    - route: [{ destination: { host: details } }]
`)}${vs('ratings', 'ratings', `    - route: [{ destination: { host: ratings, port: { number: 9999 } } }]
    - route: [{ destination: { host: details, port: { number: 80 } } }]
`)}`);
    // From reviews:9080, details:9080 exists; from reviews:9901 neither of details' ports does.
    expect(message).toContain(
      'VirtualService shop/reviews).spec.http[0].route[0].destination: names details, which has several ports (9080, 9090) and not 9901; set destination.port',
    );
    expect(message).toContain('(the route served on reviews-admin, port 9901)');
    expect(message).not.toContain('the route served on reviews, port 9080');
    expect(message).toContain("spec.http[0].route[0].destination: port 9999 is not ratings's port (9080)");
    expect(message).toContain('spec.http[1].route[0].destination: port 80 is not a port of details (its ports: 9080, 9090)');
  });

  it('keeps a port named on its own by its own name, and reads match ports strictly', () => {
    const config = load(`${TWO_PORTS}${vs('reviews-admin', 'reviews-admin', '    - route: [{ destination: { host: reviews-admin, subset: v1 } }]\n')}`);
    expect(config.services['reviews-admin']!.routes).toHaveLength(1);
    expect(config.services.reviews!.routes).toBeUndefined();
    const message = problems(`${OWN}
  bare:
    endpoints: ["10.0.9.1:80"]${vs('bare', 'bare, ratings', `    - match: [{ port: 80 }]
      route: [{ destination: { host: bare } }]
    - match: [{ port: "80" }]
      route: [{ destination: { host: bare } }]
`)}`);
    expect(message).toContain('spec.http[0].match[0].port: needs services.bare.port to know which port this entry matches');
    expect(message).toContain('spec.http[1].match[0].port: must be a port number (1-65535), got "80"');
  });
});

describe("a Service name used in two namespaces", () => {
  it("resolves a short host in the resource's namespace and a qualified one by its namespace, each to every port of that Service", () => {
    const config = load(`
services:
  api: { port: 8080, endpoints: ["10.0.0.1:8080"] }
  api-admin: { port: 9901, reportAs: api, endpoints: ["10.0.0.1:9901"] }
  api-backend: { namespace: backend, port: 8080, reportAs: api, endpoints: ["10.0.1.1:8080"] }
  api-backend-admin: { namespace: backend, port: 9901, reportAs: api, endpoints: ["10.0.1.1:9901"] }
---
kind: DestinationRule
metadata: { name: api, namespace: default }
spec: { host: api.backend.svc.cluster.local, trafficPolicy: { loadBalancer: { simple: RANDOM } } }
${vs('api', 'api', `    - name: backend-routes
      route: [{ destination: { host: api } }]
`).replace('namespace: shop', 'namespace: backend')}${vs('api', 'api', `    - name: default-routes
      route: [{ destination: { host: api } }]
`).replace('namespace: shop', 'namespace: default')}`);
    const routes = (name: string) => config.services[name]!.routes?.map((r) => [r.name, r.route![0]!.destination.service]);
    expect(routes('api')).toEqual([['default-routes', 'api']]);
    expect(routes('api-admin')).toEqual([['default-routes', 'api-admin']]);
    expect(routes('api-backend')).toEqual([['backend-routes', 'api-backend']]);
    expect(routes('api-backend-admin')).toEqual([['backend-routes', 'api-backend-admin']]);
    expect(config.services['api-backend']!.loadBalancer).toMatchObject({ policy: 'random' });
    expect(config.services['api-backend-admin']!.loadBalancer).toMatchObject({ policy: 'random' });
    expect(config.services.api!.loadBalancer).toBeUndefined();
  });
});

describe('a ServiceEntry with several ports', () => {
  it('becomes one service per port on the same hosts, the later ones reporting as the first, and Istio resources for its hosts reach every port', () => {
    const config = load(`${OWN}
---
kind: ServiceEntry
metadata: { name: api.example, namespace: shop }
spec:
  hosts: [api.example.com]
  resolution: STATIC
  ports: [{ number: 80, name: http }, { number: 9901, name: admin, targetPort: 19901 }, { number: 8443 }]
  endpoints:
    - { address: 192.0.2.10, ports: { http: 8080 } }
    - { address: 192.0.2.11 }
---
kind: DestinationRule
metadata: { name: api, namespace: shop }
spec:
  host: api.example.com
  trafficPolicy:
    loadBalancer: { simple: ROUND_ROBIN }
    portLevelSettings: [{ port: { number: 9901 }, loadBalancer: { simple: RANDOM } }]
${vs('api', 'api.example.com', `    - match: [{ port: 9901 }]
      directResponse: { status: 403 }
    - route: [{ destination: { host: api.example.com } }]
`)}`);
    expect(config.services['api-example']).toMatchObject({ port: 80, hosts: ['api.example.com'] });
    expect(config.services['api-example']!.endpoints!.map((e) => `${e.address}:${e.port}`)).toEqual(['192.0.2.10:8080', '192.0.2.11:80']);
    expect(config.services['api-example-admin']).toMatchObject({ port: 9901, reportAs: 'api-example', hosts: ['api.example.com'] });
    expect(config.services['api-example-admin']!.endpoints!.map((e) => `${e.address}:${e.port}`)).toEqual(['192.0.2.10:19901', '192.0.2.11:19901']);
    expect(config.services['api-example-8443']).toMatchObject({ port: 8443, reportAs: 'api-example' });
    expect(config.services['api-example']!.loadBalancer).toMatchObject({ policy: 'round-robin' });
    expect(config.services['api-example-admin']!.loadBalancer).toMatchObject({ policy: 'random' });
    expect(config.services['api-example']!.routes!.map((r) => r.route?.[0]?.destination.service)).toEqual(['api-example']);
    expect(config.services['api-example-admin']!.routes![0]!.directResponse).toEqual({ status: 403 });
    expect(config.services['api-example-8443']!.routes![0]!.route![0]!.destination.service).toBe('api-example-8443');
  });
});
