/**
 * Routes read once from a resource (a VirtualService, an HTTPRoute) and
 * bound to each port of the Service they configure: a Service with several
 * ports is one config service per port (host-index.ts), and istiod writes a
 * host's routes into each port's route table. A match entry that names a
 * port counts only on that port, and a destination without a port is the
 * destination Service's port the route is served on.
 */
import type { HostIndex, ServicePort } from './host-index.js';
import { isMap, type Raw, type ResourceReader } from './reader.js';

/** A destination as written: bound to a config service per port by bindRoute. */
interface DestinationRef {
  readonly service: string;
  readonly port: number | undefined;
  readonly at: ResourceReader;
}

/** What bindRoute needs to place, keyed by the objects standing in the routes. */
export class PendingRoutes {
  readonly #destinations = new WeakMap<Raw, DestinationRef>();
  readonly #matchPorts = new WeakMap<Raw, ResourceReader>();

  /** A destination for `service` (and `port`, if the resource named one), with `rest` (subset...) carried as is. */
  destination(service: string, port: number | undefined, at: ResourceReader, rest: Raw = {}): Raw {
    const out: Raw = { ...rest, service };
    this.#destinations.set(out, { service, port, at });
    return out;
  }

  /** Marks a match entry whose `port` field is to be settled per port. */
  matchPort(entry: Raw, at: ResourceReader): void {
    this.#matchPorts.set(entry, at);
  }

  /**
   * One route as served on one port: match entries for another port left
   * out (the route too, when that leaves none), destinations bound to the
   * config service of the port they reach.
   */
  bind(route: Raw, on: ServicePort, hosts: HostIndex): Raw | undefined {
    const out: Raw = { ...route };
    if (Array.isArray(route.match) && route.match.length > 0) {
      const entries = (route.match as Raw[]).flatMap((entry): Raw[] => {
        if (entry.port === undefined) return [entry];
        const { port, ...rest } = entry;
        if (on.port === undefined) {
          this.#matchPorts.get(entry)?.issue(`needs services.${on.service}.port to know which port this entry matches`);
          return [rest];
        }
        return port === on.port ? [rest] : [];
      });
      if (entries.length === 0) return undefined;
      out.match = entries;
    }
    const to = (placeholder: unknown): Raw => {
      const ref = isMap(placeholder) ? this.#destinations.get(placeholder) : undefined;
      if (ref === undefined) return placeholder as Raw;
      const { service: _service, ...rest } = placeholder as Raw;
      const choice = hosts.destination(ref.service, ref.port, on.port);
      if ('problem' in choice) {
        ref.at.issue(on.port === undefined ? choice.problem : `${choice.problem} (the route served on ${on.service}, port ${on.port})`);
        return rest;
      }
      return { ...rest, service: choice.service };
    };
    if (Array.isArray(route.route)) out.route = (route.route as Raw[]).map((d) => ({ ...d, destination: to(d.destination) }));
    if (route.mirror !== undefined) out.mirror = to(route.mirror);
    if (Array.isArray(route.mirrors)) out.mirrors = (route.mirrors as Raw[]).map((m) => ({ ...m, destination: to(m.destination) }));
    return out;
  }

  /** Every route bound to `on`, the ones left with no match entry there dropped. */
  bindAll(routes: readonly Raw[], on: ServicePort, hosts: HostIndex): Raw[] {
    return routes.flatMap((r): Raw[] => {
      const bound = this.bind(r, on, hosts);
      return bound === undefined ? [] : [bound];
    });
  }
}

/** A TCP port number, or undefined with an issue. */
export function portNumber(value: unknown, r: ResourceReader): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535) return value;
  r.issue(`must be a port number (1-65535), got ${JSON.stringify(value)}`);
  return undefined;
}
