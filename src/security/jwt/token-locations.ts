/**
 * Where tokens are read from. A rule with no fromHeaders, fromParams or
 * fromCookies reads Istio's defaults: `Authorization: Bearer <token>` and the
 * `access_token` query parameter. Rules naming the same place share one
 * location, so each place is read once per request.
 */
import type { JwtRule } from './model.js';

/** What the authenticator reads from a request; adapters implement it over their framework's request. */
export interface AuthRequest {
  /** One header's value; the name is passed lowercased. Repeated headers joined with ", ". */
  header(name: string): string | undefined;
  /** One query parameter's (first) value, decoded. */
  query(name: string): string | undefined;
  /** One cookie's value; when absent, cookies are read from the Cookie header. */
  cookie?(name: string): string | undefined;
}

export type LocationKind = 'header' | 'param' | 'cookie';

export interface TokenLocation<R> {
  readonly kind: LocationKind;
  /** Lowercased for headers; as written for params and cookies. */
  readonly name: string;
  /** For headers: the text before the token, matched ignoring ASCII case (auth schemes are case-insensitive). */
  readonly prefix: string;
  /** Rules reading here, by the issuer they accept; rules that accept any issuer come last in each list. */
  readonly byIssuer: ReadonlyMap<string, readonly R[]>;
  /** Rules accepting any issuer: the candidates for a token whose issuer no rule here names. */
  readonly anyIssuer: readonly R[];
}

const DEFAULT_HEADER = { name: 'authorization', prefix: 'Bearer ' } as const;
const DEFAULT_PARAM = 'access_token';

interface Building<R> {
  kind: LocationKind;
  name: string;
  prefix: string;
  named: Map<string, R[]>;
  any: R[];
}

/** Group rules by the places they read, in rule order. */
export function compileLocations<R>(rules: readonly { rule: JwtRule; compiled: R }[]): TokenLocation<R>[] {
  const byKey = new Map<string, Building<R>>();
  const add = (kind: LocationKind, name: string, prefix: string, rule: JwtRule, compiled: R) => {
    const key = `${kind}\0${name}\0${prefix.toLowerCase()}`;
    let loc = byKey.get(key);
    if (loc === undefined) {
      loc = { kind, name, prefix, named: new Map(), any: [] };
      byKey.set(key, loc);
    }
    if (rule.issuer === undefined) {
      if (!loc.any.includes(compiled)) loc.any.push(compiled);
      return;
    }
    const list = loc.named.get(rule.issuer);
    if (list === undefined) loc.named.set(rule.issuer, [compiled]);
    else if (!list.includes(compiled)) list.push(compiled);
  };
  for (const { rule, compiled } of rules) {
    const explicit = rule.fromHeaders.length + rule.fromParams.length + rule.fromCookies.length > 0;
    const headers = explicit ? rule.fromHeaders : [DEFAULT_HEADER];
    const params = explicit ? rule.fromParams : [DEFAULT_PARAM];
    for (const h of headers) add('header', h.name, h.prefix, rule, compiled);
    for (const p of params) add('param', p, '', rule, compiled);
    for (const c of rule.fromCookies) add('cookie', c, '', rule, compiled);
  }
  return [...byKey.values()].map((b) => ({
    kind: b.kind,
    name: b.name,
    prefix: b.prefix,
    byIssuer: new Map([...b.named].map(([iss, list]) => [iss, [...list, ...b.any]])),
    anyIssuer: b.any,
  }));
}

/** The token at a location, or undefined when there is none there. */
export function extractToken(loc: TokenLocation<unknown>, req: AuthRequest): string | undefined {
  let raw: string | undefined;
  if (loc.kind === 'header') {
    raw = req.header(loc.name);
    if (raw === undefined) return undefined;
    if (loc.prefix !== '') {
      // A header with another scheme (`Authorization: Basic ...`) carries no JWT.
      if (!startsWithIgnoringCase(raw, loc.prefix)) return undefined;
      raw = raw.slice(loc.prefix.length);
    }
    raw = raw.trim();
  } else if (loc.kind === 'param') {
    raw = req.query(loc.name);
  } else {
    raw = req.cookie !== undefined ? req.cookie(loc.name) : cookieFromHeader(req.header('cookie'), loc.name);
  }
  return raw === undefined || raw === '' ? undefined : raw;
}

function startsWithIgnoringCase(text: string, prefix: string): boolean {
  if (text.length < prefix.length) return false;
  if (text.startsWith(prefix)) return true;
  for (let i = 0; i < prefix.length; i++) {
    let a = text.charCodeAt(i);
    let b = prefix.charCodeAt(i);
    if (a >= 65 && a <= 90) a |= 0x20;
    if (b >= 65 && b <= 90) b |= 0x20;
    if (a !== b) return false;
  }
  return true;
}

/** One cookie from a Cookie header (`a=1; b=2`), unquoted; the first of repeated names wins. */
export function cookieFromHeader(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
  }
  return undefined;
}
