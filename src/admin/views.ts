/**
 * Plain copies of the source's views, field by field, with `undefined` as
 * `null`: what `/clusters` and the dashboard serialise. Copying by name
 * (not by spread) keeps getters on a class-based view, and keeps any other
 * property a mesh object happens to carry out of the answer.
 */
import type { ClusterView, ConfigChange, EndpointView } from './admin-source.js';

export interface EndpointJson {
  address: string;
  weight: number;
  warmth: number;
  region: string;
  zone: string;
  priority: number;
  health: string;
  ejected: boolean;
  ejectedUntil: number | null;
  inFlight: number;
  ewmaMs: number;
  labels: Record<string, string>;
}

export interface ClusterJson {
  service: string;
  namespace: string;
  circuit: string;
  loadBalancer: string;
  discoveryError: string | null;
  endpoints: EndpointJson[];
}

export interface ConfigChangeJson {
  time: number;
  source: string;
  version: number;
  accepted: boolean;
  error: string | null;
}

/** Caps a string's length; a rejection reason or discovery error can be long. */
export type Clip = (s: string) => string;
const keep: Clip = (s) => s;

export function endpointJson(e: EndpointView): EndpointJson {
  return {
    address: e.address,
    weight: e.weight,
    warmth: e.warmth,
    region: e.region,
    zone: e.zone,
    priority: e.priority,
    health: e.health,
    ejected: e.ejected,
    ejectedUntil: e.ejectedUntil ?? null,
    inFlight: e.inFlight,
    ewmaMs: e.ewmaMs,
    labels: { ...e.labels },
  };
}

export function clusterJson(c: ClusterView, maxEndpoints = Number.POSITIVE_INFINITY, clip: Clip = keep): ClusterJson {
  const endpoints: EndpointJson[] = [];
  for (const e of c.endpoints) {
    if (endpoints.length >= maxEndpoints) break;
    endpoints.push(endpointJson(e));
  }
  return {
    service: c.service,
    namespace: c.namespace,
    circuit: c.circuit,
    loadBalancer: c.loadBalancer,
    discoveryError: c.discoveryError === undefined ? null : clip(c.discoveryError),
    endpoints,
  };
}

export function configChangeJson(c: ConfigChange, clip: Clip = keep): ConfigChangeJson {
  return {
    time: c.time,
    source: c.source,
    version: c.version,
    accepted: c.accepted,
    error: c.error === undefined ? null : clip(c.error),
  };
}
