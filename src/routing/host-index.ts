/**
 * Which logical service a request's host (and port) names. Built once per
 * config snapshot. Kubernetes DNS semantics: `reviews` means `reviews` in
 * the caller's own namespace; `reviews.default`, `reviews.default.svc` and
 * `reviews.default.svc.cluster.local` name it from anywhere; `hosts` adds
 * aliases.
 *
 * A host one service claims names it on every port, so `http://reviews/`
 * reaches a service on port 9080. A host several services claim (one per
 * port of a Kubernetes Service, as xDS listeners `reviews:9080` and
 * `reviews:9090` are) is told apart by the request's port: the service on
 * that port, else the one with no port, else none, and the request passes
 * through to DNS as it would past a sidecar with no listener on that port.
 */
export interface ServiceName {
  readonly name: string;
  readonly namespace: string;
  readonly hosts?: readonly string[] | undefined;
  /** The service's port, which tells apart services that claim one host. */
  readonly port?: number | undefined;
}

interface Claim<T> {
  readonly port: number | undefined;
  readonly value: T;
}

/** Every host a service claims, lower-cased, without a trailing dot. */
export function claimedHosts(svc: ServiceName, ownNamespace: string, clusterDomain: string): string[] {
  const domain = normalizeHost(clusterDomain);
  const fqdn = `${svc.name}.${svc.namespace}`;
  const out = [fqdn, `${fqdn}.svc`, `${fqdn}.svc.${domain}`, ...(svc.hosts ?? []).map(normalizeHost)];
  if (svc.namespace === ownNamespace) out.unshift(svc.name);
  return [...new Set(out)];
}

export class HostIndex<T> {
  readonly #byHost = new Map<string, Claim<T>[]>();

  constructor(entries: Iterable<readonly [ServiceName, T]>, ownNamespace: string, clusterDomain: string) {
    for (const [svc, value] of entries) {
      for (const host of claimedHosts(svc, ownNamespace, clusterDomain)) {
        const claims = this.#byHost.get(host);
        const claim = { port: svc.port, value };
        if (claims === undefined) this.#byHost.set(host, [claim]);
        else claims.push(claim);
      }
    }
  }

  /** `hostname` without port; case and a trailing dot are ignored. `port` tells apart services that share the host. */
  lookup(hostname: string, port?: number): T | undefined {
    const claims = this.#byHost.get(normalizeHost(hostname));
    if (claims === undefined) return undefined;
    if (claims.length === 1) return claims[0]!.value;
    return (claims.find((c) => c.port === port) ?? claims.find((c) => c.port === undefined))?.value;
  }

  hosts(): string[] {
    return [...this.#byHost.keys()];
  }
}

/** Lower-cased, without a trailing dot: the form hosts are claimed and looked up in. */
export function normalizeHost(host: string): string {
  const h = host.toLowerCase();
  return h.endsWith('.') ? h.slice(0, -1) : h;
}
