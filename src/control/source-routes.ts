/**
 * Route configurations that differ by client: those of services with
 * match entries that have source conditions (`sourceLabels`,
 * `sourceNamespace`). Envoy's RouteMatch cannot carry them, so, as istiod
 * does, each client is sent the routes as they apply to its own workload
 * (its node's metadata NAMESPACE and LABELS, read as for inbound
 * listeners). Built on request, once per (name, workload) and snapshot, and
 * cached with the snapshot.
 */
import { createHash } from 'node:crypto';
import type { ServiceConfig } from '../config/schema.js';
import type { EncodedResource, InboundNode } from './inbound-resources.js';
import { workloadOf } from './inbound-workload.js';
import { type RouteContext, routeConfiguration } from './route-resources.js';

export class SourceRoutes {
  /** Route configuration name → the service whose routes it holds. */
  readonly #services: ReadonlyMap<string, { readonly name: string; readonly config: ServiceConfig }>;
  readonly #ctx: RouteContext;
  readonly #encode: (name: string, object: Record<string, unknown>) => EncodedResource;
  readonly #cache = new Map<string, EncodedResource>();
  /** Equal digests give equal routes for every client. */
  readonly digest: string;

  constructor(
    services: ReadonlyMap<string, { readonly name: string; readonly config: ServiceConfig }>,
    ctx: RouteContext,
    encode: (name: string, object: Record<string, unknown>) => EncodedResource,
  ) {
    this.#services = services;
    this.#ctx = ctx;
    this.#encode = encode;
    // A client's routes are the routes written for everyone, less the entries its workload fails:
    // so those, and each entry's source conditions, are all they depend on.
    const hash = createHash('sha256');
    for (const [name, service] of services) {
      const conditions = (service.config.routes ?? []).map((r) => (r.match ?? []).map((m) => [m.sourceLabels, m.sourceNamespace]));
      hash.update(JSON.stringify([name, routeConfiguration(service.name, service.config, ctx), conditions]));
    }
    this.digest = services.size === 0 ? '' : hash.digest('base64url');
  }

  /** The route configuration `name` as it applies to the client `node`; undefined when `name` is not one of these. */
  resource(name: string, node: InboundNode): EncodedResource | undefined {
    const service = this.#services.get(name);
    if (service === undefined) return undefined;
    const source = workloadOf(node);
    const key = `${name} (${source.namespace}, ${JSON.stringify(source.labels)})`;
    let resource = this.#cache.get(key);
    if (resource === undefined) {
      resource = this.#encode(name, routeConfiguration(service.name, service.config, { ...this.#ctx, source }));
      this.#cache.set(key, resource);
    }
    return resource;
  }
}
