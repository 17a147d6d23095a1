/**
 * Istio VirtualService → routes of the services its `hosts` name. The
 * config model's routes are Istio's HTTPRoute in camelCase, so most fields
 * pass through; destinations and mirrors name hosts, which become service
 * names here. The route schema validates the result afterwards.
 *
 * A host whose Service has several ports gets the routes on each port,
 * read once and bound per port (route-binding.ts).
 *
 * Gateways are read as a sidecar reads them: proxyless is the `mesh`
 * gateway. A VirtualService (or a match entry) bound only to other
 * gateways configures those gateways, not this process, so it is left out
 * here exactly as an Istio sidecar leaves it out; it is not an error,
 * because the same file usually configures an ingress gateway too.
 */
import type { HostIndex, ServicePort } from './host-index.js';
import { isMap, type Raw, type ResourceReader } from './reader.js';
import { PendingRoutes, portNumber } from './route-binding.js';

const ROUTE_FIELDS = ['name', 'match', 'route', 'redirect', 'directResponse', 'rewrite', 'timeout', 'retries', 'fault', 'mirror', 'mirrorPercentage', 'mirrors', 'headers'];
const MATCH_FIELDS = ['uri', 'method', 'authority', 'headers', 'withoutHeaders', 'queryParams', 'ignoreUriCase', 'name', 'statPrefix', 'sourceLabels', 'sourceNamespace', 'gateways', 'port'];
const UNSUPPORTED_MATCH = 'is not supported: proxyless matches on uri, method, authority, headers, queryParams, port, sourceLabels and sourceNamespace';
/** The gateway name that means "every sidecar": what proxyless is. */
const MESH_GATEWAY = 'mesh';

export interface VirtualServiceRoutes {
  /** Services (by name) that get these routes, each port of a Service its own. */
  readonly services: readonly ServicePort[];
  /** The routes as served on `port` of `service` (one of `services`); problems are reported to the reader. */
  routesFor(service: ServicePort): Raw[];
}

export function translateVirtualService(doc: Raw, r: ResourceReader, hosts: HostIndex): VirtualServiceRoutes | undefined {
  const s = r.child('spec');
  const spec = s.map(doc.spec, true);
  if (spec === undefined) return undefined;
  const namespace = isMap(doc.metadata) && typeof doc.metadata.namespace === 'string' ? doc.metadata.namespace : undefined;
  // Checked first: what a gateway's own VirtualService holds is the gateway's business.
  if (!forMesh(spec.gateways, s.child('gateways'))) return undefined;
  s.only(spec, ['hosts', 'http', 'gateways', 'exportTo'], {
    tcp: 'is not supported: proxyless routes HTTP and gRPC',
    tls: 'is not supported: proxyless routes HTTP and gRPC',
    delegate: 'is not supported: write the routes in this VirtualService',
  });
  const resolve = (host: unknown, at: ResourceReader): string | undefined => {
    const h = at.string(host, true);
    if (h === undefined) return undefined;
    const name = hosts.resolve(h, namespace);
    if (name === undefined) at.issue(`host ${JSON.stringify(h)} is not a configured service; known: ${hosts.known().join(', ') || '(none)'}`);
    return name;
  };
  const services = new Map<string, ServicePort>();
  (s.list(spec.hosts, true) ?? []).forEach((h, i) => {
    const name = resolve(h, s.child('hosts').child(i));
    if (name !== undefined) for (const port of hosts.ports(name)) services.set(port.service, port);
  });
  const pending = new PendingRoutes();
  const routes = (s.list(spec.http) ?? []).flatMap((value, i): Raw[] => {
    const out = route(value, s.child('http').child(i), resolve, pending);
    return out === undefined ? [] : [out];
  });
  return {
    services: [...services.values()],
    routesFor: (service) => pending.bindAll(routes, service, hosts),
  };
}

type Resolve = (host: unknown, at: ResourceReader) => string | undefined;

/**
 * Whether a `gateways` list binds to the mesh: absent or empty (Istio's
 * default), or naming `mesh`.
 */
function forMesh(value: unknown, r: ResourceReader): boolean {
  const gateways = r.list(value) ?? [];
  gateways.forEach((g, i) => {
    r.child(i).string(g, true);
  });
  return gateways.length === 0 || gateways.includes(MESH_GATEWAY);
}

/** One `http[]` route, or undefined when all its match entries are bound to other gateways. */
function route(value: unknown, r: ResourceReader, resolve: Resolve, pending: PendingRoutes): Raw | undefined {
  const http = r.map(value, true) ?? {};
  const written = http.match === undefined ? undefined : (r.list(http.match) ?? []);
  const entries = written?.flatMap((m, i): Raw[] => {
    const entry = match(m, r.child('match').child(i), pending);
    return entry === undefined ? [] : [entry];
  });
  // Every entry bound to other gateways: the route is theirs, not the mesh's.
  if (written !== undefined && written.length > 0 && entries!.length === 0) return undefined;
  r.only(http, ROUTE_FIELDS, {
    corsPolicy: 'is not supported: answer CORS in the service',
    delegate: 'is not supported: write the routes in this VirtualService',
    mirror_percent: 'is deprecated in Istio; write mirrorPercentage: { value: N }',
    mirrorPercent: 'is deprecated in Istio; write mirrorPercentage: { value: N }',
  });
  const out: Raw = {};
  for (const f of ['name', 'timeout', 'fault', 'mirrorPercentage', 'headers']) if (http[f] !== undefined) out[f] = http[f];
  if (entries !== undefined) out.match = entries;
  if (http.route !== undefined) {
    out.route = (r.list(http.route) ?? []).map((d, i) => {
      const dr = r.child('route').child(i);
      const dest = dr.map(d, true) ?? {};
      dr.only(dest, ['destination', 'weight', 'headers']);
      const entry: Raw = { destination: destination(dest.destination, dr.child('destination'), resolve, pending) };
      if (dest.weight !== undefined) entry.weight = dest.weight;
      if (dest.headers !== undefined) entry.headers = dest.headers;
      return entry;
    });
  }
  if (http.mirror !== undefined) out.mirror = destination(http.mirror, r.child('mirror'), resolve, pending);
  if (http.mirrors !== undefined) {
    out.mirrors = (r.list(http.mirrors) ?? []).map((m, i) => {
      const mr = r.child('mirrors').child(i);
      const policy = mr.map(m, true) ?? {};
      mr.only(policy, ['destination', 'percentage']);
      const entry: Raw = { destination: destination(policy.destination, mr.child('destination'), resolve, pending) };
      // The model's percentage takes Istio's { value } as written; its schema checks it.
      if (policy.percentage !== undefined) entry.percentage = policy.percentage;
      return entry;
    });
  }
  if (http.retries !== undefined) {
    const rr = r.child('retries');
    const retries = rr.map(http.retries) ?? {};
    rr.only(retries, ['attempts', 'perTryTimeout', 'retryOn'], {
      retryRemoteLocalities: 'is not supported: retries go to any endpoint the balancer picks',
    });
    out.retries = retries;
  }
  if (http.redirect !== undefined) {
    const rr = r.child('redirect');
    const redirect = rr.map(http.redirect) ?? {};
    rr.only(redirect, ['uri', 'authority', 'scheme', 'redirectCode'], { port: 'is not supported', derivePort: 'is not supported' });
    out.redirect = redirect;
  }
  if (http.directResponse !== undefined) out.directResponse = directResponse(http.directResponse, r.child('directResponse'));
  if (http.rewrite !== undefined) {
    const rr = r.child('rewrite');
    const rewrite = rr.map(http.rewrite) ?? {};
    rr.only(rewrite, ['uri', 'uriRegexRewrite', 'authority']);
    out.rewrite = rewrite;
  }
  return out;
}

/** One match entry, or undefined when its own `gateways` leave the mesh out. */
function match(value: unknown, r: ResourceReader, pending: PendingRoutes): Raw | undefined {
  const m = r.map(value, true) ?? {};
  if (m.gateways !== undefined && !forMesh(m.gateways, r.child('gateways'))) return undefined;
  r.only(m, MATCH_FIELDS, { scheme: UNSUPPORTED_MATCH });
  // `name` and `statPrefix` only label Envoy's per-route stats, which the mesh's metrics do not split by; routing is the same without them.
  const { name: _name, statPrefix: _statPrefix, gateways: _gateways, withoutHeaders, ...rest } = m;
  const headers = headerConditions(m.headers, withoutHeaders, r);
  if (headers !== undefined) rest.headers = headers;
  if (m.port !== undefined) {
    const port = portNumber(m.port, r.child('port'));
    if (port === undefined) delete rest.port;
    else pending.matchPort(rest, r.child('port'));
  }
  return rest;
}

/**
 * Istio's header conditions in the model's terms: an empty StringMatch
 * (`x-debug: {}`) is Istio's way to say "present", and under
 * `withoutHeaders` "absent". The model has no negation of a value match,
 * so `withoutHeaders` with a value is refused rather than approximated.
 */
function headerConditions(headers: unknown, without: unknown, r: ResourceReader): Raw | undefined {
  if (headers === undefined && without === undefined) return undefined;
  const out: Raw = {};
  for (const [name, m] of Object.entries(r.child('headers').map(headers) ?? {})) out[name] = isEmptyMap(m) ? { present: true } : m;
  const w = r.child('withoutHeaders');
  for (const [name, m] of Object.entries(w.map(without) ?? {})) {
    if (!isEmptyMap(m)) {
      w.issue('is not supported with a value: proxyless negates only presence (`withoutHeaders: { name: {} }`, the header is absent)', name);
    } else if (out[name] !== undefined) {
      w.issue('is also under headers; keep one condition per header', name);
    } else {
      out[name] = { absent: true };
    }
  }
  return out;
}

function isEmptyMap(value: unknown): boolean {
  return isMap(value) && Object.keys(value).length === 0;
}

/** Istio's HTTPDirectResponse: the body as `string`, or as `bytes` (base64) that must be UTF-8 text. */
function directResponse(value: unknown, r: ResourceReader): Raw {
  const d = r.map(value) ?? {};
  r.only(d, ['status', 'body']);
  const out: Raw = { status: d.status };
  if (d.body === undefined) return out;
  const br = r.child('body');
  const body = br.map(d.body) ?? {};
  br.only(body, ['string', 'bytes']);
  if (body.string !== undefined && body.bytes !== undefined) br.issue('set one of string, bytes');
  if (body.string !== undefined) out.body = body.string;
  else if (typeof body.bytes === 'string') {
    try {
      out.body = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(body.bytes, 'base64'));
    } catch {
      br.issue('is not UTF-8 text once base64-decoded; proxyless answers with text bodies only', 'bytes');
    }
  } else if (body.bytes !== undefined) br.issue(`must be base64 text, got ${typeof body.bytes}`, 'bytes');
  return out;
}

/** A destination with its service resolved; its port is chosen per port the route is served on (PendingRoutes.bind). */
function destination(value: unknown, r: ResourceReader, resolve: Resolve, pending: PendingRoutes): Raw {
  const d = r.map(value, true) ?? {};
  r.only(d, ['host', 'subset', 'port']);
  const service = resolve(d.host, r.child('host'));
  let port: number | undefined;
  if (d.port !== undefined) {
    const pr = r.child('port');
    const selector = pr.map(d.port) ?? {};
    pr.only(selector, ['number']);
    port = portNumber(selector.number, pr.child('number'));
  }
  const rest: Raw = d.subset !== undefined ? { subset: d.subset } : {};
  return service === undefined ? rest : pending.destination(service, port, r, rest);
}
