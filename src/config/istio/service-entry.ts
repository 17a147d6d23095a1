/**
 * Istio ServiceEntry → a service of the config model. The service is named
 * after the resource (dots become dashes: service names are DNS labels);
 * its `hosts` are the entry's hosts, so VirtualServices and
 * DestinationRules find it by any of them.
 *
 * - resolution STATIC, or DNS with endpoints: the endpoints, each on the
 *   port its `ports` map names (else the port's targetPort, else its number);
 *   `locality` "region/zone[/subzone]" becomes region and zone.
 * - resolution DNS without endpoints: discovery `dns:<first host>:<port>`.
 * - several ports: one service per port (translateServiceEntry).
 * - NONE (pass-through), wildcard hosts and workloadSelector have no
 *   equivalent and are reported.
 */
import { isMap, type Raw, type ResourceReader } from './reader.js';

const SPEC_FIELDS = ['hosts', 'ports', 'resolution', 'endpoints', 'location', 'exportTo', 'addresses'];
const ENDPOINT_FIELDS = ['address', 'ports', 'labels', 'locality', 'weight', 'serviceAccount', 'network'];

export interface TranslatedService {
  readonly name: string;
  readonly service: Raw;
}

/**
 * The services a ServiceEntry becomes: one per port, the first named after
 * the resource, each other `<name>-<port name>` (else `-<number>`)
 * reporting as it, so the entry's hosts reach each port's service by the
 * port called (http://api.example.com and https://api.example.com:443),
 * and Istio resources for the hosts apply to every port.
 */
export function translateServiceEntry(doc: Raw, r: ResourceReader): TranslatedService[] {
  const meta = isMap(doc.metadata) ? doc.metadata : {};
  const spec = r.child('spec').map(doc.spec, true);
  const rawName = r.child('metadata').child('name').string(meta.name, true);
  if (spec === undefined || rawName === undefined) return [];
  const s = r.child('spec');
  s.only(spec, SPEC_FIELDS, { workloadSelector: 'is not supported: list the endpoints instead' });
  const hosts = (s.list(spec.hosts, true) ?? []).flatMap((h, i) => {
    const host = s.child('hosts').string(h, true);
    if (host?.includes('*')) {
      s.child('hosts').issue(`wildcard host ${JSON.stringify(host)} is not supported: name each host`, i);
      return [];
    }
    return host === undefined ? [] : [host.toLowerCase()];
  });
  const resolution = spec.resolution ?? 'NONE';
  const endpoints = s.list(spec.endpoints) ?? [];
  if (resolution === 'NONE') {
    s.issue('resolution NONE (pass-through to the original destination) is not supported; use STATIC with endpoints, or DNS', 'resolution');
  } else if (resolution !== 'STATIC' && resolution !== 'DNS' && resolution !== 'DNS_ROUND_ROBIN') {
    s.issue(`must be STATIC, DNS or DNS_ROUND_ROBIN, got ${JSON.stringify(resolution)}`, 'resolution');
  } else if (endpoints.length === 0 && resolution === 'STATIC') {
    s.issue('resolution STATIC needs endpoints', 'endpoints');
  }
  const name = rawName.toLowerCase().replace(/\./g, '-');
  const written = s.list(spec.ports, true) ?? [];
  const ports = written.length === 0 ? [{}] : written;
  const seen = new Set<number>();
  return ports.flatMap((value, i): TranslatedService[] => {
    const pr = s.child('ports').child(i);
    const port = isMap(value) ? value : {};
    const number = typeof port.number === 'number' ? port.number : undefined;
    if (written.length > 0 && number === undefined) pr.issue('is required', 'number');
    if (number !== undefined && seen.has(number)) {
      pr.issue(`repeats port ${number}`, 'number');
      return [];
    }
    if (number !== undefined) seen.add(number);
    const portName = typeof port.name === 'string' ? port.name : undefined;
    const target = typeof port.targetPort === 'number' ? port.targetPort : number;
    const service: Raw = { hosts };
    if (number !== undefined) service.port = number;
    if (typeof meta.namespace === 'string') service.namespace = meta.namespace;
    if (i > 0) service.reportAs = name;
    if (resolution === 'STATIC' || resolution === 'DNS' || resolution === 'DNS_ROUND_ROBIN') {
      if (endpoints.length > 0) service.endpoints = endpoints.map((e, j) => endpoint(e, s.child('endpoints').child(j), portName, target));
      else if (resolution !== 'STATIC' && hosts[0] !== undefined) service.discovery = `dns:${hosts[0]}${number !== undefined ? `:${target ?? number}` : ''}`;
    }
    return [{ name: i === 0 ? name : `${name}-${portName ?? number}`, service }];
  });
}

function endpoint(value: unknown, r: ResourceReader, portName: string | undefined, fallbackPort: number | undefined): Raw {
  const e = r.map(value, true) ?? {};
  r.only(e, ENDPOINT_FIELDS);
  const out: Raw = { address: r.string(e.address, true) ?? '' };
  const named = isMap(e.ports) && portName !== undefined ? e.ports[portName] : undefined;
  const port = typeof named === 'number' ? named : fallbackPort;
  if (port !== undefined) out.port = port;
  if (e.labels !== undefined) out.labels = e.labels;
  if (e.weight !== undefined) out.weight = e.weight;
  if (typeof e.locality === 'string') {
    const [region, zone] = e.locality.split('/');
    if (region) out.region = region;
    if (zone) out.zone = zone;
  }
  return out;
}
