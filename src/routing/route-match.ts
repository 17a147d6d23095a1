/**
 * One match entry (Istio's HTTPMatchRequest), compiled: the conditions a
 * request must all meet. The path index has usually settled the uri already;
 * what is left is checked here, cheapest first (method, authority, headers,
 * query parameters, then a uri regex).
 *
 * Regexes are compiled once, anchored at both ends: Istio and Envoy regexes
 * match the whole value. None has the `g` or `y` flag, so `test` keeps no
 * state between requests. Query parameters are only looked at when an entry
 * that has them is reached, by scanning the query in place.
 */
import type { MatchEntry, StringMatch, ValueMatch } from '../config/route-match-schema.js';
import { findQueryValue, queryValueEnd } from '../net/query.js';
import { asciiLower, type IndexKey } from './path-index.js';
import { literalPrefix } from './regex-prefix.js';

/** The protocol-neutral request view the HTTP and gRPC adapters build. */
export interface RouteRequest {
  /** Upper case. */
  readonly method: string;
  /** Path plus optional ?query, as sent on the wire. */
  readonly path: string;
  /** The first value of a header; `lowerName` is lowercase. */
  header(lowerName: string): string | undefined;
  /** `host[:port]`: the Host header when the caller set one, else the URL's (read only by entries that match it). */
  readonly authority: string;
}

const EXACT = 0;
const PREFIX = 1;
const REGEX = 2;
const PRESENT = 3;
const ABSENT = 4;
const ANY = 5;

/** Full-match semantics, as RE2 in Istio and Envoy. */
export function fullMatch(pattern: string, ignoreCase: boolean): RegExp {
  return new RegExp(`^(?:${pattern})$`, ignoreCase ? 'i' : '');
}

/** A compiled StringMatch. One class with a kind, so every call site stays monomorphic. */
export class ValueMatcher {
  constructor(
    readonly kind: number,
    readonly value: string,
    readonly re: RegExp | undefined,
  ) {}

  static of(m: StringMatch | ValueMatch): ValueMatcher {
    if (m.exact !== undefined) return new ValueMatcher(EXACT, m.exact, undefined);
    if (m.prefix !== undefined) return new ValueMatcher(PREFIX, m.prefix, undefined);
    if (m.regex !== undefined) return new ValueMatcher(REGEX, m.regex, fullMatch(m.regex, false));
    if ('present' in m && m.present === true) return new ValueMatcher(PRESENT, '', undefined);
    if ('absent' in m && m.absent === true) return new ValueMatcher(ABSENT, '', undefined);
    return new ValueMatcher(ANY, '', undefined);
  }

  test(value: string | undefined): boolean {
    switch (this.kind) {
      case EXACT:
        return value === this.value;
      case PREFIX:
        return value?.startsWith(this.value) === true;
      case REGEX:
        return value !== undefined && this.re!.test(value);
      case PRESENT:
        return value !== undefined;
      case ABSENT:
        return value === undefined;
      default:
        return true;
    }
  }
}

/** The path without its query string; no copy when there is no query. */
export function pathOnly(path: string): string {
  const q = path.indexOf('?');
  return q < 0 ? path : path.slice(0, q);
}

/**
 * The first value of query parameter `name`, percent-decoded ('+' stays '+',
 * as Envoy leaves it); '' for a bare `?name`; undefined when absent.
 */
export function queryParam(path: string, name: string): string | undefined {
  const start = findQueryValue(path, name);
  return start < 0 ? undefined : decode(path.slice(start, queryValueEnd(path, start)));
}

function decode(raw: string): string {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    // Malformed escapes are matched as sent, rather than failing the request.
    return raw;
  }
}

export class EntryMatcher {
  readonly #uriKind: number;
  /** Exact or prefix text; ASCII-lowercased when the entry ignores case. */
  readonly #uriValue: string;
  readonly #uriFold: boolean;
  readonly #uriRegex: RegExp | undefined;
  readonly #method: ValueMatcher | undefined;
  readonly #authority: ValueMatcher | undefined;
  readonly #headerNames: readonly string[];
  readonly #headers: readonly ValueMatcher[];
  readonly #queryNames: readonly string[];
  readonly #queries: readonly ValueMatcher[];
  /** Where the path or header index files this entry. */
  readonly indexKey: IndexKey;
  /** The matched prefix when the uri condition is a prefix (for rewrites). */
  readonly prefix: string | undefined;

  constructor(entry: MatchEntry | undefined) {
    const uri = entry?.uri;
    const fold = entry?.ignoreUriCase === true;
    this.#uriFold = fold;
    this.#uriRegex = undefined;
    this.prefix = undefined;
    if (uri?.exact !== undefined) {
      this.#uriKind = EXACT;
      this.#uriValue = fold ? asciiLower(uri.exact) : uri.exact;
      this.indexKey = { kind: 'exact', value: uri.exact, fold };
    } else if (uri?.prefix !== undefined) {
      this.#uriKind = PREFIX;
      this.#uriValue = fold ? asciiLower(uri.prefix) : uri.prefix;
      this.prefix = uri.prefix;
      this.indexKey = { kind: 'prefix', value: uri.prefix, fold };
    } else if (uri?.regex !== undefined) {
      this.#uriKind = REGEX;
      this.#uriValue = '';
      this.#uriRegex = fullMatch(uri.regex, fold);
      const start = literalPrefix(uri.regex);
      this.indexKey = start === '' ? { kind: 'always' } : { kind: 'prefix', value: start, fold };
    } else {
      this.#uriKind = ANY;
      this.#uriValue = '';
      this.indexKey = { kind: 'always' };
    }
    this.#method = entry?.method === undefined ? undefined : ValueMatcher.of(entry.method);
    this.#authority = entry?.authority === undefined ? undefined : ValueMatcher.of(entry.authority);
    const headers = Object.entries(entry?.headers ?? {});
    this.#headerNames = headers.map(([n]) => n.toLowerCase());
    this.#headers = headers.map(([, m]) => ValueMatcher.of(m));
    if (this.indexKey.kind === 'always') {
      // Nothing to narrow by in the uri: an exact header will do (header-index.ts).
      const i = this.#headers.findIndex((m) => m.kind === EXACT);
      if (i >= 0) this.indexKey = { kind: 'header', name: this.#headerNames[i]!, value: this.#headers[i]!.value };
    }
    const queries = Object.entries(entry?.queryParams ?? {});
    this.#queryNames = queries.map(([n]) => n);
    this.#queries = queries.map(([, m]) => ValueMatcher.of(m));
  }

  /**
   * Every condition except an exact or prefix uri, which the path index has
   * already established for any entry it offers. `path` is without query.
   */
  matchesRest(req: RouteRequest, path: string): boolean {
    if (this.#method !== undefined && !this.#method.test(req.method)) return false;
    if (this.#authority !== undefined && !this.#authority.test(req.authority)) return false;
    const names = this.#headerNames;
    for (let i = 0; i < names.length; i++) if (!this.#headers[i]!.test(req.header(names[i]!))) return false;
    const queryNames = this.#queryNames;
    if (queryNames.length > 0) {
      const full = req.path;
      for (let i = 0; i < queryNames.length; i++) {
        if (!this.#queries[i]!.test(queryParam(full, queryNames[i]!))) return false;
      }
    }
    return this.#uriRegex === undefined || this.#uriRegex.test(path);
  }

  /** The uri condition alone, for a path without query. */
  matchesUri(path: string): boolean {
    switch (this.#uriKind) {
      case EXACT:
        return (this.#uriFold ? asciiLower(path) : path) === this.#uriValue;
      case PREFIX:
        return this.#uriFold ? asciiLower(path).startsWith(this.#uriValue) : path.startsWith(this.#uriValue);
      case REGEX:
        return this.#uriRegex!.test(path);
      default:
        return true;
    }
  }

  /** Every condition, without the index: the reference the index must agree with. */
  matches(req: RouteRequest): boolean {
    const path = pathOnly(req.path);
    return this.matchesUri(path) && this.matchesRest(req, path);
  }
}
