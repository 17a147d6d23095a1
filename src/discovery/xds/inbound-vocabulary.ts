/**
 * The words an inbound listener is written in, shared by the control plane
 * that writes it (control/inbound-listener-resources.ts) and the client that
 * reads it back (decode-inbound-listener.ts): filter names, the metadata
 * keys JWT claims are matched under, and the regular expressions that stand
 * for Istio's `namespaces` and `serviceAccounts` in an RBAC principal.
 *
 * The forms are istiod's where istiod has one (`.*\/ns/<ns>/.*` for a
 * namespace, `istio_authn` metadata for request principals), so a policy
 * istiod wrote decodes too.
 */

/** istiod's template for proxyless gRPC servers; `%s` is the `ip:port` the server listens on. */
export const ISTIO_INBOUND_TEMPLATE = 'xds.istio.io/grpc/lds/inbound/%s';

export const RBAC_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC';
export const JWT_AUTHN_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication';
export const ROUTER_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
export const DOWNSTREAM_TLS_TYPE_URL = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
export const URI_TEMPLATE_TYPE_URL = 'type.googleapis.com/envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig';

/** Filter names: gRPC refuses two filters of one name, so the two RBAC filters differ by suffix. */
export const FILTER = {
  jwt: 'envoy.filters.http.jwt_authn',
  rbacDeny: 'envoy.filters.http.rbac.deny',
  rbacAllow: 'envoy.filters.http.rbac.allow',
  router: 'envoy.filters.http.router',
} as const;

/** Where Istio's authn filter puts the JWT's principal and claims: RBAC matches them as dynamic metadata. */
export const AUTHN_METADATA = 'istio_authn';
export const REQUEST_PRINCIPAL_KEY = 'request.auth.principal';
export const CLAIMS_KEY = 'request.auth.claims';

/** The certificate provider instance (bootstrap `certificate_providers`) istiod's TLS contexts name. */
export const CERT_PROVIDER = 'default';

const SEGMENT_ANY = '[^/]+';
const SEGMENT_SOME = '[^/]*';

export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function unescapeRegex(text: string): string | undefined {
  // Only escaped literals may remain: anything else is a regex this vocabulary did not write.
  if (/(^|[^\\])[.*+?^${}()|[\]]/.test(text.replace(/\\./g, 'x'))) return undefined;
  return text.replace(/\\(.)/g, '$1');
}

/** An Istio pattern (`x`, `x*`, `*x`, `*`) as a regex over one path segment. */
function segmentRegex(pattern: string): string {
  if (pattern === '*') return SEGMENT_ANY;
  if (pattern.endsWith('*')) return `${escapeRegex(pattern.slice(0, -1))}${SEGMENT_SOME}`;
  if (pattern.startsWith('*')) return `${SEGMENT_SOME}${escapeRegex(pattern.slice(1))}`;
  return escapeRegex(pattern);
}

function segmentPattern(regex: string): string | undefined {
  if (regex === SEGMENT_ANY) return '*';
  if (regex.endsWith(SEGMENT_SOME)) {
    const head = unescapeRegex(regex.slice(0, -SEGMENT_SOME.length));
    return head === undefined || head === '' ? undefined : `${head}*`;
  }
  if (regex.startsWith(SEGMENT_SOME)) {
    const tail = unescapeRegex(regex.slice(SEGMENT_SOME.length));
    return tail === undefined || tail === '' ? undefined : `*${tail}`;
  }
  const exact = unescapeRegex(regex);
  return exact === '' ? undefined : exact;
}

/** Istio's source.namespace, as the regex over the peer's SPIFFE ID istiod writes. */
export function namespaceRegex(pattern: string): string {
  return `.*/ns/${segmentRegex(pattern)}/.*`;
}

/** `ns/name`: a service account as a regex over the peer's SPIFFE ID (any trust domain). */
export function serviceAccountRegex(namespace: string, name: string): string {
  return `spiffe://${SEGMENT_ANY}/ns/${escapeRegex(namespace)}/sa/${escapeRegex(name)}`;
}

export type PrincipalRegex = { kind: 'namespace'; pattern: string } | { kind: 'serviceAccount'; account: string };

/** Which of the two forms above `regex` is, or undefined for any other regex. */
export function readPrincipalRegex(regex: string): PrincipalRegex | undefined {
  const ns = /^\.\*\/ns\/(.+)\/\.\*$/.exec(regex);
  if (ns !== null) {
    const pattern = segmentPattern(ns[1]!);
    return pattern === undefined ? undefined : { kind: 'namespace', pattern };
  }
  const sa = /^spiffe:\/\/\[\^\/\]\+\/ns\/(.+)\/sa\/(.+)$/.exec(regex);
  if (sa !== null) {
    const namespace = unescapeRegex(sa[1]!);
    const name = unescapeRegex(sa[2]!);
    if (namespace === undefined || name === undefined || namespace.includes('/') || name.includes('/')) return undefined;
    return { kind: 'serviceAccount', account: `${namespace}/${name}` };
  }
  return undefined;
}

/** RFC 3986 pchar (what Envoy's URI-template globs match), as regex classes for one segment and for the rest. */
const PCHAR = "a-zA-Z0-9._~%!$&'()+,;:@=-";
const ONE_SEGMENT = `[${PCHAR}]+`;
const REST = `[${PCHAR}/]*`;

/**
 * An Istio path template (`/api/{*}/items`, `/static/{**}`) as a RE2 regex
 * for a `url_path` matcher: every gRPC version evaluates a regex, while
 * `uri_template` permissions are refused by older ones (grpcio 1.51).
 */
export function pathTemplateRegex(template: string): string {
  return template
    .split(/(\{\*\*\}|\{\*\})/)
    .map((part) => (part === '{*}' ? ONE_SEGMENT : part === '{**}' ? REST : escapeRegex(part)))
    .join('');
}

/** The template `regex` was written from by pathTemplateRegex, or undefined. */
export function readPathTemplateRegex(regex: string): string | undefined {
  let out = '';
  let rest = regex;
  let templated = false;
  while (rest !== '') {
    const one = rest.indexOf(ONE_SEGMENT);
    const all = rest.indexOf(REST);
    const next = [one, all].filter((i) => i >= 0).sort((a, b) => a - b)[0];
    const literal = unescapeRegex(next === undefined ? rest : rest.slice(0, next));
    if (literal === undefined) return undefined;
    out += literal;
    if (next === undefined) break;
    const token = next === one ? ONE_SEGMENT : REST;
    out += token === ONE_SEGMENT ? '{*}' : '{**}';
    templated = true;
    rest = rest.slice(next + token.length);
  }
  return templated ? out : undefined;
}

/** istiod's RBAC policy names: `ns[<namespace>]-policy[<name>]-rule[<index>]`. */
export function rbacPolicyName(namespace: string, name: string, rule: number): string {
  return `ns[${namespace}]-policy[${name}]-rule[${rule}]`;
}

export function readRbacPolicyName(key: string): { namespace: string; name: string; rule: number } | undefined {
  const m = /^ns\[([^\]]*)\]-policy\[([^\]]*)\]-rule\[(\d+)\]$/.exec(key);
  return m === null ? undefined : { namespace: m[1]!, name: m[2]!, rule: Number(m[3]) };
}

/** The listener name for `address` (`ip:port`) from a `%s` template. */
export function inboundListenerName(template: string, address: string): string {
  return template.includes('%s') ? template.replace('%s', address) : template;
}
