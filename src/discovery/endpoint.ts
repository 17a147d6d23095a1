/**
 * The endpoint value that discovery produces: immutable, compared by key.
 * Live per-endpoint state (in-flight, latency, connection pool) lives on the
 * endpoint tier (client/upstream.ts), keyed by `key`, so it survives a new
 * endpoint set that still contains the endpoint.
 */

export type EndpointHealth = 'healthy' | 'unhealthy' | 'draining';

export interface Endpoint {
  /** `address:port`, with IPv6 addresses bracketed. Unique within a set. */
  readonly key: string;
  /** IP address or host name to dial. */
  readonly address: string;
  readonly port: number;
  /** Relative weight, 1 to 1,000,000; 1 when the source has none. */
  readonly weight: number;
  /** Locality; '' when unknown. */
  readonly region: string;
  readonly zone: string;
  /** 0 is the most preferred priority; higher numbers are failover tiers. */
  readonly priority: number;
  readonly labels: Readonly<Record<string, string>>;
  /** Health as reported by the discovery source (not outlier detection). */
  readonly health: EndpointHealth;
  /**
   * Its locality's weight, when a control plane wrote one other than the
   * sum of the locality's endpoint weights (istiod does for `distribute`):
   * its priority is then shared between localities by these weights, as
   * Envoy and gRPC share it, instead of ranked by zone. Undefined otherwise.
   */
  readonly localityWeight?: number | undefined;
}

export interface EndpointInit {
  address: string;
  port: number;
  weight?: number;
  region?: string;
  zone?: string;
  priority?: number;
  labels?: Readonly<Record<string, string>>;
  health?: EndpointHealth;
  localityWeight?: number | undefined;
}

const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

export function endpointKey(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

export function makeEndpoint(init: EndpointInit): Endpoint {
  return Object.freeze({
    key: endpointKey(init.address, init.port),
    address: init.address,
    port: init.port,
    weight: init.weight ?? 1,
    region: init.region ?? '',
    zone: init.zone ?? '',
    priority: init.priority ?? 0,
    labels: init.labels ? Object.freeze({ ...init.labels }) : NO_LABELS,
    health: init.health ?? 'healthy',
    // Always present, so every endpoint value has one shape.
    localityWeight: init.localityWeight,
  });
}

/** True when two endpoint values would balance identically. */
export function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  if (
    a.key !== b.key ||
    a.weight !== b.weight ||
    a.region !== b.region ||
    a.zone !== b.zone ||
    a.priority !== b.priority ||
    a.health !== b.health ||
    a.localityWeight !== b.localityWeight
  ) {
    return false;
  }
  const ak = Object.keys(a.labels);
  if (ak.length !== Object.keys(b.labels).length) return false;
  for (const k of ak) if (a.labels[k] !== b.labels[k]) return false;
  return true;
}

/** True when two sets, each sorted by key, hold the same endpoints (a provider's "did anything change?"). */
export function sameEndpointSet(a: readonly Endpoint[], b: readonly Endpoint[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((e, i) => {
    const other = b[i];
    return other !== undefined && sameEndpoint(e, other);
  });
}
