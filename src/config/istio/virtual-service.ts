/**
 * Istio VirtualService → routes of the services its `hosts` name. The
 * config model's routes are Istio's HTTPRoute in camelCase, so most fields
 * pass through; destinations and mirrors name hosts, which become service
 * names here. The route schema validates the result afterwards.
 */
import type { HostIndex } from './host-index.js';
import { isMap, type Raw, type ResourceReader } from './reader.js';

const ROUTE_FIELDS = ['name', 'match', 'route', 'redirect', 'rewrite', 'timeout', 'retries', 'fault', 'mirror', 'mirrorPercentage', 'headers'];
const MATCH_FIELDS = ['uri', 'method', 'headers', 'queryParams', 'ignoreUriCase', 'name'];
const UNSUPPORTED_MATCH = 'is not supported: proxyless matches on uri, method, headers and queryParams';

export interface VirtualServiceRoutes {
  /** Services (by name) that get these routes. */
  readonly services: readonly string[];
  readonly routes: readonly Raw[];
}

export function translateVirtualService(doc: Raw, r: ResourceReader, hosts: HostIndex): VirtualServiceRoutes | undefined {
  const s = r.child('spec');
  const spec = s.map(doc.spec, true);
  if (spec === undefined) return undefined;
  const namespace = isMap(doc.metadata) && typeof doc.metadata.namespace === 'string' ? doc.metadata.namespace : undefined;
  s.only(spec, ['hosts', 'http', 'gateways', 'exportTo'], {
    tcp: 'is not supported: proxyless routes HTTP and gRPC',
    tls: 'is not supported: proxyless routes HTTP and gRPC',
    delegate: 'is not supported: write the routes in this VirtualService',
  });
  const gateways = s.list(spec.gateways) ?? [];
  if (gateways.some((g) => g !== 'mesh')) s.issue('only the "mesh" gateway is supported: proxyless has no ingress gateway', 'gateways');
  const resolve = (host: unknown, at: ResourceReader): string | undefined => {
    const h = at.string(host, true);
    if (h === undefined) return undefined;
    const name = hosts.resolve(h, namespace);
    if (name === undefined) at.issue(`host ${JSON.stringify(h)} is not a configured service; known: ${hosts.known().join(', ') || '(none)'}`);
    return name;
  };
  const services = (s.list(spec.hosts, true) ?? []).flatMap((h, i) => {
    const name = resolve(h, s.child('hosts').child(i));
    return name === undefined ? [] : [name];
  });
  const routes = (s.list(spec.http) ?? []).map((value, i) => route(value, s.child('http').child(i), resolve));
  return { services: [...new Set(services)], routes };
}

type Resolve = (host: unknown, at: ResourceReader) => string | undefined;

function route(value: unknown, r: ResourceReader, resolve: Resolve): Raw {
  const http = r.map(value, true) ?? {};
  r.only(http, ROUTE_FIELDS, {
    corsPolicy: 'is not supported: answer CORS in the service',
    delegate: 'is not supported: write the routes in this VirtualService',
    mirror_percent: 'is deprecated in Istio; write mirrorPercentage: { value: N }',
    mirrorPercent: 'is deprecated in Istio; write mirrorPercentage: { value: N }',
    mirrors: 'is not supported: write one mirror',
    directResponse: 'is not supported',
  });
  const out: Raw = {};
  for (const f of ['name', 'timeout', 'fault', 'mirrorPercentage', 'headers']) if (http[f] !== undefined) out[f] = http[f];
  if (http.match !== undefined) out.match = (r.list(http.match) ?? []).map((m, i) => match(m, r.child('match').child(i)));
  if (http.route !== undefined) {
    out.route = (r.list(http.route) ?? []).map((d, i) => {
      const dr = r.child('route').child(i);
      const dest = dr.map(d, true) ?? {};
      dr.only(dest, ['destination', 'weight', 'headers']);
      const entry: Raw = { destination: destination(dest.destination, dr.child('destination'), resolve) };
      if (dest.weight !== undefined) entry.weight = dest.weight;
      if (dest.headers !== undefined) entry.headers = dest.headers;
      return entry;
    });
  }
  if (http.mirror !== undefined) out.mirror = destination(http.mirror, r.child('mirror'), resolve);
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
  if (http.rewrite !== undefined) {
    const rr = r.child('rewrite');
    const rewrite = rr.map(http.rewrite) ?? {};
    rr.only(rewrite, ['uri', 'authority'], { uriRegexRewrite: 'is not supported: rewrite a prefix with uri' });
    out.rewrite = rewrite;
  }
  return out;
}

function match(value: unknown, r: ResourceReader): Raw {
  const m = r.map(value, true) ?? {};
  const reasons = Object.fromEntries(
    ['scheme', 'authority', 'port', 'sourceLabels', 'gateways', 'sourceNamespace', 'withoutHeaders', 'statPrefix'].map((f) => [f, UNSUPPORTED_MATCH]),
  );
  r.only(m, MATCH_FIELDS, reasons);
  // `name` labels a match in Istio's stats; the model has none.
  const { name: _name, ...rest } = m;
  return rest;
}

function destination(value: unknown, r: ResourceReader, resolve: Resolve): Raw {
  const d = r.map(value, true) ?? {};
  r.only(d, ['host', 'subset', 'port']);
  const out: Raw = {};
  const service = resolve(d.host, r.child('host'));
  if (service !== undefined) out.service = service;
  if (d.subset !== undefined) out.subset = d.subset;
  return out;
}
