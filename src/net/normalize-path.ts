/**
 * The path an authorization decision is made on, normalized the way Envoy
 * does for Istio before its RBAC filter (RFC 3986 normalization, plus
 * merging slashes): `/%61dmin`, `//admin`, `/./admin` and `/x/../admin` are
 * all `/admin`, so a policy on `/admin*` cannot be walked around. The
 * application then sees the same normalized path, so the two never disagree.
 * `%2F` stays encoded: decoding it would change which segments there are.
 */

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

const SLASH = 47;
const DOT = 46;
const PERCENT = 37;
const QUERY = 63;

/**
 * True when the path part of `url` (before any `?`) has nothing to
 * normalize: no `%`, no `//`, no `.` or `..` segment. One char-code pass over
 * the string as it is, with no slice: the regex it replaces
 * (`/%|\/\/|\/\.\.?(\/|$)/` on the sliced path, plus indexOf and
 * startsWith) cost ~960 instructions per request under callgrind, most of it
 * in the regex builtins.
 */
function isClean(url: string): boolean {
  const n = url.length;
  for (let i = 0; i < n; i++) {
    const c = url.charCodeAt(i);
    // Letters and most other characters sit above '?': one comparison for them.
    if (c > QUERY) continue;
    if (c === QUERY) return true;
    if (c === PERCENT) return false;
    if (c !== SLASH) continue;
    // A '/' followed by '/', or by '.' or '..' ending the segment, needs work.
    let k = i + 1;
    let next = k < n ? url.charCodeAt(k) : QUERY;
    if (next === SLASH) return false;
    if (next !== DOT) continue;
    k++;
    next = k < n ? url.charCodeAt(k) : QUERY;
    if (next === SLASH || next === QUERY) return false;
    if (next !== DOT) continue;
    k++;
    next = k < n ? url.charCodeAt(k) : QUERY;
    if (next === SLASH || next === QUERY) return false;
  }
  return true;
}

/** Normalized path (query string kept as sent), or undefined when the path is not a usable origin-form path. */
export function normalizePath(url: string): string | undefined {
  if (url.charCodeAt(0) !== SLASH) return undefined;
  // Fast path: nothing to do for the common clean path. The work for the
  // rest is a function of its own, so this one stays small enough for
  // TurboFan to inline into the caller (it stayed in baseline code before).
  return isClean(url) ? url : normalizeDirty(url);
}

/** normalizePath for a path with something to normalize. */
function normalizeDirty(url: string): string | undefined {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? '' : url.slice(q);
  let decoded = '';
  for (let i = 0; i < path.length; i++) {
    const c = path[i]!;
    if (c !== '%') {
      decoded += c;
      continue;
    }
    const hex = path.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
    const ch = String.fromCharCode(Number.parseInt(hex, 16));
    decoded += UNRESERVED.test(ch) ? ch : `%${hex.toUpperCase()}`;
    i += 2;
  }
  const out: string[] = [];
  const segments = decoded.split('/');
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i]!;
    const last = i === segments.length - 1;
    if (seg === '' && !last) continue;
    if (seg === '.') {
      if (last) out.push('');
      continue;
    }
    if (seg === '..') {
      out.pop();
      if (last) out.push('');
      continue;
    }
    out.push(seg);
  }
  return `/${out.join('/')}${query}`;
}
