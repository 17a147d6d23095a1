/**
 * Make before break. A config change can add clusters that new routes
 * use and remove clusters that old routes used. Sent in the wrong order, a
 * client briefly routes to a cluster it does not have (added clusters sent
 * after the routes) or keeps routing to one it just lost (removed clusters
 * sent before the routes): requests fail either way.
 *
 * So a push goes out in three steps, the way Envoy's guidance orders them:
 * clusters and endpoints of the old and new config together, then the new
 * listeners and routes, then the new clusters and endpoints alone, which
 * drops the old ones once nothing routes to them.
 */
import { TYPE_URL } from '../discovery/xds/envoy-protos.js';
import type { ClientNode } from './local-endpoints.js';
import type { ServedType, Snapshot, SnapshotResource } from './snapshot.js';

const CLUSTER_TYPES: readonly ServedType[] = [TYPE_URL.cluster, TYPE_URL.clusterLoadAssignment];
const ROUTING_TYPES: readonly ServedType[] = [TYPE_URL.listener, TYPE_URL.routeConfiguration];

/** One response of a push: a type, taken from a snapshot. */
export interface PushStep {
  readonly type: ServedType;
  readonly snapshot: Snapshot;
}

/**
 * The responses a push sends, in order. Without removed clusters there is
 * nothing to bridge: clusters and endpoints, then listeners and routes.
 */
export function pushSteps(previous: Snapshot | undefined, next: Snapshot): PushStep[] {
  const bridge = previous === undefined ? undefined : bridgeSnapshot(previous, next);
  const step = (snapshot: Snapshot) => (type: ServedType) => ({ type, snapshot });
  if (bridge === undefined) return [...CLUSTER_TYPES, ...ROUTING_TYPES].map(step(next));
  return [...CLUSTER_TYPES.map(step(bridge)), ...ROUTING_TYPES.map(step(next)), ...CLUSTER_TYPES.map(step(next))];
}

/**
 * `next` with the clusters and endpoints `previous` had and `next` lacks
 * kept in, or undefined when `next` removes none (then there is nothing to
 * bridge).
 */
function bridgeSnapshot(previous: Snapshot, next: Snapshot): Snapshot | undefined {
  let removes = false;
  const resources = new Map(next.resources);
  const typeVersions = new Map(next.typeVersions);
  for (const type of CLUSTER_TYPES) {
    const before = previous.resources.get(type);
    const after = next.resources.get(type) ?? new Map<string, SnapshotResource>();
    if (before === undefined) continue;
    const kept = [...before].filter(([name]) => !after.has(name));
    if (kept.length === 0) continue;
    removes = true;
    resources.set(type, new Map([...kept, ...after]));
    // Its own version: the clusters a client holds between the two steps are neither config's.
    typeVersions.set(type, `${next.typeVersions.get(type) ?? next.version}-bridge`);
  }
  if (!removes) return undefined;
  // A kept cluster's endpoints stay ordered for each client as `previous` ordered them.
  const nextEndpoints = next.resources.get(TYPE_URL.clusterLoadAssignment);
  const localEndpoints = {
    digest: next.localEndpoints.digest,
    resource: (name: string, node: ClientNode) =>
      (nextEndpoints?.has(name) === false ? previous : next).localEndpoints.resource(name, node),
  };
  return { ...next, resources, typeVersions, localEndpoints };
}
