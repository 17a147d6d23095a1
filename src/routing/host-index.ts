/**
 * Which logical service a request's host names. Built once per config
 * snapshot. Kubernetes DNS semantics: `reviews` means `reviews` in the
 * caller's own namespace; `reviews.default`, `reviews.default.svc` and
 * `reviews.default.svc.cluster.local` name it from anywhere; `hosts` adds
 * aliases. Ports never change which service a host names.
 */
export interface ServiceName {
  readonly name: string;
  readonly namespace: string;
  readonly hosts?: readonly string[];
}

export class HostIndex<T> {
  readonly #byHost = new Map<string, T>();

  constructor(entries: Iterable<readonly [ServiceName, T]>, ownNamespace: string, clusterDomain: string) {
    const domain = clusterDomain.replace(/\.$/, '').toLowerCase();
    for (const [svc, value] of entries) {
      const fqdn = `${svc.name}.${svc.namespace}`;
      if (svc.namespace === ownNamespace) this.#byHost.set(svc.name, value);
      this.#byHost.set(fqdn, value);
      this.#byHost.set(`${fqdn}.svc`, value);
      this.#byHost.set(`${fqdn}.svc.${domain}`, value);
      for (const alias of svc.hosts ?? []) this.#byHost.set(normalizeHost(alias), value);
    }
  }

  /** `hostname` without port; case and a trailing dot are ignored. */
  lookup(hostname: string): T | undefined {
    return this.#byHost.get(normalizeHost(hostname));
  }

  hosts(): string[] {
    return [...this.#byHost.keys()];
  }
}

function normalizeHost(host: string): string {
  const h = host.toLowerCase();
  return h.endsWith('.') ? h.slice(0, -1) : h;
}
