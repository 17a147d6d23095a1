/**
 * A request URL split into the origin and path undici dispatches on, for
 * `mesh.request(url)`. undici's own `request(url)` parses every URL in full
 * (`new URL`, then its getters) to get these two strings; a mesh client
 * calls the same few origins all day, so the origin is parsed once and
 * remembered, and the path is used as written when it is already in the
 * form the URL parser would give back. Anything else (dot segments,
 * characters the parser would percent-encode, a fragment, non-ASCII) falls
 * back to undici's parse, so both paths always dispatch the same request.
 */

/** Origins remembered per mesh; a client that builds origins from unbounded input gets the slow path, not unbounded memory. */
const MAX_ORIGINS = 256;

export interface RequestTarget {
  readonly origin: string;
  readonly path: string;
}

/** Splits string URLs without a full parse; one per mesh. */
export class RequestTargets {
  /** The prefix as written (`http://Reviews:80`) → its origin (`http://reviews`), or null when the prefix needs undici's parse. */
  readonly #origins = new Map<string, string | null>();

  /** How many origins are remembered. */
  get size(): number {
    return this.#origins.size;
  }

  /** The origin and path of `url`, or undefined when only a full parse gives them. */
  split(url: string): RequestTarget | undefined {
    const hostAt = url.indexOf('//');
    // "http:" or "https:" and then "//".
    if (hostAt !== 5 && hostAt !== 6) return undefined;
    const pathAt = url.indexOf('/', hostAt + 2);
    if (pathAt === -1) return undefined;
    const prefix = url.slice(0, pathAt);
    let origin = this.#origins.get(prefix);
    if (origin === undefined) {
      origin = originOf(prefix);
      if (this.#origins.size >= MAX_ORIGINS) this.#origins.clear();
      this.#origins.set(prefix, origin);
    }
    if (origin === null || !isPlainPath(url, pathAt)) return undefined;
    return { origin, path: url.slice(pathAt) };
  }
}

/** The origin of a bare `scheme://authority`, or null when it has anything the fast path should not reason about. */
function originOf(prefix: string): string | null {
  // The authority may not hide a path, query, fragment or credentials from the slice above.
  for (let i = prefix.indexOf('//') + 2; i < prefix.length; i++) {
    const c = prefix.charCodeAt(i);
    if (c === 0x3f /* ? */ || c === 0x23 /* # */ || c === 0x5c /* \ */ || c === 0x40 /* @ */ || c <= 0x20 || c >= 0x7f) return null;
  }
  let url: URL;
  try {
    url = new URL(`${prefix}/`);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') return null;
  return url.origin;
}

/**
 * True when the URL parser would return `url.slice(start)` unchanged as
 * pathname + search: printable ASCII it does not percent-encode, no
 * fragment, and no `.` or `%2e` segment it would resolve.
 */
function isPlainPath(url: string, start: number): boolean {
  let inQuery = false;
  let segmentStart = true;
  for (let i = start; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return false;
    switch (c) {
      case 0x22: // "
      case 0x23: // #
      case 0x27: // ' (encoded in the query of http and https)
      case 0x3c: // <
      case 0x3e: // >
      case 0x5c: // \ (a path separator for http and https)
      case 0x5e: // ^
      case 0x60: // `
      case 0x7b: // {
      case 0x7c: // |
      case 0x7d: // }
        return false;
    }
    if (inQuery) continue;
    if (c === 0x3f /* ? */) {
      // An empty query is dropped by the parser (`search` is '').
      if (i === url.length - 1) return false;
      inQuery = true;
      continue;
    }
    if (segmentStart && (c === 0x2e /* . */ || (c === 0x25 /* % */ && url.charCodeAt(i + 1) === 0x32 && (url.charCodeAt(i + 2) | 0x20) === 0x65))) {
      return false;
    }
    segmentStart = c === 0x2f; /* / */
  }
  return true;
}
