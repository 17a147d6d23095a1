/**
 * The `when` condition keys proxyless understands (Istio's authorization
 * attributes), parsed once: validation uses the result to check the values,
 * compile.ts to build the clause. Keys Istio knows but proxyless cannot
 * serve are rejected with the reason, never ignored: an ignored condition in
 * an ALLOW rule would widen it.
 */
import { closestName } from '../../config/suggest.js';

/** The kind of value a key's `values` must hold. */
export type WhenValueType = 'string' | 'principal' | 'ip' | 'port' | 'serviceAccount';

export type WhenAttribute =
  | 'source.ip'
  | 'remote.ip'
  | 'source.namespace'
  | 'source.principal'
  | 'source.serviceAccount'
  | 'request.auth.principal'
  | 'destination.ip'
  | 'destination.port'
  | 'connection.sni'
  | 'request.headers'
  | 'request.auth.claims';

export interface WhenKey {
  readonly attribute: WhenAttribute;
  readonly valueType: WhenValueType;
  /** Lower-case header name, for request.headers[...]. */
  readonly header?: string;
  /** Claim names, outermost first, for request.auth.claims[...][...] (and aud/azp). */
  readonly claim?: readonly string[];
}

const SIMPLE: Readonly<Record<string, WhenKey>> = {
  'source.ip': { attribute: 'source.ip', valueType: 'ip' },
  'remote.ip': { attribute: 'remote.ip', valueType: 'ip' },
  'source.namespace': { attribute: 'source.namespace', valueType: 'string' },
  'source.principal': { attribute: 'source.principal', valueType: 'principal' },
  'source.serviceAccount': { attribute: 'source.serviceAccount', valueType: 'serviceAccount' },
  'request.auth.principal': { attribute: 'request.auth.principal', valueType: 'string' },
  // Istio reads these two from the JWT's aud and azp claims; so do we.
  'request.auth.audiences': { attribute: 'request.auth.claims', valueType: 'string', claim: ['aud'] },
  'request.auth.presenter': { attribute: 'request.auth.claims', valueType: 'string', claim: ['azp'] },
  'destination.ip': { attribute: 'destination.ip', valueType: 'ip' },
  'destination.port': { attribute: 'destination.port', valueType: 'port' },
  'connection.sni': { attribute: 'connection.sni', valueType: 'string' },
};

const HEADERS = 'request.headers';
const CLAIMS = 'request.auth.claims';
const KNOWN = [...Object.keys(SIMPLE), `${HEADERS}[name]`, `${CLAIMS}[name]`];

/** RFC 9110 token: what a header name may contain. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** `[a][b]` → ['a', 'b']; undefined when the brackets are malformed or empty. */
function bracketNames(text: string): string[] | undefined {
  const names: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] !== '[') return undefined;
    const close = text.indexOf(']', i);
    if (close < 0) return undefined;
    const name = text.slice(i + 1, close);
    if (name === '' || name.includes('[')) return undefined;
    names.push(name);
    i = close + 1;
  }
  return names.length > 0 ? names : undefined;
}

/** The parsed key, or why it cannot be used. */
export function parseWhenKey(key: string): WhenKey | string {
  const simple = SIMPLE[key];
  if (simple !== undefined) return simple;
  if (key.startsWith(HEADERS)) {
    const names = bracketNames(key.slice(HEADERS.length));
    if (names?.length !== 1) return `write a header condition as ${HEADERS}[<name>], e.g. ${HEADERS}[x-user]`;
    const header = names[0]!;
    if (!TOKEN.test(header)) return `${JSON.stringify(header)} is not a header name`;
    return { attribute: 'request.headers', valueType: 'string', header: header.toLowerCase() };
  }
  if (key.startsWith(CLAIMS)) {
    const names = bracketNames(key.slice(CLAIMS.length));
    if (names === undefined) return `write a claim condition as ${CLAIMS}[<claim>] or ${CLAIMS}[<outer>][<inner>]`;
    return { attribute: 'request.auth.claims', valueType: 'string', claim: names };
  }
  if (key.startsWith('experimental.envoy.filters.')) {
    return 'experimental.envoy.filters.* reads Envoy filter metadata, which does not exist in proxyless';
  }
  if (key.startsWith('request.experimental.')) return `${key} is an experimental Envoy attribute that proxyless does not support`;
  if (key === 'destination.namespace') return 'destination.namespace is not a condition; the policy applies in its metadata.namespace';
  if (key.startsWith('destination.labels')) return 'destination.labels is not a condition; use spec.selector.matchLabels';
  if (key === 'destination.name' || key === 'destination.user') return `${key} was removed from Istio (v1alpha1 only)`;
  const hint = closestName(key, KNOWN);
  return `unknown attribute ${JSON.stringify(key)}${hint ? ` (did you mean "${hint}"?)` : ''}; see https://istio.io/latest/docs/reference/config/security/conditions/`;
}
