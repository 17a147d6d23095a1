/**
 * A service's routes, compiled once per config update into an immutable
 * table whose `match` is the hot path: first match wins, in config order.
 *
 * Every match entry of every route gets an id in route order. The path index
 * narrows a request to a few sorted lists of candidate ids (one exact hit,
 * the prefixes along the path, the entries it cannot narrow), and the header
 * index adds the entries filed by an exact header the request carries; `match` merges
 * them in ascending id order and stops at the first entry whose remaining
 * conditions hold. So 1,000 prefix routes cost a tree walk plus the few
 * candidates on the path, not 1,000 startsWith calls.
 *
 * The table keeps scratch arrays for the merge, so a match allocates
 * nothing beyond the path slice when there is a query string. `match` is
 * synchronous and never re-entered, so one scratch per table is safe.
 */
import { type RouteConfig, routeMirrors, routeSchema } from '../config/route-schema.js';
import { HeaderIndex } from './header-index.js';
import { compileHeaderMutation, type HeaderMutation } from './header-mutation.js';
import { PathIndex } from './path-index.js';
import { type PathRewrite, prefixRewrite, regexRewrite, wholePathRewrite } from './rewrite.js';
import { type AnswerRequest, compileAnswer, faultAbortAnswer } from './route-answer.js';
import { EntryMatcher, pathOnly, type RouteRequest } from './route-match.js';
import { entryAppliesTo, type RouteSource } from './route-source.js';
import { WeightedChoice } from './weighted.js';

export type { HeaderMutation } from './header-mutation.js';
export type { RouteRequest } from './route-match.js';

export interface RouteBackend {
  readonly service: string;
  readonly subset: string | undefined;
  readonly weight: number;
  readonly requestHeaders: HeaderMutation | undefined;
  readonly responseHeaders: HeaderMutation | undefined;
}

export interface CompiledRoute<C extends RouteConfig = RouteConfig> {
  /** The config name, or `route[i]`. */
  readonly name: string;
  readonly index: number;
  /** The validated config (retries, hedging and rateLimit are read from here). */
  readonly config: C;
  readonly timeoutMs: number | undefined;
  /** Fractions are in [0, 1]. */
  readonly fault:
    | {
        readonly delay?: { readonly fraction: number; readonly ms: number };
        /** The answer, built once: an HTTP status with Envoy's body, or a trailers-only gRPC status. */
        readonly abort?: {
          readonly fraction: number;
          readonly status: number;
          readonly headers: Readonly<Record<string, string>> | undefined;
          readonly body: string | undefined;
        };
      }
    | undefined;
  /** Where copies go, each with the share of requests it gets; empty when the route mirrors nothing. */
  readonly mirrors: readonly { readonly service: string; readonly subset: string | undefined; readonly fraction: number }[];
  /** A redirect or direct response: the route answers the request itself. */
  readonly answer: AnswerRequest | undefined;
  /**
   * Undefined when there is no uri rewrite. Re-derives which entry matched
   * from the path alone: the first entry whose uri condition holds decides
   * (its prefix is replaced; other kinds replace the whole path). That is
   * exact unless an earlier entry's uri holds but its other conditions do
   * not; `RouteTable.matchEntry` gives the entry's own rewrite in that case.
   */
  readonly rewritePath: PathRewrite | undefined;
  readonly rewriteAuthority: string | undefined;
  /** Route-level; backends carry their own. */
  readonly requestHeaders: HeaderMutation | undefined;
  readonly responseHeaders: HeaderMutation | undefined;
  /** Empty for a route that answers itself. */
  readonly backends: readonly RouteBackend[];
  /** Weighted choice; `r` is a uniform random number in [0,1). O(1) or O(log n), no allocation. */
  pickBackend(r: number): RouteBackend;
}

/** Which route, and which of its match entries, a request matched. */
export interface RouteMatch<C extends RouteConfig = RouteConfig> {
  readonly route: CompiledRoute<C>;
  /** Index into `route.config.match`; -1 when the route has no match list. */
  readonly entry: number;
  /** This entry's own rewrite (its prefix for a prefix match); undefined without a uri rewrite. */
  readonly rewritePath: PathRewrite | undefined;
}

export interface RouteTable<C extends RouteConfig = RouteConfig> {
  readonly routes: readonly CompiledRoute<C>[];
  match(req: RouteRequest): CompiledRoute<C> | undefined;
  /** Like `match`, and says which entry matched; allocates nothing either. */
  matchEntry(req: RouteRequest): RouteMatch<C> | undefined;
}

/** One match entry in the table: its conditions, and its answer when it wins. */
class Candidate<C extends RouteConfig> implements RouteMatch<C> {
  constructor(
    readonly route: CompiledRoute<C>,
    readonly entry: number,
    readonly rewritePath: PathRewrite | undefined,
    readonly matcher: EntryMatcher,
  ) {}
}

/**
 * `source` is the workload the table is for: entries whose source
 * conditions it fails are left out (a route left with none never matches,
 * but keeps its index). Without it, source conditions are not checked.
 */
export function compileRouteTable<C extends RouteConfig = RouteConfig>(
  service: string,
  routes: readonly C[],
  source?: RouteSource,
): RouteTable<C> {
  // No routes: everything goes to the service itself, as with no VirtualService.
  // The default config has no retries or hedging, so it fits any C.
  const configs = routes.length > 0 ? routes : [defaultRoute(service) as C];
  const compiled: Route<C>[] = [];
  const candidates: Candidate<C>[] = [];
  configs.forEach((config, index) => {
    const route = new Route(service, config, index, routes.length === 0 ? 'default' : undefined);
    compiled.push(route);
    const entries = config.match !== undefined && config.match.length > 0 ? config.match : [undefined];
    // A regex rewrite reads the path alone, so every entry shares one, compiled once.
    const regex = config.rewrite?.uriRegexRewrite;
    const byRegex = regex === undefined ? undefined : regexRewrite(regex.match, regex.rewrite);
    entries.forEach((entry, i) => {
      if (source !== undefined && !entryAppliesTo(entry, source)) return;
      const matcher = new EntryMatcher(entry);
      const uri = config.rewrite?.uri;
      const rewrite =
        uri === undefined
          ? byRegex
          : matcher.prefix !== undefined
            ? prefixRewrite(matcher.prefix, entry?.ignoreUriCase === true, uri)
            : wholePathRewrite(uri);
      const candidate = new Candidate<C>(route, entry === undefined ? -1 : i, rewrite, matcher);
      candidates.push(candidate);
      route.candidates.push(candidate);
    });
    route.rewritePath = deriveRewrite(route);
  });
  return new Table(compiled, candidates);
}

function defaultRoute(service: string): RouteConfig {
  return routeSchema.parse({ route: [{ destination: { service } }] });
}

/** The route-level rewrite, which has only the path to tell its entries apart. */
function deriveRewrite<C extends RouteConfig>(route: Route<C>): PathRewrite | undefined {
  const uri = route.config.rewrite?.uri;
  const entries = route.candidates;
  if (entries.length === 0) return undefined;
  if (uri === undefined) return entries[0]!.rewritePath;
  if (entries.length === 1 || entries.every((c) => c.matcher.prefix === undefined)) return entries[0]!.rewritePath;
  const whole = wholePathRewrite(uri);
  return (path) => {
    const p = pathOnly(path);
    for (const c of entries) if (c.matcher.matchesUri(p)) return c.rewritePath!(path);
    return whole(path);
  };
}

class Route<C extends RouteConfig> implements CompiledRoute<C> {
  readonly name: string;
  readonly timeoutMs: number | undefined;
  readonly fault: CompiledRoute['fault'];
  readonly mirrors: CompiledRoute['mirrors'];
  readonly answer: AnswerRequest | undefined;
  readonly rewriteAuthority: string | undefined;
  readonly requestHeaders: HeaderMutation | undefined;
  readonly responseHeaders: HeaderMutation | undefined;
  readonly backends: readonly RouteBackend[];
  /** Filled by compileRouteTable, in entry order. */
  readonly candidates: Candidate<C>[] = [];
  /** Set by compileRouteTable once the candidates are in (see deriveRewrite). */
  rewritePath: PathRewrite | undefined = undefined;
  readonly #choice: WeightedChoice<RouteBackend> | undefined;

  constructor(
    service: string,
    readonly config: C,
    readonly index: number,
    name: string | undefined,
  ) {
    this.name = config.name ?? name ?? `route[${index}]`;
    this.timeoutMs = config.timeout;
    const { delay, abort } = config.fault ?? {};
    this.fault =
      config.fault === undefined
        ? undefined
        : {
            ...(delay && { delay: { fraction: delay.percentage / 100, ms: delay.fixedDelay } }),
            ...(abort && { abort: { fraction: abort.percentage / 100, ...faultAbortAnswer(abort) } }),
          };
    this.mirrors = routeMirrors(config).map((m) => ({
      service: m.destination.service ?? service,
      subset: m.destination.subset,
      fraction: (m.percentage ?? 100) / 100,
    }));
    this.answer = compileAnswer(config);
    this.rewriteAuthority = config.rewrite?.authority;
    this.requestHeaders = compileHeaderMutation(config.headers?.request);
    this.responseHeaders = compileHeaderMutation(config.headers?.response);
    this.backends = (config.route ?? []).map((d) => ({
      service: d.destination.service ?? service,
      subset: d.destination.subset,
      weight: d.weight,
      requestHeaders: compileHeaderMutation(d.headers?.request),
      responseHeaders: compileHeaderMutation(d.headers?.response),
    }));
    this.#choice =
      this.backends.length === 0
        ? undefined
        : new WeightedChoice(
            this.backends,
            this.backends.map((b) => b.weight),
          );
  }

  pickBackend(r: number): RouteBackend {
    if (this.#choice === undefined) throw new Error(`route ${this.name} answers requests itself; it has no backends to pick`);
    return this.#choice.pick(r);
  }
}

class Table<C extends RouteConfig> implements RouteTable<C> {
  readonly routes: readonly CompiledRoute<C>[];
  readonly #candidates: readonly Candidate<C>[];
  readonly #index: PathIndex;
  /** Undefined when no entry is filed by header, so most tables skip it. */
  readonly #headerIndex: HeaderIndex | undefined;
  readonly #lists: (readonly number[])[] = [];
  readonly #positions: number[] = [];

  constructor(routes: readonly CompiledRoute<C>[], candidates: readonly Candidate<C>[]) {
    this.routes = routes;
    this.#candidates = candidates;
    const keys = candidates.map((c) => c.matcher.indexKey);
    this.#index = new PathIndex(keys);
    const byHeader = new HeaderIndex(keys);
    this.#headerIndex = byHeader.empty ? undefined : byHeader;
  }

  match(req: RouteRequest): CompiledRoute<C> | undefined {
    return this.matchEntry(req)?.route;
  }

  matchEntry(req: RouteRequest): RouteMatch<C> | undefined {
    const path = pathOnly(req.path);
    const lists = this.#lists;
    let n = this.#index.collect(path, lists);
    if (this.#headerIndex !== undefined) n = this.#headerIndex.collect(req, lists, n);
    const candidates = this.#candidates;
    if (n === 1) {
      // The common case (one prefix, or only the catch-all): no merge needed.
      const list = lists[0]!;
      for (let i = 0; i < list.length; i++) {
        const c = candidates[list[i]!]!;
        if (c.matcher.matchesRest(req, path)) return c;
      }
      return undefined;
    }
    const pos = this.#positions;
    for (let i = 0; i < n; i++) pos[i] = 0;
    for (;;) {
      // k-way merge by hand: n is small (a few lists), so a linear min beats a heap.
      let best = -1;
      let from = -1;
      for (let i = 0; i < n; i++) {
        const list = lists[i]!;
        const p = pos[i]!;
        if (p < list.length) {
          const id = list[p]!;
          if (best < 0 || id < best) {
            best = id;
            from = i;
          }
        }
      }
      if (from < 0) return undefined;
      pos[from] = (pos[from] as number) + 1;
      const c = candidates[best]!;
      if (c.matcher.matchesRest(req, path)) return c;
    }
  }
}
