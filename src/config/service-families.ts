/**
 * Which config services are one Kubernetes Service. The config model keys
 * services by name, one port each, so a Service is several entries when it
 * has several ports (`reviews`, `reviews-admin` reporting as `reviews`), or
 * when its name is also a Service's in another namespace (`api` in
 * `default`, `api-backend` reporting as `api` in `backend`). Entries are one
 * Service when they report as the same name in the same namespace.
 *
 * The control plane names their xDS resources by it (resource-names.ts),
 * and the Istio translator applies a host's resources to every port of it
 * (istio/host-index.ts).
 */

/** What the grouping reads of a service, raw or validated. */
export interface FamilyMember {
  readonly reportAs?: unknown;
  readonly namespace?: unknown;
}

export interface ServiceFamily {
  /** The Kubernetes Service's name. */
  readonly name: string;
  readonly namespace: string;
  /** Config names, the one answering to the Service's port-less names first: the entry named as the Service, else the first listed. */
  readonly members: readonly string[];
  /** Whether the bare name (`api`, `api:8080`) is this Service's: no entry has that name, or the entry that has it is one of these. */
  readonly ownsBareName: boolean;
}

export class ServiceFamilies {
  readonly #of = new Map<string, ServiceFamily>();

  constructor(services: Readonly<Record<string, unknown>>, defaultNamespace: string) {
    const byKey = new Map<string, { name: string; namespace: string; members: string[] }>();
    const entries = Object.entries(services);
    for (const [name, svc] of entries) {
      const { service, namespace } = identity(name, svc, defaultNamespace);
      const key = `${service}.${namespace}`;
      const family = byKey.get(key);
      if (family === undefined) byKey.set(key, { name: service, namespace, members: [name] });
      else if (name === service) family.members.unshift(name);
      else family.members.push(name);
    }
    for (const family of byKey.values()) {
      const named = services[family.name];
      const ownsBareName = named === undefined || family.members.includes(family.name);
      const done: ServiceFamily = { ...family, ownsBareName };
      for (const member of family.members) this.#of.set(member, done);
    }
  }

  /** The Service `name` (a config name) is part of. */
  of(name: string): ServiceFamily | undefined {
    return this.#of.get(name);
  }
}

/** The Service an entry is part of, by name and namespace. */
export function identity(name: string, svc: unknown, defaultNamespace: string): { service: string; namespace: string } {
  const s = (typeof svc === 'object' && svc !== null ? svc : {}) as FamilyMember;
  return {
    service: typeof s.reportAs === 'string' ? s.reportAs : name,
    namespace: typeof s.namespace === 'string' ? s.namespace : defaultNamespace,
  };
}

const memo = new WeakMap<object, { namespace: string; families: ServiceFamilies }>();

/** The families of a validated config's services, built once per services object (configs are immutable once validated). */
export function familiesOf(services: Readonly<Record<string, unknown>>, defaultNamespace: string): ServiceFamilies {
  const hit = memo.get(services);
  if (hit !== undefined && hit.namespace === defaultNamespace) return hit.families;
  const families = new ServiceFamilies(services, defaultNamespace);
  memo.set(services, { namespace: defaultNamespace, families });
  return families;
}
