/**
 * Gateway API GRPCRoute bound to a Service (GAMMA) → routes of that Service,
 * as HTTPRoute is read (mesh-route.ts: parents, producer and consumer
 * routes; backends and header filters as http-route-actions.ts reads them). A gRPC method is the
 * request path `/<service>/<method>`, so a method match becomes a path
 * match: both names exact, a service's every method (a path prefix), or a
 * pattern.
 *
 * The spec's precedence between matches: the longest service, then the
 * longest method, then the most headers; then the oldest route, its
 * `namespace/name`, the rule's and the match's position.
 */
import type { HostIndex } from './host-index.js';
import { ruleActions } from './http-route-actions.js';
import { compareOrigin, type MatchOrigin, meshRoutes, nameValueMatches, type ServiceRoutes } from './mesh-route.js';
import type { Raw, ResourceReader } from './reader.js';
import type { ReferenceGrants } from './reference-grants.js';

export interface GrpcRank extends MatchOrigin {
  readonly service: number;
  readonly method: number;
  readonly headers: number;
}

/** Negative when `a` is tried before `b`. */
export function compareGrpcRank(a: GrpcRank, b: GrpcRank): number {
  return b.service - a.service || b.method - a.method || b.headers - a.headers || compareOrigin(a, b);
}

export function translateGrpcRoute(doc: Raw, r: ResourceReader, hosts: HostIndex, grants: ReferenceGrants): ServiceRoutes<GrpcRank>[] {
  return meshRoutes(doc, r, hosts, compareGrpcRank, (value, rr, index, base, source, pending) => {
    const written = rr.map(value, true) ?? {};
    rr.only(written, ['name', 'matches', 'filters', 'backendRefs'], { sessionPersistence: 'is not supported' });
    const name = `${base}.${typeof written.name === 'string' ? written.name : index}`;
    const actions = ruleActions(written, rr, { kind: 'GRPCRoute', namespace: source.namespace ?? hosts.defaultNamespace, pending, hosts, grants });
    if (actions.rewrite !== undefined || actions.prefixRewrite !== undefined || actions.route.redirect !== undefined) {
      rr.child('filters').issue('takes RequestHeaderModifier, ResponseHeaderModifier and RequestMirror on a GRPCRoute, as its schema does');
    }
    const matches = written.matches === undefined ? [{}] : (rr.list(written.matches) ?? []);
    return matches.flatMap((m, j) => {
      const translated = grpcMatch(m, rr.child('matches').child(j));
      if (translated === undefined) return [];
      const rank: GrpcRank = { ...translated.rank, created: source.created, id: source.id, rule: index, match: j };
      return [{ rank, route: { ...actions.route, name: matches.length > 1 ? `${name}.${j}` : name, match: [translated.entry] } }];
    });
  });
}

/** One GRPCMethodMatch and its headers as a match entry on the request path. */
function grpcMatch(value: unknown, r: ResourceReader): { entry: Raw; rank: Pick<GrpcRank, 'service' | 'method' | 'headers'> } | undefined {
  const m = r.map(value) ?? {};
  r.only(m, ['method', 'headers']);
  const entry: Raw = {};
  let service = '';
  let method = '';
  if (m.method !== undefined) {
    const mr = r.child('method');
    const written = mr.map(m.method) ?? {};
    mr.only(written, ['type', 'service', 'method']);
    const type = written.type ?? 'Exact';
    service = typeof written.service === 'string' ? written.service : '';
    method = typeof written.method === 'string' ? written.method : '';
    if (service === '' && method === '') {
      mr.issue('set service, method or both');
      return undefined;
    }
    if (type === 'Exact') {
      if (/\//.test(service) || /\//.test(method)) {
        mr.issue('names a service or method with "/", which no gRPC path can carry');
        return undefined;
      }
      if (method === '') entry.uri = { prefix: `/${service}/` };
      else if (service === '') entry.uri = { regex: `/[^/]+/${escapeRegex(method)}` };
      else entry.uri = { exact: `/${service}/${method}` };
    } else if (type === 'RegularExpression') {
      entry.uri = { regex: `/${service === '' ? '[^/]+' : `(?:${service})`}/${method === '' ? '[^/]+' : `(?:${method})`}` };
    } else {
      mr.issue(`must be Exact or RegularExpression, got ${JSON.stringify(type)}`, 'type');
      return undefined;
    }
  }
  const headers = nameValueMatches(m.headers, r.child('headers'), true);
  if (headers !== undefined) entry.headers = headers.out;
  return { entry, rank: { service: service.length, method: method.length, headers: headers?.count ?? 0 } };
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
