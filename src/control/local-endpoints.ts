/**
 * Endpoints in the order the asking client should use them, as istiod
 * writes them: each client's ClusterLoadAssignment puts the endpoints into
 * priorities by where they sit relative to that client (its zone, the rest
 * of its region, the regions `failover` names for its region, then every
 * other region; or, under `failoverPriority`, how many of the listed labels
 * they share with it). Envoy and gRPC clients fail over by priority, so this
 * is how they get the tiers proxyless clients build for themselves; the
 * ranking is the data plane's own (balancer/locality.ts), so both agree.
 *
 * The client is read from its node: `locality.region` and `.zone`, and
 * metadata `LABELS` for label keys. A client that gives no region, asking
 * for a cluster without `failoverPriority`, has nothing to be ordered by and
 * gets the resource every client gets. Built on request, once per (cluster,
 * client place) and snapshot, and cached with the snapshot.
 */
import { createHash } from 'node:crypto';
import { failoverOptions } from '../balancer/failover-options.js';
import { localityRanking } from '../balancer/locality.js';
import type { LoadBalancerConfig, ServiceConfig } from '../config/schema.js';
import { loadAssignment } from './endpoint-resources.js';
import type { EncodedResource } from './inbound-resources.js';
import { workloadOf } from './inbound-workload.js';

/** A client's node as proto-loader hands it over. */
export type ClientNode = { id?: string; metadata?: unknown; locality?: { region?: string; zone?: string } | null } | null | undefined;

/** A cluster whose endpoints are ordered per client. */
export interface RankedCluster {
  readonly config: ServiceConfig;
  readonly subset: string | undefined;
  /** The cluster's effective loadBalancer block. */
  readonly lb: Pick<LoadBalancerConfig, 'localityAware' | 'failover' | 'failoverPriority' | 'distribute'>;
}

/** Per-client endpoint resources, or undefined where every client gets the same. */
export interface ClientEndpoints {
  /** Equal digests (with equal shared endpoint resources) give equal resources for every client. */
  readonly digest: string;
  resource(name: string, node: ClientNode): EncodedResource | undefined;
}

export interface LocalEndpointsOptions {
  /**
   * Endpoints carry a zone but no region because they all lie in one
   * region (a Kubernetes cluster's EndpointSlices): each is taken to be in
   * the asking client's region, as the data plane's Kubernetes discovery
   * takes them to be in its own.
   */
  readonly oneRegion?: boolean;
}

/** Whether a cluster's endpoints can come out in another order for some client. */
export function isRanked(config: ServiceConfig, lb: RankedCluster['lb']): boolean {
  if (lb.localityAware === false || config.discovery !== undefined) return false;
  return lb.failoverPriority !== undefined || lb.distribute !== undefined || (config.endpoints ?? []).some((ep) => ('region' in ep && ep.region !== undefined) || ('zone' in ep && ep.zone !== undefined));
}

export class LocalEndpoints implements ClientEndpoints {
  readonly #clusters: ReadonlyMap<string, RankedCluster>;
  readonly #encode: (name: string, object: Record<string, unknown>) => EncodedResource;
  readonly #oneRegion: boolean;
  readonly #cache = new Map<string, EncodedResource | undefined>();
  readonly digest: string;

  constructor(
    clusters: ReadonlyMap<string, RankedCluster>,
    encode: (name: string, object: Record<string, unknown>) => EncodedResource,
    options: LocalEndpointsOptions = {},
  ) {
    this.#clusters = clusters;
    this.#encode = encode;
    this.#oneRegion = options.oneRegion === true;
    // The endpoints themselves are in the shared resources; only how they are ranked is not.
    const ranked = [...clusters].map(([name, c]) => [name, c.lb.failover, c.lb.failoverPriority, c.lb.distribute]);
    this.digest = clusters.size === 0 ? '' : createHash('sha256').update(JSON.stringify([this.#oneRegion, ranked])).digest('base64url');
  }

  resource(name: string, node: ClientNode): EncodedResource | undefined {
    const cluster = this.#clusters.get(name);
    if (cluster === undefined) return undefined;
    const place = {
      region: node?.locality?.region ?? '',
      zone: node?.locality?.zone ?? '',
      labels: workloadOf(node).labels,
    };
    const failover = failoverOptions(cluster.lb, place);
    if (place.region === '' && failover.failoverLabels === undefined && failover.distribution === undefined) return undefined;
    const key = JSON.stringify([name, place.region, place.zone, failover]);
    if (this.#cache.has(key)) return this.#cache.get(key);
    const ranking = localityRanking({ localRegion: place.region, localZone: place.zone, localityAware: failover.distribution === undefined, ...failover });
    const oneRegion = this.#oneRegion;
    const resource = this.#encode(
      name,
      loadAssignment(name, cluster.config, cluster.subset, {
        ranks: ranking.ranks,
        rankOf: (ep) => ranking.rankOf(ep),
        shares: failover.distribution,
        regionOf: (region) => (oneRegion && region === '' ? place.region : region),
      }),
    );
    this.#cache.set(key, resource);
    return resource;
  }
}
