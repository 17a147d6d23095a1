/**
 * Gateway API HTTPRoute bound to a Service → routes of that Service
 * (mesh-route.ts has what every route kind shares). Each match becomes a
 * route ranked by HTTPRoute's precedence (http-route-order.ts); a
 * PathPrefix matches whole segments, as the spec requires.
 */
import type { HostIndex } from './host-index.js';
import { type BackendScope, ruleActions } from './http-route-actions.js';
import { compareRank, type MatchRank, matchRank } from './http-route-order.js';
import { meshRoutes, nameValueMatches, type RankedRoute, type RouteSource, type ServiceRoutes } from './mesh-route.js';
import type { Raw, ResourceReader } from './reader.js';
import type { ReferenceGrants } from './reference-grants.js';

export function translateHttpRoute(doc: Raw, r: ResourceReader, hosts: HostIndex, grants: ReferenceGrants): ServiceRoutes<MatchRank>[] {
  return meshRoutes(doc, r, hosts, compareRank, (value, rr, index, base, source, pending) =>
    rule(value, rr, index, base, source, { kind: 'HTTPRoute', namespace: source.namespace ?? hosts.defaultNamespace, pending, hosts, grants }),
  );
}

/** One rule: one route per match (the rule's actions on each), each with its precedence. */
function rule(value: unknown, r: ResourceReader, index: number, base: string, source: RouteSource, scope: BackendScope): RankedRoute<MatchRank>[] {
  const written = r.map(value, true) ?? {};
  r.only(written, ['name', 'matches', 'filters', 'backendRefs', 'timeouts', 'retry'], { sessionPersistence: 'is not supported' });
  // Named by the rule's name when it has one (Gateway API 1.2), else its position.
  const ruleName = `${base}.${typeof written.name === 'string' ? written.name : index}`;
  const actions = ruleActions(written, r, scope);
  const matches = written.matches === undefined ? [{}] : (r.list(written.matches) ?? []);
  const many = matches.length > 1;
  return matches.flatMap((m, j): RankedRoute<MatchRank>[] => {
    const mr = r.child('matches').child(j);
    const translated = match(m, mr);
    if (translated === undefined) return [];
    const rank = matchRank(translated.rank, source.created, source.id, index, j);
    const routeName = many ? `${ruleName}.${j}` : ruleName;
    const rewrite = actions.prefixRewrite;
    // A prefix rewrite replaces "/foo" in "/foo/bar" and all of "/foo": two routes, each with its own.
    if (rewrite !== undefined && translated.prefix !== undefined) {
      const p = translated.prefix;
      const whole = { ...actions.route, name: `${routeName}.exact`, match: [{ ...translated.entry, uri: { exact: p } }], rewrite: { ...actions.rewrite, uri: rewrite } };
      const below = {
        ...actions.route,
        name: routeName,
        match: [{ ...translated.entry, uri: { prefix: `${p}/` } }],
        rewrite: { ...actions.rewrite, uri: rewrite.endsWith('/') ? rewrite : `${rewrite}/` },
      };
      return p === '' ? [{ rank, route: { ...below, match: [{ ...translated.entry, uri: { prefix: '/' } }] } }] : [{ rank, route: whole }, { rank, route: below }];
    }
    if (rewrite !== undefined) mr.issue('URLRewrite ReplacePrefixMatch needs a PathPrefix match, as the Gateway API requires');
    const { entry, prefix } = translated;
    const entries =
      prefix === undefined ? [entry] : prefix === '' ? [{ ...entry, uri: { prefix: '/' } }] : [{ ...entry, uri: { exact: prefix } }, { ...entry, uri: { prefix: `${prefix}/` } }];
    const route: Raw = { ...actions.route, name: routeName, match: entries };
    if (actions.rewrite !== undefined) route.rewrite = actions.rewrite;
    return [{ rank, route }];
  });
}

interface TranslatedMatch {
  readonly entry: Raw;
  /** A PathPrefix's path without its trailing slash (`''` for `/`), matched by whole segments. */
  readonly prefix: string | undefined;
  readonly rank: Pick<MatchRank, 'path' | 'length' | 'method' | 'headers' | 'queryParams'>;
}

function match(written: unknown, r: ResourceReader): TranslatedMatch | undefined {
  const m = r.map(written) ?? {};
  r.only(m, ['path', 'headers', 'queryParams', 'method']);
  const entry: Raw = {};
  const pr = r.child('path');
  const path = pr.map(m.path) ?? {};
  pr.only(path, ['type', 'value']);
  const type = path.type ?? 'PathPrefix';
  const value = path.value ?? '/';
  if (typeof value !== 'string' || !value.startsWith('/')) {
    pr.issue(`must be a path starting with "/", got ${JSON.stringify(value)}`, 'value');
    return undefined;
  }
  let prefix: string | undefined;
  let kind: 'exact' | 'regex' | 'prefix' = 'prefix';
  if (type === 'Exact') {
    entry.uri = { exact: value };
    kind = 'exact';
  } else if (type === 'RegularExpression') {
    entry.uri = { regex: value };
    kind = 'regex';
  } else if (type === 'PathPrefix') {
    prefix = value.replace(/\/+$/, '');
  } else {
    pr.issue(`must be Exact, PathPrefix or RegularExpression, got ${JSON.stringify(type)}`, 'type');
    return undefined;
  }
  const headers = nameValueMatches(m.headers, r.child('headers'), true);
  if (headers !== undefined) entry.headers = headers.out;
  const query = nameValueMatches(m.queryParams, r.child('queryParams'), false);
  if (query !== undefined) entry.queryParams = query.out;
  if (m.method !== undefined) {
    const method = r.child('method').string(m.method, true);
    if (method !== undefined) entry.method = { exact: method };
  }
  return {
    entry,
    prefix,
    rank: { path: kind, length: prefix?.length ?? value.length, method: m.method !== undefined, headers: headers?.count ?? 0, queryParams: query?.count ?? 0 },
  };
}

