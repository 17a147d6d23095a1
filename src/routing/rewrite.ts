/**
 * Path rewrites and redirects, compiled per route (and per match entry for
 * prefix rewrites). The query string always survives a rewrite; a redirect
 * keeps it too unless its `uri` carries a query of its own (Envoy's rule).
 */
import type { RouteConfig } from '../config/route-schema.js';
import { asciiLower } from './path-index.js';

export type PathRewrite = (path: string) => string;
export type Redirect = (path: string, authority: string, scheme: string) => { status: number; location: string };

function queryOf(path: string): string {
  const q = path.indexOf('?');
  return q < 0 ? '' : path.slice(q);
}

/** Replaces the whole path, keeping the query. */
export function wholePathRewrite(replacement: string): PathRewrite {
  return (path) => replacement + queryOf(path);
}

/**
 * Replaces the matched prefix. When the replacement ends in "/" and the rest
 * starts with one, a slash is dropped: `prefix: /api` with `uri: /` turns
 * `/api/x` into `/x`, not Envoy's `//x`, which is never what was meant.
 * A path that does not start with the prefix gets the whole-path rewrite.
 */
export function prefixRewrite(prefix: string, ignoreCase: boolean, replacement: string): PathRewrite {
  const folded = asciiLower(prefix);
  const whole = wholePathRewrite(replacement);
  const dropSlash = replacement.endsWith('/');
  return (path) => {
    const starts = ignoreCase ? asciiLower(path.slice(0, prefix.length)) === folded : path.startsWith(prefix);
    if (!starts) return whole(path);
    const rest = path.slice(prefix.length);
    return dropSlash && rest.startsWith('/') ? replacement + rest.slice(1) : replacement + rest;
  };
}

/**
 * Istio's uriRegexRewrite, Envoy's regex_rewrite: every match of `pattern`
 * in the path (not the query, which is kept) replaced by `substitution`,
 * whose `\1`…`\9` name capture groups and `\0` the whole match. Matches
 * are found as RE2's GlobalReplace finds them, which is not quite how
 * String.prototype.replace does: an empty match right after a match is
 * skipped, so `.*` rewrites `/a` once, not twice.
 */
export function regexRewrite(pattern: string, substitution: string): PathRewrite {
  const re = new RegExp(pattern, 'g');
  const parts = substitutionParts(substitution);
  return (path) => {
    const q = path.indexOf('?');
    const p = q < 0 ? path : path.slice(0, q);
    let out = '';
    let copied = 0;
    let lastEnd = -1;
    re.lastIndex = 0;
    for (let m = re.exec(p); m !== null; m = re.exec(p)) {
      const end = m.index + m[0].length;
      if (m[0].length === 0) {
        re.lastIndex++;
        if (m.index === lastEnd) continue;
      }
      out += p.slice(copied, m.index);
      for (const part of parts) out += typeof part === 'string' ? part : (m[part] ?? '');
      copied = end;
      lastEnd = end;
      if (re.lastIndex > p.length) break;
    }
    return out + p.slice(copied) + (q < 0 ? '' : path.slice(q));
  };
}

/** RE2's substitution template as literal text and group numbers: `\N` a group (0: the whole match), `\\` a backslash. */
function substitutionParts(substitution: string): (string | number)[] {
  const parts: (string | number)[] = [];
  let text = '';
  for (let i = 0; i < substitution.length; i++) {
    const c = substitution[i]!;
    const next = substitution[i + 1];
    if (c === '\\' && next !== undefined && next >= '0' && next <= '9') {
      if (text !== '') parts.push(text);
      parts.push(Number(next));
      text = '';
      i++;
    } else if (c === '\\' && next === '\\') {
      text += '\\';
      i++;
    } else text += c;
  }
  if (text !== '') parts.push(text);
  return parts;
}

/**
 * A redirect answers the request with a Location built from the request's
 * scheme and authority, replaced where the config says. With no authority
 * known (a request without Host), the Location is the path alone, a
 * relative reference that clients resolve against the request URL.
 */
export function compileRedirect(cfg: NonNullable<RouteConfig['redirect']>): Redirect {
  const { uri, authority: newAuthority, scheme: newScheme, redirectCode } = cfg;
  const ownQuery = uri?.includes('?') === true;
  return (path, authority, scheme) => {
    const target = uri === undefined ? path : ownQuery ? uri : uri + queryOf(path);
    const host = newAuthority ?? authority;
    const location = host === '' ? target : `${newScheme ?? scheme}://${host}${target}`;
    return { status: redirectCode, location };
  };
}
