/**
 * Which configured service an Istio `host` names. Istio resources name
 * services by host (`reviews`, `reviews.shop`, `reviews.shop.svc.cluster.local`,
 * or a ServiceEntry's `api.example.com`); the config model keys services by
 * name. Short names resolve in the resource's own namespace, as in Istio.
 */
import { isMap, type Raw } from './reader.js';

export class HostIndex {
  readonly #byHost = new Map<string, string>();
  readonly #clusterDomain: string;
  readonly #defaultNamespace: string;

  constructor(services: Raw, defaultNamespace: string, clusterDomain: string) {
    this.#clusterDomain = clusterDomain;
    this.#defaultNamespace = defaultNamespace;
    for (const [name, svc] of Object.entries(services)) this.add(name, isMap(svc) ? svc : {});
  }

  add(name: string, svc: Raw): void {
    const ns = typeof svc.namespace === 'string' ? svc.namespace : this.#defaultNamespace;
    for (const host of [`${name}.${ns}`, `${name}.${ns}.svc`, `${name}.${ns}.svc.${this.#clusterDomain}`]) this.#byHost.set(host, name);
    if (Array.isArray(svc.hosts)) for (const h of svc.hosts) if (typeof h === 'string') this.#byHost.set(h.toLowerCase(), name);
    this.#byHost.set(name, name);
  }

  /** The service `host` names, read from a resource in `namespace`. */
  resolve(host: string, namespace: string | undefined): string | undefined {
    const h = host.toLowerCase();
    if (!h.includes('.')) return this.#byHost.get(`${h}.${namespace ?? this.#defaultNamespace}`) ?? this.#byHost.get(h);
    return this.#byHost.get(h);
  }

  known(): string[] {
    return [...new Set(this.#byHost.values())];
  }
}
