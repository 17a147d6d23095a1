/**
 * Which configured service an Istio `host` names. Istio resources name
 * services by host (`reviews`, `reviews.shop`, `reviews.shop.svc.cluster.local`,
 * or a ServiceEntry's `api.example.com`); the config model keys services by
 * name. Short names resolve in the resource's own namespace, as in Istio.
 *
 * A Service with several ports is several config services: the Service's
 * own (its first port) and one per other port that reports as it
 * (`reportAs`, as the Kubernetes control plane and a mesh file write
 * them). Istio applies a host's VirtualService and DestinationRule to
 * every port, so the index keeps each Service's ports together.
 */
import { isMap, type Raw } from './reader.js';

/** One port of a Service, as the config service that serves it. */
export interface ServicePort {
  readonly service: string;
  /** Undefined for a service written without `port`. */
  readonly port: number | undefined;
}

/** The config service a destination names on one port, or why none fits. */
export type PortChoice = { readonly service: string } | { readonly problem: string };

export class HostIndex {
  readonly #byHost = new Map<string, string>();
  /** Services with more than one port, by the Service's own config name: every port, its own first. */
  readonly #ports = new Map<string, ServicePort[]>();
  readonly #port = new Map<string, number | undefined>();
  readonly #clusterDomain: string;
  readonly #defaultNamespace: string;

  constructor(services: Raw, defaultNamespace: string, clusterDomain: string) {
    this.#clusterDomain = clusterDomain;
    this.#defaultNamespace = defaultNamespace;
    const entries = Object.entries(services).map(([name, svc]) => [name, isMap(svc) ? svc : {}] as const);
    for (const [name, svc] of entries) {
      const owner = this.#portOwner(name, svc, services);
      if (owner === undefined) continue;
      let ports = this.#ports.get(owner);
      if (ports === undefined) {
        ports = [{ service: owner, port: portOf(services[owner]) }];
        this.#ports.set(owner, ports);
      }
      ports.push({ service: name, port: portOf(svc) });
    }
    for (const [name, svc] of entries) this.#add(name, svc, this.#portOwner(name, svc, services) ?? name);
  }

  /** The Service a port's config service reports as, when that Service is configured in the same namespace. */
  #portOwner(name: string, svc: Raw, services: Raw): string | undefined {
    const owner = svc.reportAs;
    if (typeof owner !== 'string' || owner === name) return undefined;
    const own = services[owner];
    return isMap(own) && this.#namespace(own) === this.#namespace(svc) ? owner : undefined;
  }

  #namespace(svc: Raw): string {
    return typeof svc.namespace === 'string' ? svc.namespace : this.#defaultNamespace;
  }

  /** The service's own names, and the hosts it lists as its Service's (a port's hosts are the Service's). */
  #add(name: string, svc: Raw, owner: string): void {
    const ns = this.#namespace(svc);
    for (const host of [`${name}.${ns}`, `${name}.${ns}.svc`, `${name}.${ns}.svc.${this.#clusterDomain}`]) this.#byHost.set(host, name);
    if (Array.isArray(svc.hosts)) for (const h of svc.hosts) if (typeof h === 'string') this.#byHost.set(h.toLowerCase(), owner);
    this.#byHost.set(name, name);
    this.#port.set(name, portOf(svc));
  }

  /** The service `host` names, read from a resource in `namespace`. */
  resolve(host: string, namespace: string | undefined): string | undefined {
    const h = host.toLowerCase();
    if (!h.includes('.')) return this.#byHost.get(`${h}.${namespace ?? this.#defaultNamespace}`) ?? this.#byHost.get(h);
    return this.#byHost.get(h);
  }

  /** What a resource for `service` configures: every port of its Service, or the one service a port's own name picks. */
  ports(service: string): readonly ServicePort[] {
    return this.#ports.get(service) ?? [{ service, port: this.#port.get(service) }];
  }

  /**
   * The config service a route's destination reaches from a route served on
   * `listenerPort`, as istiod picks the cluster: the destination's port when
   * given, else its only port, else the port the route is served on.
   */
  destination(service: string, port: number | undefined, listenerPort: number | undefined): PortChoice {
    const ports = this.ports(service);
    if (ports.length === 1) {
      // A service written without a port takes any; Istio would send a port the Service lacks nowhere.
      const own = ports[0]!.port;
      return port === undefined || own === undefined || port === own ? { service } : { problem: `port ${port} is not ${service}'s port (${own})` };
    }
    const known = ports.map((p) => p.port).join(', ');
    if (port !== undefined) {
      const hit = ports.find((p) => p.port === port);
      return hit !== undefined ? hit : { problem: `port ${port} is not a port of ${service} (its ports: ${known})` };
    }
    const same = ports.find((p) => p.port === listenerPort);
    if (same !== undefined) return same;
    return {
      problem:
        `names ${service}, which has several ports (${known}) and not ${listenerPort ?? 'the port this route is served on'}; ` +
        'set destination.port, as Istio would otherwise send these requests to a port the Service does not have',
    };
  }

  known(): string[] {
    return [...new Set(this.#byHost.values())];
  }
}

function portOf(svc: unknown): number | undefined {
  return isMap(svc) && typeof svc.port === 'number' ? svc.port : undefined;
}
