/**
 * A Service's EndpointSlices, merged into one endpoint set.
 *
 * Conditions, as kube-proxy reads them (KEP-1669):
 * - ready (unset means ready) and not terminating: a healthy endpoint;
 * - terminating but still serving: left out while any ready endpoint
 *   exists, so it gets no new requests. Leaving the set closes its pools
 *   gracefully: requests in flight on it finish. When nothing is ready (the
 *   last replicas of a rollout are all going away) the serving terminating
 *   endpoints are kept as `draining`, the last resort kube-proxy also uses;
 * - neither ready nor serving: left out.
 * An address listed in two slices (a slice being split or merged) counts
 * once, with its best condition. A dual-stack Service's IPv6 slices are
 * skipped when IPv4 ones exist, so each pod counts once.
 *
 * Topology hints: when the local zone is known, every ready endpoint has
 * hints and at least one is hinted for the local zone, only those are used
 * (kube-proxy's rule; otherwise hints are ignored and zones only inform
 * locality-aware balancing). Slices carry each endpoint's zone but no
 * region: every endpoint gets this workload's region, since a cluster's
 * zones lie in one region.
 */
import { type Endpoint, makeEndpoint } from '../endpoint.js';
import { portInSlice, type SlicePortMatch } from './ports.js';
import type { EndpointSliceObject, SliceEndpoint } from './resources.js';

/** Better conditions rank higher; an address in two slices keeps its best. */
type Rank = 1 | 2;
const DRAINING: Rank = 1;
const READY: Rank = 2;

interface Candidate {
  readonly endpoint: Endpoint;
  readonly rank: Rank;
  readonly hints: readonly string[] | undefined;
}

export function sliceEndpoints(
  slices: Iterable<EndpointSliceObject>,
  port: SlicePortMatch,
  localZone: string,
  /** This workload's region ('' when unknown), given to every endpoint. */
  region = '',
): Endpoint[] {
  const byKey = new Map<string, Candidate>();
  const all = [...slices];
  // A dual-stack Service has IPv4 and IPv6 slices for the same pods: one family, or each pod counts twice.
  const family = all.some((s) => s.addressType === 'IPv4') ? 'IPv6' : undefined;
  for (const slice of all) {
    if (family !== undefined && slice.addressType === family) continue;
    const portNumber = portInSlice(slice, port);
    if (portNumber === undefined) continue;
    for (const ep of slice.endpoints ?? []) {
      const c = candidate(ep, portNumber, region);
      if (c === undefined) continue;
      const seen = byKey.get(c.endpoint.key);
      if (seen === undefined || seen.rank < c.rank) byKey.set(c.endpoint.key, c);
    }
  }
  const candidates = [...byKey.values()];
  const ready = candidates.filter((c) => c.rank === READY);
  const chosen = ready.length > 0 ? byHints(ready, localZone) : candidates;
  return chosen.map((c) => c.endpoint).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function candidate(ep: SliceEndpoint, port: number, region: string): Candidate | undefined {
  const address = ep.addresses?.[0];
  if (typeof address !== 'string' || address === '') return undefined;
  const c = ep.conditions ?? {};
  const ready = c.ready !== false;
  const terminating = c.terminating === true;
  const serving = c.serving ?? ready;
  let rank: Rank;
  if (ready && !terminating) rank = READY;
  else if (serving && terminating) rank = DRAINING;
  else return undefined;
  const zones = ep.hints?.forZones?.map((z) => z.name).filter((z): z is string => typeof z === 'string' && z !== '');
  return {
    endpoint: makeEndpoint({
      address,
      port,
      zone: typeof ep.zone === 'string' ? ep.zone : '',
      region,
      health: rank === READY ? 'healthy' : 'draining',
    }),
    rank,
    hints: zones !== undefined && zones.length > 0 ? zones : undefined,
  };
}

function byHints(ready: Candidate[], localZone: string): Candidate[] {
  if (localZone === '' || ready.some((c) => c.hints === undefined)) return ready;
  const local = ready.filter((c) => c.hints!.includes(localZone));
  return local.length > 0 ? local : ready;
}
