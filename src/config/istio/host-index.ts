/**
 * Which configured service an Istio `host` names. Istio resources name
 * services by host (`reviews`, `reviews.shop`, `reviews.shop.svc.cluster.local`,
 * or a ServiceEntry's `api.example.com`); the config model keys services by
 * name. Short names resolve in the resource's own namespace, as in Istio.
 *
 * A Service with several ports is several config services, each reporting
 * as the Service (service-families.ts). Istio applies a host's
 * VirtualService and DestinationRule to every port, so a host resolves to
 * the Service's first entry, and ports() lists them all.
 */
import { ServiceFamilies } from '../service-families.js';
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
  readonly #families: ServiceFamilies;
  readonly #port = new Map<string, number | undefined>();
  readonly #clusterDomain: string;
  readonly #defaultNamespace: string;

  get defaultNamespace(): string {
    return this.#defaultNamespace;
  }

  constructor(services: Raw, defaultNamespace: string, clusterDomain: string) {
    this.#clusterDomain = clusterDomain;
    this.#defaultNamespace = defaultNamespace;
    this.#families = new ServiceFamilies(services, defaultNamespace);
    for (const [name, svc] of Object.entries(services)) this.#add(name, isMap(svc) ? svc : {});
  }

  /**
   * The entry's own names, and its Service's: the qualified names of the
   * Service it reports as (`api.backend.svc.cluster.local`) and the hosts it
   * lists reach the Service's first entry, whose resources every port shares.
   */
  #add(name: string, svc: Raw): void {
    const family = this.#families.of(name)!;
    const owner = family.members[0]!;
    const ns = family.namespace;
    const qualified = (n: string) => [`${n}.${ns}`, `${n}.${ns}.svc`, `${n}.${ns}.svc.${this.#clusterDomain}`];
    if (family.name !== name) for (const host of qualified(name)) this.#byHost.set(host, name);
    for (const host of qualified(family.name)) this.#byHost.set(host, owner);
    if (Array.isArray(svc.hosts)) for (const h of svc.hosts) if (typeof h === 'string') this.#byHost.set(h.toLowerCase(), owner);
    this.#byHost.set(name, name);
    this.#port.set(name, typeof svc.port === 'number' ? svc.port : undefined);
  }

  /** The service `host` names, read from a resource in `namespace`. */
  resolve(host: string, namespace: string | undefined): string | undefined {
    const h = host.toLowerCase();
    if (!h.includes('.')) return this.#byHost.get(`${h}.${namespace ?? this.#defaultNamespace}`) ?? this.#byHost.get(h);
    return this.#byHost.get(h);
  }

  /** What a resource for `service` configures: every port of its Service, or the one service a port's own name picks. */
  ports(service: string): readonly ServicePort[] {
    const family = this.#families.of(service);
    if (family === undefined || family.members[0] !== service) return [{ service, port: this.#port.get(service) }];
    return family.members.map((member) => ({ service: member, port: this.#port.get(member) }));
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
