/**
 * Gateway API HTTPRoutes bound to Services (GAMMA) in a config file: what
 * each becomes in the config model, validated by the same schema as our own
 * routes. Where requests then go is checked in
 * test/integration/http-route.test.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { configProblems, loadConfigText } from '../../../helpers/config-text.js';

const SERVICES = `
mesh: { namespace: shop }
services:
  reviews: { port: 9080, endpoints: ["10.0.0.1:9080"] }
  reviews-admin: { port: 9901, reportAs: reviews, endpoints: ["10.0.0.1:9901"] }
  reviews-v2: { port: 9080, endpoints: ["10.0.0.2:9080"] }
  ratings: { port: 9080, endpoints: ["10.0.1.1:9080"] }
`;

/** An HTTPRoute in `namespace` whose spec is `spec` (YAML, indented two spaces). */
function httpRoute(name: string, namespace: string, spec: string, created = ''): string {
  return `
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: ${namespace}${created === '' ? '' : `, creationTimestamp: "${created}"`} }
spec:
${spec}`;
}

const load = loadConfigText;
const problems = configProblems;

describe('HTTPRoute bound to a Service', () => {
  it('orders matches by the spec’s precedence, not as written, and matches PathPrefix by whole segments', () => {
    const config = load(`${SERVICES}${httpRoute(
      'reviews',
      'shop',
      `  parentRefs: [{ group: "", kind: Service, name: reviews, port: 9080 }]
  rules:
    - backendRefs: [{ name: reviews, port: 9080 }]
    - matches: [{ path: { type: PathPrefix, value: /api/ } }]
      backendRefs: [{ name: reviews-v2, port: 9080 }]
    - matches:
        - { path: { type: PathPrefix, value: /api }, headers: [{ name: X-Canary, value: "1" }, { name: x-canary, value: ignored }] }
        - { path: { value: /api }, method: POST }
      backendRefs: [{ name: reviews-v2, port: 9080 }]
    - matches: [{ path: { type: Exact, value: /login } }, { path: { type: RegularExpression, value: "/u/[0-9]+" } }]
      backendRefs: [{ name: ratings, port: 9080 }]`,
    )}`);
    const routes = config.services.reviews!.routes!;
    expect(routes.map((r) => r.name)).toEqual(['reviews.3.0', 'reviews.3.1', 'reviews.2.1', 'reviews.2.0', 'reviews.1', 'reviews.0']);
    // `/api` matches /api and /api/..., never /apix; a trailing slash changes nothing; headers match by lowercase name, the first of a repeated one.
    expect(routes[3]!.match).toEqual([
      { uri: { exact: '/api' }, headers: { 'x-canary': { exact: '1' } } },
      { uri: { prefix: '/api/' }, headers: { 'x-canary': { exact: '1' } } },
    ]);
    expect(routes[2]!.match).toEqual([
      { uri: { exact: '/api' }, method: { exact: 'POST' } },
      { uri: { prefix: '/api/' }, method: { exact: 'POST' } },
    ]);
    expect(routes[5]!.match).toEqual([{ uri: { prefix: '/' } }]);
    expect(routes[1]!.match).toEqual([{ uri: { regex: '/u/[0-9]+' } }]);
    // The parent names port 9080 only: the Service's other port keeps the default route.
    expect(config.services['reviews-admin']!.routes).toBeUndefined();
  });

  it('splits traffic by backend weight (default 1) and answers 500 when every weight is 0', () => {
    const config = load(`${SERVICES}${httpRoute(
      'split',
      'shop',
      `  parentRefs: [{ kind: Service, name: reviews }]
  rules:
    - matches: [{ path: { type: Exact, value: /none } }]
      backendRefs: [{ name: reviews, port: 9080, weight: 0 }]
    - backendRefs:
        - { name: reviews, port: 9080, weight: 90 }
        - { name: reviews-v2, port: 9080, weight: 10, filters: [{ type: RequestHeaderModifier, requestHeaderModifier: { set: [{ name: X-Version, value: v2 }] } }] }
        - { name: ratings, port: 9080 }`,
    )}`);
    const [none, split] = config.services.reviews!.routes!;
    expect(none!.directResponse).toEqual({ status: 500 });
    expect(split!.route!.map((d) => [d.destination.service, d.weight])).toEqual([
      ['reviews', 90],
      ['reviews-v2', 10],
      ['ratings', 1],
    ]);
    expect(split!.route![1]!.headers).toMatchObject({ request: { set: { 'x-version': 'v2' } } });
    // No parent port: every port of the Service gets the routes; a backendRef's port is explicit, so from port 9901 too.
    expect(config.services['reviews-admin']!.routes![1]!.route![0]!.destination.service).toBe('reviews');
  });

  it('translates the filters, timeouts and retry', () => {
    const config = load(`${SERVICES}${httpRoute(
      'filters',
      'shop',
      `  parentRefs: [{ kind: Service, name: ratings }]
  rules:
    - matches: [{ path: { value: /old } }]
      filters: [{ type: RequestRedirect, requestRedirect: { scheme: https, hostname: ratings.example.com, path: { type: ReplaceFullPath, replaceFullPath: /new } } }]
    - matches: [{ path: { value: /v1 } }]
      filters:
        - { type: URLRewrite, urlRewrite: { hostname: ratings.internal, path: { type: ReplacePrefixMatch, replacePrefixMatch: /v2 } } }
        - { type: RequestHeaderModifier, requestHeaderModifier: { add: [{ name: x-from, value: route }], remove: [x-debug] } }
        - { type: ResponseHeaderModifier, responseHeaderModifier: { set: [{ name: cache-control, value: no-store }] } }
        - { type: RequestMirror, requestMirror: { backendRef: { name: reviews-v2, port: 9080 }, percent: 25 } }
      backendRefs: [{ name: ratings, port: 9080 }]
      timeouts: { request: 3s, backendRequest: 1s }
      retry: { attempts: 2, codes: [503], backoff: 50ms }
    - matches: [{ path: { type: Exact, value: /all } }]
      filters: [{ type: URLRewrite, urlRewrite: { path: { type: ReplaceFullPath, replaceFullPath: /everything } } }]
      backendRefs: [{ name: ratings, port: 9080 }]`,
    )}`);
    const byName = Object.fromEntries(config.services.ratings!.routes!.map((r) => [r.name, r]));
    expect(byName['filters.0']!.redirect).toEqual({ scheme: 'https', authority: 'ratings.example.com', uri: '/new', redirectCode: 302 });
    // ReplacePrefixMatch: /v1 becomes /v2, /v1/x becomes /v2/x.
    expect(byName['filters.1.exact']).toMatchObject({ match: [{ uri: { exact: '/v1' } }], rewrite: { uri: '/v2', authority: 'ratings.internal' } });
    expect(byName['filters.1']).toMatchObject({ match: [{ uri: { prefix: '/v1/' } }], rewrite: { uri: '/v2/', authority: 'ratings.internal' } });
    expect(byName['filters.1']!.headers).toMatchObject({ request: { add: { 'x-from': 'route' }, remove: ['x-debug'] }, response: { set: { 'cache-control': 'no-store' } } });
    expect(byName['filters.1']!.mirrors).toEqual([{ destination: { service: 'reviews-v2' }, percentage: 25 }]);
    expect(byName['filters.1']!.timeout).toBe(3000);
    expect(byName['filters.1']!.retries).toMatchObject({ attempts: 2, perTryTimeout: 1000, retriableStatusCodes: [503], backoff: { baseInterval: 50 } });
    expect(byName['filters.2']!.rewrite).toMatchObject({ uriRegexRewrite: { match: '.*', rewrite: '/everything' } });
  });

  it("puts a consumer route (another namespace's) first, for its own namespace's clients only, and merges several routes oldest first", () => {
    const config = load(`${SERVICES}${httpRoute(
      'newer',
      'shop',
      `  parentRefs: [{ kind: Service, name: ratings }]
  rules: [{ matches: [{ path: { value: /a } }], backendRefs: [{ name: ratings, port: 9080 }] }]`,
      '2026-02-01T00:00:00Z',
    )}${httpRoute(
      'older',
      'shop',
      `  parentRefs: [{ kind: Service, name: ratings }]
  rules: [{ matches: [{ path: { value: /a } }], backendRefs: [{ name: reviews, port: 9080 }] }]`,
      '2026-01-01T00:00:00Z',
    )}${httpRoute(
      'frontend-view',
      'frontend',
      `  parentRefs: [{ kind: Service, name: ratings, namespace: shop }]
  rules: [{ backendRefs: [{ name: ratings-canary, port: 9080 }] }]`,
    ).replace('ratings-canary', 'ratings')}`);
    const routes = config.services.ratings!.routes!;
    expect(routes.map((r) => r.name)).toEqual(['frontend/frontend-view.0', 'older.0', 'newer.0']);
    expect(routes[0]!.match).toEqual([{ uri: { prefix: '/' }, sourceNamespace: 'frontend' }]);
  });

  it('skips a route bound only to Gateways, and names what it cannot take with its path', () => {
    const config = load(`${SERVICES}${httpRoute('edge', 'shop', `  parentRefs: [{ name: public-gateway }]\n  rules: [{ backendRefs: [{ name: ratings, port: 9080 }] }]`)}`);
    expect(config.services.ratings!.routes).toBeUndefined();
    const message = problems(`${SERVICES}${httpRoute(
      'bad',
      'shop',
      `  parentRefs: [{ kind: Service, name: ratings }, { kind: ServiceImport, group: multicluster.x-k8s.io, name: ratings }, { kind: Service, name: nowhere }]
  rules:
    - matches: [{ path: { type: Glob, value: /x } }]
      backendRefs: [{ name: ratings, port: 9080 }]
    - backendRefs: [{ name: ratings, namespace: other, port: 9080 }, { kind: Bucket, name: b }]
      filters: [{ type: ExtensionRef, extensionRef: { group: x, kind: y, name: z } }]
    - matches: [{ path: { type: Exact, value: /x } }]
      filters: [{ type: URLRewrite, urlRewrite: { path: { type: ReplacePrefixMatch, replacePrefixMatch: /y } } }]
      backendRefs: [{ name: ratings, port: 9080 }]
      sessionPersistence: { type: Cookie }
    - filters: [{ type: RequestRedirect, requestRedirect: { hostname: elsewhere } }]
      backendRefs: [{ name: ratings, port: 9080 }]`,
    )}`);
    expect(message).toContain('HTTPRoute shop/bad).spec.parentRefs[1]: is a multicluster.x-k8s.io/ServiceImport; proxyless routes for parents of kind Service');
    expect(message).toContain('spec.parentRefs[2].name: names Service "shop/nowhere", which is not a configured service');
    expect(message).toContain('spec.rules[0].matches[0].path.type: must be Exact, PathPrefix or RegularExpression, got "Glob"');
    expect(message).toContain(
      'spec.rules[1].backendRefs[0].namespace: names Service other/ratings, in another namespace: that needs a ReferenceGrant in other from HTTPRoute in shop to the Service',
    );
    expect(message).toContain('spec.rules[1].backendRefs[1].kind: is a Bucket; proxyless sends to Services');
    expect(message).toContain('spec.rules[1].filters[0].type: is not supported (proxyless takes RequestHeaderModifier');
    expect(message).toContain('spec.rules[2].matches[0]: URLRewrite ReplacePrefixMatch needs a PathPrefix match');
    expect(message).toContain('spec.rules[2].sessionPersistence: is not supported');
    expect(message).toContain('spec.rules[3].backendRefs: sets both a RequestRedirect filter and backendRefs');
  });

  it('sends a rule without backendRefs on to the parent Service, on the port the request came to', () => {
    const config = load(`${SERVICES}${httpRoute(
      'headers-only',
      'shop',
      `  parentRefs: [{ kind: Service, name: reviews }]
  rules:
    - filters: [{ type: RequestHeaderModifier, requestHeaderModifier: { set: [{ name: x-mesh, value: "1" }] } }]`,
    )}`);
    for (const name of ['reviews', 'reviews-admin']) {
      const [route] = config.services[name]!.routes!;
      expect(route!.route).toEqual([{ destination: {}, weight: 100 }]);
      expect(route!.headers).toMatchObject({ request: { set: { 'x-mesh': '1' } } });
    }
  });

  it("sends to another namespace's Service when that namespace's ReferenceGrant allows the route's kind from the route's namespace", () => {
    const services = `
mesh: { namespace: shop }
services:
  reviews: { port: 9080, endpoints: ["10.0.0.1:9080"] }
  reviews-next: { namespace: staging, port: 9080, endpoints: ["10.0.9.1:9080"] }
  secret: { namespace: staging, port: 9080, endpoints: ["10.0.9.2:9080"] }
`;
    const grant = (to: string) => `
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: { name: from-shop, namespace: staging }
spec:
  from: [{ group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: shop }, { group: gateway.networking.k8s.io, kind: GRPCRoute, namespace: other }]
  to: [${to}]
`;
    const route = (backend: string) =>
      httpRoute('to-staging', 'shop', `  parentRefs: [{ kind: Service, name: reviews }]\n  rules: [{ backendRefs: [{ name: reviews, port: 9080, weight: 9 }, { name: ${backend}, namespace: staging, port: 9080, weight: 1 }] }]`);
    const config = load(`${services}${grant('{ group: "", kind: Service, name: reviews-next }')}${route('reviews-next')}`);
    expect(config.services.reviews!.routes![0]!.route!.map((d) => [d.destination.service, d.weight])).toEqual([
      ['reviews', 9],
      ['reviews-next', 1],
    ]);
    // The grant names one Service; another of that namespace stays out of reach, and so does a grant for another kind or namespace.
    expect(problems(`${services}${grant('{ group: "", kind: Service, name: reviews-next }')}${route('secret')}`)).toContain(
      'names Service staging/secret, in another namespace: that needs a ReferenceGrant in staging from HTTPRoute in shop',
    );
    expect(load(`${services}${grant('{ group: "", kind: Service }')}${route('secret')}`).services.reviews!.routes![0]!.route![1]!.destination.service).toBe('secret');
    expect(problems(`${services}${grant('{ group: "", kind: Secret }')}${route('reviews-next')}`)).toContain('needs a ReferenceGrant in staging');
  });

  it('refuses an HTTPRoute and a VirtualService that both set one service’s routes', () => {
    const message = problems(`${SERVICES}${httpRoute('ratings', 'shop', `  parentRefs: [{ kind: Service, name: ratings }]\n  rules: [{ backendRefs: [{ name: ratings, port: 9080 }] }]`)}
---
kind: VirtualService
metadata: { name: ratings, namespace: shop }
spec: { hosts: [ratings], http: [{ route: [{ destination: { host: ratings } }] }] }
`);
    expect(message).toMatch(/HTTPRoute shop\/ratings\): sets routes of service "ratings", which document \d \(VirtualService shop\/ratings\) sets too; keep one/);
  });

  it('reads examples/kubernetes/httproute-canary.yaml as its comment says', () => {
    const docs = parseAllDocuments(readFileSync(new URL('../../../../examples/kubernetes/httproute-canary.yaml', import.meta.url), 'utf8')).map((d) => d.toJSON());
    const route = docs.find((d) => d.kind === 'HTTPRoute');
    const services = Object.fromEntries(['reviews', 'reviews-v1', 'reviews-v2'].map((n, i) => [n, { namespace: 'shop', port: 9080, endpoints: [`10.0.0.${i + 1}:9080`] }]));
    const config = load(`${stringify({ services })}---\n${stringify(route)}`);
    const [optIn, split] = config.services.reviews!.routes!;
    expect(optIn!.match).toEqual([{ uri: { prefix: '/' }, headers: { 'x-canary': { exact: 'always' } } }]);
    expect(optIn!.route!.map((d) => d.destination.service)).toEqual(['reviews-v2']);
    expect(split!.route!.map((d) => [d.destination.service, d.weight])).toEqual([
      ['reviews-v1', 90],
      ['reviews-v2', 10],
    ]);
    expect(split!.timeout).toBe(2000);
  });
});
