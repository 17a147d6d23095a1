/** What a matched route carries: backends and weights, timeout, fault, mirror, redirects, rewrites. */
import { describe, expect, it } from 'vitest';
import { compileRouteTable } from '../../../src/routing/route-table.js';
import { req, routes } from './support.js';

const TO_SELF = [{ destination: {} }];

describe('compiled routes', () => {
  it('has one catch-all route to the service itself when there are no routes', () => {
    const table = compileRouteTable('reviews', []);
    expect(table.routes).toHaveLength(1);
    const route = table.match(req('/anything?x=1'));
    expect(route?.name).toBe('default');
    expect(route?.backends).toEqual([
      { service: 'reviews', subset: undefined, weight: 100, requestHeaders: undefined, responseHeaders: undefined },
    ]);
    expect(route?.pickBackend(0.99).service).toBe('reviews');
  });

  it('names unnamed routes by position and fills in the owning service', () => {
    const table = compileRouteTable(
      'reviews',
      routes(
        { name: 'named', match: [{ uri: { prefix: '/a' } }], route: [{ destination: { service: 'ratings' } }] },
        { route: [{ destination: { subset: 'v2' } }] },
      ),
    );
    expect(table.routes.map((r) => [r.name, r.index])).toEqual([
      ['named', 0],
      ['route[1]', 1],
    ]);
    expect(table.routes[0]?.backends[0]?.service).toBe('ratings');
    expect(table.routes[1]?.backends[0]).toMatchObject({ service: 'reviews', subset: 'v2' });
  });

  it('carries timeout, fault and mirror as numbers and fractions', () => {
    const [route] = compileRouteTable(
      'reviews',
      routes({
        route: TO_SELF,
        timeout: '2s',
        fault: { delay: { percentage: 10, fixedDelay: '5s' }, abort: { percentage: { value: 5 }, httpStatus: 503 } },
        mirror: { service: 'shadow', subset: 'v2' },
        mirrorPercentage: 25,
      }),
    ).routes;
    expect(route?.timeoutMs).toBe(2000);
    expect(route?.fault).toEqual({
      delay: { fraction: 0.1, ms: 5000 },
      abort: { fraction: 0.05, status: 503, headers: undefined, body: 'fault filter abort' },
    });
    expect(route?.mirrors).toEqual([{ service: 'shadow', subset: 'v2', fraction: 0.25 }]);
  });

  it("builds a gRPC abort's trailers-only answer once", () => {
    const [route] = compileRouteTable('reviews', routes({ route: TO_SELF, fault: { abort: { percentage: 1, grpcStatus: 'UNAVAILABLE' } } })).routes;
    expect(route?.fault?.abort).toEqual({
      fraction: 0.01,
      status: 200,
      headers: { 'content-type': 'application/grpc', 'grpc-status': '14', 'grpc-message': 'fault filter abort' },
      body: undefined,
    });
    expect(Object.isFrozen(route?.fault?.abort?.headers)).toBe(true);
  });

  it('mirrors everything to the owning service when only a subset is named', () => {
    const [route] = compileRouteTable('reviews', routes({ route: TO_SELF, mirror: { subset: 'v3' } })).routes;
    expect(route?.mirrors).toEqual([{ service: 'reviews', subset: 'v3', fraction: 1 }]);
    expect(route?.fault).toBeUndefined();
    expect(compileRouteTable('reviews', routes({ route: TO_SELF })).routes[0]?.mirrors).toEqual([]);
  });

  it('compiles mirrors, each with its own share', () => {
    const [route] = compileRouteTable(
      'reviews',
      routes({ route: TO_SELF, mirrors: [{ destination: { subset: 'v3' } }, { destination: { service: 'shadow' }, percentage: { value: 5 } }] }),
    ).routes;
    expect(route?.mirrors).toEqual([
      { service: 'reviews', subset: 'v3', fraction: 1 },
      { service: 'shadow', subset: undefined, fraction: 0.05 },
    ]);
  });

  it('keeps the validated config for the fields the table does not interpret', () => {
    const config = routes({ route: TO_SELF, retries: { attempts: 4 } });
    expect(compileRouteTable('s', config).routes[0]?.config).toBe(config[0]);
  });

  it('compiles route and destination header mutations separately', () => {
    const [route] = compileRouteTable(
      's',
      routes({
        route: [{ destination: {}, headers: { response: { add: { 'x-served-by': 'v1' } } } }],
        headers: { request: { set: { 'X-Route': 'r1' }, remove: ['x-internal'] } },
      }),
    ).routes;
    expect(route?.requestHeaders).toEqual({ set: [['x-route', 'r1']], add: [], remove: ['x-internal'] });
    expect(route?.responseHeaders).toBeUndefined();
    expect(route?.backends[0]?.requestHeaders).toBeUndefined();
    expect(route?.backends[0]?.responseHeaders).toEqual({ set: [], add: [['x-served-by', 'v1']], remove: [] });
  });
});

describe('weighted backends', () => {
  const [route] = compileRouteTable(
    'reviews',
    routes({
      route: [
        { destination: { subset: 'v1' }, weight: 90 },
        { destination: { subset: 'never' }, weight: 0 },
        { destination: { subset: 'v2' }, weight: 10 },
      ],
    }),
  ).routes;

  it('splits 90/10 over an evenly spaced sequence of draws, never picking a zero weight', () => {
    const counts = new Map<string | undefined, number>();
    for (let i = 0; i < 10_000; i++) {
      const b = route!.pickBackend(i / 10_000);
      counts.set(b.subset, (counts.get(b.subset) ?? 0) + 1);
    }
    expect(Object.fromEntries(counts)).toEqual({ v1: 9000, v2: 1000 });
  });

  it('puts the boundaries where the weights say', () => {
    expect(route!.pickBackend(0).subset).toBe('v1');
    expect(route!.pickBackend(0.8999).subset).toBe('v1');
    expect(route!.pickBackend(0.9).subset).toBe('v2');
    expect(route!.pickBackend(0.999999).subset).toBe('v2');
  });

  it('has no backends to pick for a redirect', () => {
    const [r] = compileRouteTable('s', routes({ redirect: { uri: '/b' } })).routes;
    expect(r?.backends).toEqual([]);
    expect(() => r?.pickBackend(0.5)).toThrow('route route[0] answers requests itself; it has no backends to pick');
  });
});

const redirected = (status: number, location: string) => ({ status, headers: { location }, flag: '-' });

describe('redirects', () => {
  it('replaces the path and keeps the query', () => {
    const [r] = compileRouteTable('s', routes({ redirect: { uri: '/new' } })).routes;
    expect(r?.answer?.('/old/x?a=1', 'shop.example', 'http')).toEqual(redirected(301, 'http://shop.example/new?a=1'));
  });

  it('uses the redirect query instead when it has one', () => {
    const [r] = compileRouteTable('s', routes({ redirect: { uri: '/new?b=2', redirectCode: 308 } })).routes;
    expect(r?.answer?.('/old?a=1', 'h', 'http')).toEqual(redirected(308, 'http://h/new?b=2'));
  });

  it('changes scheme and authority, keeping the path', () => {
    const [r] = compileRouteTable('s', routes({ redirect: { scheme: 'https', authority: 'secure.example:8443' } }))
      .routes;
    expect(r?.answer?.('/cart?id=3', 'shop.example', 'http')).toEqual(redirected(301, 'https://secure.example:8443/cart?id=3'));
  });

  it('answers with a relative Location when the request has no authority', () => {
    const [r] = compileRouteTable('s', routes({ redirect: { uri: '/new', redirectCode: 302 } })).routes;
    expect(r?.answer?.('/old', '', 'http')).toEqual(redirected(302, '/new'));
  });
});

describe('direct responses', () => {
  it('answer every request with the same status and body, built once', () => {
    const [r, bare] = compileRouteTable('s', routes({ directResponse: { status: 503, body: 'down for maintenance' } }, { directResponse: { status: 204 } })).routes;
    const first = r?.answer?.('/a', 'h', 'http');
    expect(first).toEqual({ status: 503, body: 'down for maintenance', flag: '-' });
    expect(r?.answer?.('/b?x', 'other', 'https')).toBe(first);
    expect(bare?.answer?.('/', 'h', 'http')).toEqual({ status: 204, body: undefined, flag: '-' });
    expect(r?.backends).toEqual([]);
  });
});

describe('rewrites', () => {
  it("rewrites with a regex (Istio's uriRegexRewrite) as RE2's GlobalReplace does, keeping the query", () => {
    const rewrite = (match: string, rewrite: string, path: string) =>
      compileRouteTable('s', routes({ rewrite: { uriRegexRewrite: { match, rewrite } }, route: TO_SELF })).match(req(path))?.rewritePath?.(path);
    expect(rewrite('^/service/([^/]+)(/.*)$', '\\2/instance/\\1', '/service/a/b/c?x=1')).toBe('/b/c/instance/a?x=1');
    // Every match, not just the first; \\0 is the whole match; a backslash is written \\\\; $ is literal.
    expect(rewrite('o', '0', '/foo/boo')).toBe('/f00/b00');
    expect(rewrite('[a-z]+', '<\\0>', '/ab/cd')).toBe('/<ab>/<cd>');
    expect(rewrite('/x', '\\\\$1', '/x')).toBe('\\$1');
    // RE2 skips an empty match right after a match: ".*" replaces the path once (String.replace would twice).
    expect(rewrite('.*', '/all', '/a/b?q')).toBe('/all?q');
    expect(rewrite('b*', '-', '/abc')).toBe('-/-a-c-');
    // No match: the path as it was.
    expect(rewrite('^/nope', '/x', '/keep?q=1')).toBe('/keep?q=1');
  });

  it('replaces the matched prefix and keeps the query', () => {
    const table = compileRouteTable(
      's',
      routes({ match: [{ uri: { prefix: '/api/v1/' } }], rewrite: { uri: '/v2/' }, route: TO_SELF }),
    );
    const route = table.match(req('/api/v1/users?page=2'));
    expect(route?.rewritePath?.('/api/v1/users?page=2')).toBe('/v2/users?page=2');
    expect(route?.rewritePath?.('/api/v1/')).toBe('/v2/');
  });

  it('does not double the slash when the rewrite ends in one and the prefix does not', () => {
    const [r] = compileRouteTable('s', routes({ match: [{ uri: { prefix: '/api' } }], rewrite: { uri: '/' }, route: TO_SELF }))
      .routes;
    expect(r?.rewritePath?.('/api/x')).toBe('/x');
    expect(r?.rewritePath?.('/api')).toBe('/');
    expect(r?.rewritePath?.('/api?q=1')).toBe('/?q=1');
  });

  it('replaces a case-folded prefix by its length', () => {
    const [r] = compileRouteTable(
      's',
      routes({ match: [{ uri: { prefix: '/API/' }, ignoreUriCase: true }], rewrite: { uri: '/v2/' }, route: TO_SELF }),
    ).routes;
    expect(r?.rewritePath?.('/api/users')).toBe('/v2/users');
  });

  it('replaces the whole path for exact and regex matches, keeping the query', () => {
    const [exact, regex] = compileRouteTable(
      's',
      routes(
        { match: [{ uri: { exact: '/old' } }], rewrite: { uri: '/new' }, route: TO_SELF },
        { match: [{ uri: { regex: '/u/[0-9]+' } }], rewrite: { uri: '/user' }, route: TO_SELF },
      ),
    ).routes;
    expect(exact?.rewritePath?.('/old?x=1')).toBe('/new?x=1');
    expect(regex?.rewritePath?.('/u/42')).toBe('/user');
  });

  it('uses the prefix of the entry that matched', () => {
    const table = compileRouteTable(
      's',
      routes({
        match: [{ uri: { prefix: '/a/' } }, { uri: { prefix: '/b/c/' } }],
        rewrite: { uri: '/z/' },
        route: TO_SELF,
      }),
    );
    const route = table.match(req('/b/c/d'));
    expect(route?.rewritePath?.('/b/c/d')).toBe('/z/d');
    expect(route?.rewritePath?.('/a/d')).toBe('/z/d');
  });

  it('tells entries apart exactly through matchEntry when the path alone cannot', () => {
    const table = compileRouteTable(
      's',
      routes({
        match: [{ uri: { prefix: '/a' }, headers: { 'x-v': { exact: '1' } } }, { uri: { prefix: '/ab' } }],
        rewrite: { uri: '/z' },
        route: TO_SELF,
      }),
    );
    const m = table.matchEntry(req('/abc'));
    expect(m?.entry).toBe(1);
    expect(m?.rewritePath?.('/abc')).toBe('/zc');
    // Re-derived from the path alone, the first entry's prefix applies.
    expect(m?.route.rewritePath?.('/abc')).toBe('/zbc');
    expect(table.matchEntry(req('/abc', { 'x-v': '1' }))?.entry).toBe(0);
  });

  it('has no rewritePath without a uri rewrite, but keeps the authority', () => {
    const [r] = compileRouteTable('s', routes({ route: TO_SELF, rewrite: { authority: 'other.host' } })).routes;
    expect(r?.rewritePath).toBeUndefined();
    expect(r?.rewriteAuthority).toBe('other.host');
  });
});
