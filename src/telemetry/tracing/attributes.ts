/**
 * Span names and attributes, per OpenTelemetry's semantic conventions
 * (stable HTTP names: `http.request.method`, `server.address`, `url.full`…;
 * `rpc.*` for gRPC) plus the mesh's own `proxyless.*`. Built only for spans
 * that record, so an untraced request never pays for them.
 */
import type { Attributes } from '@opentelemetry/api';

export interface ClientInfo {
  /** The destination service (bounded: from config). */
  readonly service: string;
  /** The matched route's name, when one matched. */
  readonly route?: string | undefined;
  /** The destination subset (`v1`), when the route picked one. */
  readonly subset?: string | undefined;
  readonly method: string;
  /** `http` or `https`. */
  readonly scheme: string;
  /** `host[:port]` as the caller addressed it. */
  readonly authority: string;
  /** Path with query, as sent. For gRPC, `/package.Service/Method`. */
  readonly path: string;
  readonly protocol: 'http' | 'grpc';
}

export interface ServerInfo {
  readonly method: string;
  readonly scheme: string;
  /** The Host or :authority header, when there is one. */
  readonly authority?: string | undefined;
  /** Path with query. For gRPC, `/package.Service/Method`. */
  readonly path: string;
  readonly protocol: 'http' | 'grpc';
  /** The route template that matched (`/users/:id`), when the framework knows it. */
  readonly route?: string | undefined;
  /** This workload's service name, for `proxyless.service`. */
  readonly service?: string | undefined;
  readonly peerAddress?: string | undefined;
  readonly peerPort?: number | undefined;
  readonly userAgent?: string | undefined;
}

/** True on every MeshSpanAttributes record (own properties stay the attributes alone). */
export const MESH_SPAN_ATTRIBUTES: unique symbol = Symbol.for('proxyless.meshSpanAttributes');

/**
 * The attribute records clientSpan and serverSpan build: a class of their
 * own, so a recorder that knows it (proxyless/otel's) can keep one as it is
 * without checking each value again. Every value is a string or a number,
 * and a record holds at most MESH_SPAN_ATTRIBUTES_MAX of them.
 */
export class MeshSpanAttributes {
  [key: string]: string | number;

  static {
    // On the prototype, under a registered symbol: the package's entry points and its ESM and
    // CommonJS builds may each carry a copy of this class, and a record from any of them counts.
    Object.defineProperty(MeshSpanAttributes.prototype, MESH_SPAN_ATTRIBUTES, { value: true });
  }
}

/** Whether `attributes` is a MeshSpanAttributes record, from this copy of the package or another. */
export function isMeshSpanAttributes(attributes: object): boolean {
  return (attributes as { [MESH_SPAN_ATTRIBUTES]?: boolean })[MESH_SPAN_ATTRIBUTES] === true;
}

/** More keys than clientSpan or serverSpan ever sets (13 at most, a server span with everything known). */
export const MESH_SPAN_ATTRIBUTES_MAX = 16;

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'QUERY']);

/** Sets `http.request.method`, folding unknown methods to `_OTHER` as the conventions ask. */
function setMethod(attrs: Attributes, method: string): string {
  if (KNOWN_METHODS.has(method)) {
    attrs['http.request.method'] = method;
    return method;
  }
  attrs['http.request.method'] = '_OTHER';
  attrs['http.request.method_original'] = method;
  return 'HTTP';
}

/** `host` and port of an authority (`[::1]:8080`, `reviews:9080`, `reviews`), with the scheme's default port. */
export function splitAuthority(authority: string, scheme: string): { address: string; port: number | undefined } {
  const colon = authority.lastIndexOf(':');
  const bracket = authority.lastIndexOf(']');
  if (colon > bracket && colon > 0) {
    const port = Number(authority.slice(colon + 1));
    const host = authority.slice(0, colon);
    return { address: unbracket(host), port: Number.isInteger(port) && port > 0 ? port : undefined };
  }
  return { address: unbracket(authority), port: scheme === 'https' ? 443 : scheme === 'http' ? 80 : undefined };
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** `package.Service` and `Method` of a gRPC path `/package.Service/Method`. */
function grpcNames(path: string): { service: string; method: string } {
  const slash = path.indexOf('/', 1);
  if (path.charCodeAt(0) !== 47 || slash < 0) return { service: '', method: path };
  return { service: path.slice(1, slash), method: path.slice(slash + 1) };
}

/** Query parameters whose values the conventions say to redact in `url.full`. */
const SENSITIVE_QUERY = /([?&](?:AWSAccessKeyId|Signature|sig|X-Goog-Signature)=)[^&#]*/g;

export function redactQuery(pathWithQuery: string): string {
  return pathWithQuery.includes('?') ? pathWithQuery.replace(SENSITIVE_QUERY, '$1REDACTED') : pathWithQuery;
}

function setMesh(attrs: Attributes, service: string | undefined, route: string | undefined, subset?: string): void {
  if (service !== undefined) attrs['proxyless.service'] = service;
  if (route !== undefined) attrs['proxyless.route'] = route;
  if (subset !== undefined) attrs['proxyless.subset'] = subset;
}

/** The last client authority's parts: a destination's calls repeat it, and splitting it costs string searches. */
let lastScheme = '';
let lastAuthority = '';
let lastAddress = '';
let lastPort: number | undefined;
let lastUrlBase = '';

let lastMethod = '';
let lastService = '';
let lastName = '';

/** `{method} {service}`, built once per run of calls with the same pair. */
function spanName(method: string, service: string): string {
  if (method !== lastMethod || service !== lastService) {
    lastName = `${method} ${service}`;
    lastMethod = method;
    lastService = service;
  }
  return lastName;
}

/** The client span's name and its attributes at start (what a sampler may look at). */
export function clientSpan(info: ClientInfo): { name: string; attributes: Attributes } {
  const attributes: Attributes = new MeshSpanAttributes();
  const { scheme, authority } = info;
  if (authority !== lastAuthority || scheme !== lastScheme) {
    const split = splitAuthority(authority, scheme);
    lastAddress = split.address;
    lastPort = split.port;
    lastUrlBase = `${scheme}://${authority}`;
    lastScheme = scheme;
    lastAuthority = authority;
  }
  const address = lastAddress;
  const port = lastPort;
  let name: string;
  if (info.protocol === 'grpc') {
    const rpc = grpcNames(info.path);
    attributes['rpc.system'] = 'grpc';
    attributes['rpc.service'] = rpc.service;
    attributes['rpc.method'] = rpc.method;
    name = info.path.slice(1);
  } else {
    // `{method} {service}`: the conventions' `{method} {url.template}` has no template to offer in a
    // mesh; the service keeps names bounded and tells calls apart, as Envoy's per-route names do.
    name = spanName(setMethod(attributes, info.method), info.service);
    attributes['url.full'] = lastUrlBase + redactQuery(info.path);
    // No `network.protocol.name`: the conventions want it only when it is not `http`, and each
    // attribute costs the SDK a validation and a keyed store on every recorded span.
  }
  attributes['server.address'] = address;
  if (port !== undefined) attributes['server.port'] = port;
  setMesh(attributes, info.service, info.route, info.subset);
  return { name, attributes };
}

/** The last inbound authority's parts, as for the client's. */
let lastServerScheme = '';
let lastServerAuthority = '';
let lastServerAddress = '';
let lastServerPort: number | undefined;

/** The server span's name, its attributes at start, and the name's method part ('' for gRPC). */
export function serverSpan(info: ServerInfo): { name: string; attributes: Attributes; method: string } {
  const attributes: Attributes = new MeshSpanAttributes();
  let name: string;
  let method = '';
  if (info.protocol === 'grpc') {
    const rpc = grpcNames(info.path);
    attributes['rpc.system'] = 'grpc';
    attributes['rpc.service'] = rpc.service;
    attributes['rpc.method'] = rpc.method;
    name = info.path.slice(1);
  } else {
    method = setMethod(attributes, info.method);
    const q = info.path.indexOf('?');
    attributes['url.path'] = q < 0 ? info.path : info.path.slice(0, q);
    if (q >= 0) attributes['url.query'] = redactQuery(info.path.slice(q)).slice(1);
    attributes['url.scheme'] = info.scheme;
    if (info.route !== undefined) attributes['http.route'] = info.route;
    if (info.userAgent !== undefined) attributes['user_agent.original'] = info.userAgent;
    name = info.route === undefined ? method : `${method} ${info.route}`;
  }
  const authority = info.authority;
  if (authority !== undefined) {
    // A server's requests repeat its Host header: split once per run of the same one.
    if (authority !== lastServerAuthority || info.scheme !== lastServerScheme) {
      const split = splitAuthority(authority, info.scheme);
      lastServerAddress = split.address;
      lastServerPort = split.port;
      lastServerAuthority = authority;
      lastServerScheme = info.scheme;
    }
    attributes['server.address'] = lastServerAddress;
    if (lastServerPort !== undefined) attributes['server.port'] = lastServerPort;
  }
  if (info.peerAddress !== undefined) {
    attributes['client.address'] = info.peerAddress;
    attributes['network.peer.address'] = info.peerAddress;
    if (info.peerPort !== undefined) attributes['network.peer.port'] = info.peerPort;
  }
  setMesh(attributes, info.service, undefined);
  return { name, attributes, method };
}
