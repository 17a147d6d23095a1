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
