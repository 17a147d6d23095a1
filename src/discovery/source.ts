/**
 * Endpoint discovery: a provider per URI scheme (`static:`, `dns:`, later
 * `k8s:` and `xds:`), registered on a Mesh instance, never at import time.
 *
 * Contract every provider keeps:
 * - listeners are called asynchronously, never from inside `watch()`;
 * - every `next()` carries the complete current set (state of the world);
 * - after a failure the provider keeps its last good set and reports the
 *   error through `error()`; the consumer keeps serving on what it has;
 * - nothing is called after `close()`.
 */
import type { MeshError } from '../errors.js';
import type { Endpoint } from './endpoint.js';

export interface DiscoveryTarget {
  /** The full URI as configured, e.g. `dns:reviews.internal:9080`. */
  readonly uri: string;
  /** The part after `scheme:`. */
  readonly path: string;
  /** The logical service being discovered (for messages and k8s lookups). */
  readonly service: string;
  readonly namespace: string;
  /** Port to use when the source yields addresses without one. */
  readonly defaultPort: number | undefined;
  /** How often polling providers (dns) re-resolve, from `mesh.dnsRefreshInterval`. */
  readonly refreshIntervalMs?: number;
  /** Endpoints given inline in config (the `static:` provider's input). */
  readonly endpoints?: readonly Endpoint[];
}

export interface EndpointListener {
  next(endpoints: readonly Endpoint[]): void;
  error(err: MeshError): void;
}

export interface EndpointWatch {
  close(): void;
}

export interface DiscoveryProvider {
  readonly scheme: string;
  /** Check a target before it is applied; return a reason when it is unusable. */
  validate?(target: DiscoveryTarget): string | undefined;
  watch(target: DiscoveryTarget, listener: EndpointListener): EndpointWatch;
  close?(): void | Promise<void>;
}

export function schemeOf(uri: string): string {
  const i = uri.indexOf(':');
  return i < 0 ? '' : uri.slice(0, i);
}
