/** Compiled route tables: every condition kind, ignoreUriCase, and first match wins. */
import { describe, expect, it } from 'vitest';
import { compileRouteTable } from '../../../src/routing/route-table.js';
import { req, routes } from './support.js';

const TO_SELF = [{ destination: {} }];

/** The name of the route `path` (and headers, method) picks, or undefined. */
function pick(table: ReturnType<typeof compileRouteTable>, path: string, headers = {}, method = 'GET') {
  return table.match(req(path, headers, method))?.name;
}

describe('uri conditions', () => {
  const table = compileRouteTable(
    'reviews',
    routes(
      { name: 'exact', match: [{ uri: { exact: '/a' } }], route: TO_SELF },
      { name: 'prefix', match: [{ uri: { prefix: '/api/' } }], route: TO_SELF },
      { name: 'regex', match: [{ uri: { regex: '/u/[0-9]+' } }], route: TO_SELF },
    ),
  );

  it.each([
    ['/a', 'exact'],
    ['/a?x=1', 'exact'],
    ['/a/', undefined],
    ['/ab', undefined],
    ['/api/', 'prefix'],
    ['/api/v1/users?id=3', 'prefix'],
    ['/api', undefined],
    ['/u/42', 'regex'],
    ['/u/42?x', 'regex'],
    ['/u/42/x', undefined],
    ['/x/u/42', undefined],
    ['/u/', undefined],
  ])('%s → %s', (path, name) => {
    expect(pick(table, path)).toBe(name);
  });

  it('matches regexes against the whole path, anchored or not', () => {
    const t = compileRouteTable('s', routes({ name: 'r', match: [{ uri: { regex: '^/u/[0-9]+$' } }], route: TO_SELF }));
    expect(pick(t, '/u/7')).toBe('r');
    expect(pick(t, '/u/7x')).toBeUndefined();
  });

  it('folds case only for entries that ask', () => {
    const t = compileRouteTable(
      's',
      routes(
        { name: 'exact-i', match: [{ uri: { exact: '/Login' }, ignoreUriCase: true }], route: TO_SELF },
        { name: 'prefix-i', match: [{ uri: { prefix: '/API/' }, ignoreUriCase: true }], route: TO_SELF },
        { name: 'regex-i', match: [{ uri: { regex: '/Users/[a-z]+' }, ignoreUriCase: true }], route: TO_SELF },
        { name: 'cased', match: [{ uri: { prefix: '/Docs' } }], route: TO_SELF },
      ),
    );
    expect(pick(t, '/login')).toBe('exact-i');
    expect(pick(t, '/LOGIN?next=/')).toBe('exact-i');
    expect(pick(t, '/api/x')).toBe('prefix-i');
    expect(pick(t, '/Api/x')).toBe('prefix-i');
    expect(pick(t, '/USERS/BOB')).toBe('regex-i');
    expect(pick(t, '/Docs/a')).toBe('cased');
    expect(pick(t, '/docs/a')).toBeUndefined();
  });
});

describe('method, header and query conditions', () => {
  const table = compileRouteTable(
    'reviews',
    routes(
      { name: 'get', match: [{ method: 'GET', uri: { prefix: '/m' } }], route: TO_SELF },
      { name: 'p-methods', match: [{ method: { prefix: 'P' }, uri: { prefix: '/m' } }], route: TO_SELF },
      { name: 'regex-method', match: [{ method: { regex: 'DELETE|HEAD' }, uri: { prefix: '/m' } }], route: TO_SELF },
      { name: 'h-exact', match: [{ headers: { 'x-user': { exact: 'jason' } } }], route: TO_SELF },
      { name: 'h-prefix', match: [{ headers: { 'x-user': { prefix: 'ad' } } }], route: TO_SELF },
      { name: 'h-regex', match: [{ headers: { 'X-Ver': { regex: 'v[0-9]' } } }], route: TO_SELF },
      { name: 'h-present', match: [{ headers: { 'x-debug': { present: true } } }], route: TO_SELF },
      {
        name: 'h-absent',
        match: [{ uri: { prefix: '/anon' }, headers: { authorization: { absent: true } } }],
        route: TO_SELF,
      },
      { name: 'q-exact', match: [{ queryParams: { debug: { exact: '1' } } }], route: TO_SELF },
      { name: 'q-prefix', match: [{ queryParams: { v: { prefix: 'beta' } } }], route: TO_SELF },
      { name: 'q-regex', match: [{ queryParams: { id: { regex: '[0-9]+' } } }], route: TO_SELF },
      { name: 'q-present', match: [{ queryParams: { trace: { present: true } } }], route: TO_SELF },
      {
        name: 'q-absent',
        match: [{ uri: { prefix: '/q' }, queryParams: { token: { absent: true } } }],
        route: TO_SELF,
      },
    ),
  );

  it.each([
    ['GET', 'get'],
    ['POST', 'p-methods'],
    ['PUT', 'p-methods'],
    ['DELETE', 'regex-method'],
    ['HEAD', 'regex-method'],
    ['OPTIONS', undefined],
  ])('method %s → %s', (method, name) => {
    expect(pick(table, '/m', {}, method)).toBe(name);
  });

  it.each([
    [{ 'x-user': 'jason' }, 'h-exact'],
    [{ 'x-user': 'jasonx' }, undefined],
    [{ 'x-user': 'admin' }, 'h-prefix'],
    [{ 'x-ver': 'v2' }, 'h-regex'],
    [{ 'x-ver': 'v22' }, undefined],
    [{ 'x-debug': '' }, 'h-present'],
    [{}, undefined],
  ])('headers %j → %s', (headers, name) => {
    expect(pick(table, '/', headers)).toBe(name);
  });

  it('matches an absent header only when it is missing', () => {
    expect(pick(table, '/anon')).toBe('h-absent');
    expect(pick(table, '/anon', { authorization: 'Bearer x' })).toBeUndefined();
  });

  it.each([
    ['/?debug=1', 'q-exact'],
    ['/?a=b&debug=1', 'q-exact'],
    ['/?debug=10', undefined],
    ['/?xdebug=1', undefined],
    ['/?v=beta2', 'q-prefix'],
    ['/?id=42', 'q-regex'],
    ['/?id=42x', undefined],
    ['/?trace', 'q-present'],
    ['/?trace=', 'q-present'],
    ['/?debug=%31', 'q-exact'],
    ['/', undefined],
    ['/q', 'q-absent'],
    ['/q?a=1', 'q-absent'],
    ['/q?token=t', undefined],
  ])('%s → %s', (path, name) => {
    expect(pick(table, path)).toBe(name);
  });

  it('needs every condition of an entry, and any one entry', () => {
    const t = compileRouteTable(
      's',
      routes({
        name: 'both',
        match: [
          { uri: { prefix: '/a' }, headers: { 'x-canary': { exact: '1' } }, method: 'POST' },
          { uri: { exact: '/b' } },
        ],
        route: TO_SELF,
      }),
    );
    expect(pick(t, '/a', { 'x-canary': '1' }, 'POST')).toBe('both');
    expect(pick(t, '/a', { 'x-canary': '1' }, 'GET')).toBeUndefined();
    expect(pick(t, '/a', {}, 'POST')).toBeUndefined();
    expect(pick(t, '/b', {}, 'PATCH')).toBe('both');
  });
});

describe('authority conditions', () => {
  const table = compileRouteTable(
    'reviews',
    routes(
      { name: 'internal', match: [{ authority: { exact: 'reviews.internal' } }], route: TO_SELF },
      { name: 'port', match: [{ authority: { regex: '[^:]+:9080' }, uri: { prefix: '/p' } }], route: TO_SELF },
      { name: 'canary-host', match: [{ authority: { prefix: 'canary.' } }], route: TO_SELF },
      { name: 'rest', route: TO_SELF },
    ),
  );
  it.each([
    ['reviews.internal', '/x', 'internal'],
    ['Reviews.internal', '/x', 'rest'], // case-sensitive, as Istio's authority match
    ['reviews.internal:80', '/x', 'rest'], // exact means the whole authority, port included
    ['reviews:9080', '/p/1', 'port'],
    ['reviews:9080', '/x', 'rest'],
    ['canary.reviews', '/x', 'canary-host'],
    ['reviews', '/x', 'rest'],
  ])('%s %s → %s', (authority, path, name) => {
    expect(table.match(req(path, {}, 'GET', authority))?.name).toBe(name);
  });
});

describe('first match wins', () => {
  it('takes the lowest route index whatever the kind of match', () => {
    const a = routes(
      { name: 'regex', match: [{ uri: { regex: '/api/.*' } }], route: TO_SELF },
      { name: 'prefix', match: [{ uri: { prefix: '/api/' } }], route: TO_SELF },
      { name: 'exact', match: [{ uri: { exact: '/api/x' } }], route: TO_SELF },
    );
    expect(pick(compileRouteTable('s', a), '/api/x')).toBe('regex');
    expect(pick(compileRouteTable('s', [...a].reverse()), '/api/x')).toBe('exact');
    expect(pick(compileRouteTable('s', [a[1]!, a[2]!, a[0]!]), '/api/x')).toBe('prefix');
  });

  it('prefers an earlier short prefix over a later longer one (order, not length)', () => {
    const t = compileRouteTable(
      's',
      routes(
        { name: 'short', match: [{ uri: { prefix: '/a' } }], route: TO_SELF },
        { name: 'long', match: [{ uri: { prefix: '/a/b/c' } }], route: TO_SELF },
      ),
    );
    expect(pick(t, '/a/b/c/d')).toBe('short');
  });

  it('falls through a candidate whose other conditions fail', () => {
    const t = compileRouteTable(
      's',
      routes(
        { name: 'canary', match: [{ uri: { prefix: '/' }, headers: { 'x-canary': { exact: '1' } } }], route: TO_SELF },
        { name: 'catch-all', route: TO_SELF },
      ),
    );
    expect(pick(t, '/x', { 'x-canary': '1' })).toBe('canary');
    expect(pick(t, '/x')).toBe('catch-all');
  });
});

describe('source conditions (sourceLabels, sourceNamespace)', () => {
  const table = (labels: Record<string, string>, namespace = 'shop') =>
    compileRouteTable(
      'ratings',
      routes(
        {
          name: 'from-reviews-v2',
          match: [
            { sourceLabels: { app: 'reviews', version: 'v2' }, uri: { prefix: '/ratings' } },
            { sourceNamespace: 'test', headers: { 'x-canary': { exact: '1' } } },
          ],
          route: TO_SELF,
          timeout: 1,
        },
        { name: 'from-shop', match: [{ sourceNamespace: 'shop' }], route: TO_SELF },
        { name: 'rest', route: TO_SELF },
      ),
      { namespace, labels },
    );

  it('keeps an entry only in a workload with every label it names', () => {
    const v2 = table({ app: 'reviews', version: 'v2', pod: 'x' });
    expect(pick(v2, '/ratings/1')).toBe('from-reviews-v2');
    expect(pick(v2, '/other')).toBe('from-shop');
    const v1 = table({ app: 'reviews', version: 'v1' });
    expect(pick(v1, '/ratings/1')).toBe('from-shop');
    expect(pick(table({ version: 'v2' }), '/ratings/1')).toBe('from-shop');
  });

  it('keeps an entry only in its namespace, and a route left with no entry never matches', () => {
    const test = table({ app: 'reviews', version: 'v1' }, 'test');
    expect(pick(test, '/ratings/1', { 'x-canary': '1' })).toBe('from-reviews-v2');
    expect(pick(test, '/ratings/1')).toBe('rest');
    const elsewhere = table({}, 'prod');
    expect(pick(elsewhere, '/ratings/1', { 'x-canary': '1' })).toBe('rest');
    // The route is still in the table, under its own index: its policy is never picked, not renumbered.
    expect(elsewhere.routes.map((r) => r.name)).toEqual(['from-reviews-v2', 'from-shop', 'rest']);
    expect(elsewhere.matchEntry(req('/x'))?.route.index).toBe(2);
  });

  it('reports which written entry matched when an earlier one was left out', () => {
    const test = table({}, 'test');
    expect(test.matchEntry(req('/ratings', { 'x-canary': '1' }))?.entry).toBe(1);
  });

  it('leaves source conditions unchecked without a workload (the route table of an unknown caller)', () => {
    const t = compileRouteTable('ratings', routes({ name: 'only-v2', match: [{ sourceLabels: { version: 'v2' } }], route: TO_SELF }));
    expect(pick(t, '/')).toBe('only-v2');
  });
});
