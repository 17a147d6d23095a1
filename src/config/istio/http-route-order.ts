/**
 * The Gateway API's precedence between HTTPRoute matches, which decides
 * which rule a request takes (the spec's HTTPRouteRule documentation):
 * an Exact path first, then the longest PathPrefix, then a method match,
 * then the most header matches, then the most query parameter matches;
 * between equals the oldest route, then the route's `namespace/name`, then
 * the rule's and the match's position. A RegularExpression path, whose
 * rank the spec leaves to implementations, comes after Exact and before
 * every PathPrefix.
 */
import { compareOrigin, type MatchOrigin } from './mesh-route.js';

export interface MatchRank extends MatchOrigin {
  readonly path: 'exact' | 'regex' | 'prefix';
  /** The path's length: longer prefixes first. */
  readonly length: number;
  readonly method: boolean;
  readonly headers: number;
  readonly queryParams: number;
}

const PATH_ORDER = { exact: 0, regex: 1, prefix: 2 } as const;

export function matchRank(m: Pick<MatchRank, 'path' | 'length' | 'method' | 'headers' | 'queryParams'>, created: string, id: string, rule: number, match: number): MatchRank {
  return { ...m, created, id, rule, match };
}

/** Negative when `a` is tried before `b`. */
export function compareRank(a: MatchRank, b: MatchRank): number {
  return (
    PATH_ORDER[a.path] - PATH_ORDER[b.path] ||
    (a.path === 'prefix' ? b.length - a.length : 0) ||
    Number(b.method) - Number(a.method) ||
    b.headers - a.headers ||
    b.queryParams - a.queryParams ||
    compareOrigin(a, b)
  );
}
