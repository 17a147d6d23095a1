/**
 * The set of destinations the mesh knows, and the answer to "which one does
 * this origin name?". Rebuilt from each config snapshot; destinations that
 * survive an update keep their endpoints, pools and counters.
 */
import type { MeshConfig } from '../config/schema.js';
import { HostIndex } from '../routing/host-index.js';
import { Destination, type DestinationContext } from './destination.js';

/** Distinct origins remembered before the cache starts over (unknown hosts included). */
const ORIGIN_CACHE_LIMIT = 4096;

export class Directory {
  readonly #ctx: DestinationContext;
  #destinations = new Map<string, Destination>();
  #index = new HostIndex<Destination>([], 'default', 'cluster.local');
  #origins = new Map<string, Destination | null>();

  constructor(ctx: DestinationContext) {
    this.#ctx = ctx;
  }

  apply(config: MeshConfig): void {
    const next = new Map<string, Destination>();
    for (const [name, service] of Object.entries(config.services)) {
      const existing = this.#destinations.get(name);
      if (existing) {
        existing.configure(service, config.mesh);
        next.set(name, existing);
      } else {
        next.set(name, new Destination(name, service, config.mesh, this.#ctx));
      }
    }
    for (const [name, dest] of this.#destinations) if (!next.has(name)) void dest.close();
    this.#destinations = next;
    // Routes may name other services, so they compile once every destination exists.
    for (const dest of next.values()) dest.compileRoutes((name) => next.get(name));
    this.#index = new HostIndex(
      [...next.values()].map((d) => {
        const service = config.services[d.name];
        return [{ name: d.name, namespace: d.namespace, hosts: service?.hosts, port: service?.port }, d];
      }),
      config.mesh.namespace,
      config.mesh.clusterDomain,
    );
    this.#origins = new Map();
  }

  /** The destination an origin (`http://reviews:9080`) names, or null to pass it through (see HostIndex for ports). */
  resolve(origin: string): Destination | null {
    const cached = this.#origins.get(origin);
    if (cached !== undefined) return cached;
    const found = this.#lookup(origin);
    if (this.#origins.size >= ORIGIN_CACHE_LIMIT) this.#origins.clear();
    this.#origins.set(origin, found);
    return found;
  }

  #lookup(origin: string): Destination | null {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return null;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    // URL leaves out the scheme's default port; a service on port 80 is still told apart by it.
    const port = url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    return this.#index.lookup(url.hostname, port) ?? null;
  }

  get(name: string): Destination | undefined {
    return this.#destinations.get(name);
  }

  list(): Destination[] {
    return [...this.#destinations.values()];
  }

  async close(): Promise<void> {
    await Promise.all(this.list().map((d) => d.close()));
  }

  async destroy(err?: Error): Promise<void> {
    await Promise.all(this.list().map((d) => d.destroy(err)));
  }
}
