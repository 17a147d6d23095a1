/**
 * Make before break, for one client. A config change can add clusters that
 * new routes use and remove clusters that old routes used. Sent in the
 * wrong order, a client briefly routes to a cluster it does not have (added
 * clusters sent after the routes) or keeps routing to one it just lost
 * (removed clusters sent before its routes moved off them): requests fail
 * either way.
 *
 * So a change that removes clusters goes out the way Envoy's guidance
 * orders it: first the clusters and endpoints of the old and new config
 * together (the bridge), then the new listeners and routes. The bridge then
 * stays, and answers this client's cluster and endpoint requests, until the
 * client has moved off the old clusters: it has acknowledged the routes,
 * and it no longer names a removed cluster or its endpoints. A client that
 * names its clusters (gRPC, proxyless) asks for a new route's cluster only
 * after it has seen the route, and keeps its old routes until that cluster
 * arrives; ending the bridge earlier would take the old cluster from
 * routes still in use. Only then do the new clusters and endpoints alone go
 * out, dropping the old ones.
 */
import { TYPE_URL } from '../discovery/xds/envoy-protos.js';
import type { ClientNode } from './local-endpoints.js';
import type { ServedType, Snapshot, SnapshotResource } from './snapshot.js';

export const CLUSTER_TYPES: readonly ServedType[] = [TYPE_URL.cluster, TYPE_URL.clusterLoadAssignment];
export const ROUTING_TYPES: readonly ServedType[] = [TYPE_URL.listener, TYPE_URL.routeConfiguration];

/** What the bridge needs to know of a client's subscription to one type. */
export interface SubscriptionView {
  readonly wildcard: boolean;
  readonly names: ReadonlySet<string>;
  /** The client acknowledged the last response it was sent (or was sent none). */
  readonly upToDate: boolean;
}

export class ClusterBridge {
  #bridge: Snapshot | undefined;
  /** The cluster and endpoint names the bridge keeps that the current config removed. */
  #kept = new Set<string>();

  get active(): boolean {
    return this.#bridge !== undefined;
  }

  /**
   * A new snapshot `next` after `previous` (or after the bridge, while one
   * is up): whether clusters were removed, in which case the bridge now
   * holds them and cluster types are answered from it.
   */
  begin(previous: Snapshot | undefined, next: Snapshot): boolean {
    const base = this.#bridge ?? previous;
    const bridged = base === undefined ? undefined : bridgeSnapshot(base, next);
    this.#bridge = bridged?.snapshot;
    this.#kept = bridged?.kept ?? new Set();
    return bridged !== undefined;
  }

  /** The snapshot to answer `type` from. */
  snapshotFor(type: ServedType, current: Snapshot): Snapshot {
    return this.#bridge !== undefined && CLUSTER_TYPES.includes(type) ? this.#bridge : current;
  }

  /** Whether the client has moved off every removed cluster, given its subscriptions. */
  settled(subs: ReadonlyMap<ServedType, SubscriptionView>): boolean {
    if (this.#bridge === undefined) return true;
    for (const type of ROUTING_TYPES) if (subs.get(type)?.upToDate === false) return false;
    for (const type of CLUSTER_TYPES) {
      const sub = subs.get(type);
      if (sub !== undefined && !sub.wildcard && [...sub.names].some((n) => this.#kept.has(n))) return false;
    }
    return true;
  }

  end(): void {
    this.#bridge = undefined;
    this.#kept = new Set();
  }
}

/**
 * `next` with the clusters and endpoints `previous` had and `next` lacks
 * kept in, and their names; undefined when `next` removes none.
 */
function bridgeSnapshot(previous: Snapshot, next: Snapshot): { snapshot: Snapshot; kept: Set<string> } | undefined {
  const kept = new Set<string>();
  const resources = new Map(next.resources);
  const typeVersions = new Map(next.typeVersions);
  for (const type of CLUSTER_TYPES) {
    const before = previous.resources.get(type);
    const after = next.resources.get(type) ?? new Map<string, SnapshotResource>();
    if (before === undefined) continue;
    const gone = [...before].filter(([name]) => !after.has(name));
    if (gone.length === 0) continue;
    for (const [name] of gone) kept.add(name);
    resources.set(type, new Map([...gone, ...after]));
    // Its own version: the clusters a client holds between the two steps are neither config's.
    typeVersions.set(type, `${next.typeVersions.get(type) ?? next.version}-bridge`);
  }
  if (kept.size === 0) return undefined;
  // A kept cluster's endpoints stay ordered for each client as `previous` ordered them.
  const nextEndpoints = next.resources.get(TYPE_URL.clusterLoadAssignment);
  const localEndpoints = {
    digest: next.localEndpoints.digest,
    resource: (name: string, node: ClientNode) => (nextEndpoints?.has(name) === false ? previous : next).localEndpoints.resource(name, node),
  };
  return { snapshot: { ...next, resources, typeVersions, localEndpoints }, kept };
}
