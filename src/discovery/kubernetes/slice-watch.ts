/**
 * One `k8s:` target's list-then-watch of its Service's EndpointSlices, as a
 * client-go reflector does it:
 * - list (and read the Service for port names), deliver, then watch from
 *   the list's resourceVersion with bookmarks, so a reconnect resumes where
 *   the last event or bookmark left off instead of relisting;
 * - every event updates the merged set, and a changed set is delivered at
 *   once (a scale-up or a pod going away shows within one event);
 * - 410 Gone (the resourceVersion was compacted) relists, keeping the
 *   current endpoints until the new list arrives;
 * - a failed request is reported (403 as MESH_DISCOVERY_FORBIDDEN) and
 *   retried with jittered exponential backoff; a watch that drops after it
 *   started reconnects with the same backoff, unreported;
 * - a watch the server ends cleanly (its timeout) is reopened at once.
 *
 * The first list also waits, at most ZONE_WAIT_MS, for this workload's zone
 * (a Node read when the zone comes from the Node), so topology hints apply
 * from the first set; a zone learned later re-filters the current set.
 */
import type { BackoffConfig } from '../../resilience/backoff.js';
import { type Endpoint, sameEndpointSet } from '../endpoint.js';
import type { DiscoveryTarget, EndpointListener, EndpointWatch } from '../source.js';
import type { KubeApiClient } from './api-client.js';
import { KubeApiError } from './api-error.js';
import type { LocalZone } from './local-zone.js';
import { portInSlice, resolvePort } from './ports.js';
import { Reflector } from './reflector.js';
import type { EndpointSliceObject, ServiceObject } from './resources.js';
import { sliceEndpoints } from './slice-endpoints.js';
import { describePort, type KubeTarget } from './target.js';
import { watchFailure } from './watch-failure.js';

export interface SliceWatchOptions {
  readonly client: () => Promise<KubeApiClient>;
  /** This workload's zone, for topology hints. */
  readonly localZone: LocalZone;
  readonly backoff: BackoffConfig;
  readonly random: () => number;
  /** Server-side watch timeout; each watch asks for a random value between this and twice this. */
  readonly watchTimeoutSeconds: number;
}

/**
 * How long the first endpoint set waits for a Node read. The read runs
 * beside the list on the same API server, so it normally lands first; this
 * bounds how long a slow one can delay readiness.
 */
export const ZONE_WAIT_MS = 2000;

export class SliceWatch implements EndpointWatch {
  readonly #target: KubeTarget;
  readonly #discovery: DiscoveryTarget;
  readonly #listener: EndpointListener;
  readonly #options: SliceWatchOptions;
  readonly #onClose: () => void;
  readonly #reflector: Reflector<EndpointSliceObject>;
  readonly #unsubscribeZone: () => void;
  #open = true;
  #service: ServiceObject | undefined;
  #delivered: readonly Endpoint[] | undefined;
  #failing = false;

  constructor(
    target: KubeTarget,
    discovery: DiscoveryTarget,
    listener: EndpointListener,
    options: SliceWatchOptions,
    onClose: () => void,
  ) {
    this.#target = target;
    this.#discovery = discovery;
    this.#listener = listener;
    this.#options = options;
    this.#onClose = onClose;
    const { namespace, service } = target;
    // The reflector starts on a later turn: the listener is never called from watch().
    this.#reflector = new Reflector<EndpointSliceObject>({
      client: options.client,
      path: `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`,
      query: `labelSelector=${encodeURIComponent(`kubernetes.io/service-name=${service}`)}`,
      alongList: async (client, signal) => {
        const [read] = await Promise.all([
          client.getJson(`/api/v1/namespaces/${namespace}/services/${service}`, signal).catch(serviceUnreadable),
          options.localZone.within(ZONE_WAIT_MS, signal),
        ]);
        this.#service = read as ServiceObject | undefined;
      },
      // The watch is up again after a reported failure: tell the consumer it cleared.
      onWatching: () => {
        if (this.#failing) this.#deliver();
      },
      backoff: options.backoff,
      random: options.random,
      watchTimeoutSeconds: options.watchTimeoutSeconds,
      keep: (object) => object as EndpointSliceObject,
      onChange: () => this.#deliver(),
      onError: (err) => this.#report(err),
    });
    // A zone that arrives after the first set may select other hinted endpoints. While failing, the all-clear delivers it.
    this.#unsubscribeZone = options.localZone.onChange(() => {
      if (this.#reflector.listed && !this.#failing) this.#deliver();
    });
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#unsubscribeZone();
    this.#reflector.close();
    this.#onClose();
  }

  /** Deliver the merged set when it is the first, changed, or the first good one after a reported failure. */
  #deliver(): void {
    if (!this.#open) return;
    const slices = this.#reflector.objects;
    let endpoints: Endpoint[] = [];
    if (slices.size > 0) {
      const match = resolvePort(this.#target.port, this.#service, slices.values());
      const carried = typeof match === 'string' ? 0 : [...slices.values()].filter((s) => portInSlice(s, match) !== undefined).length;
      if (typeof match === 'string' || carried === 0) {
        // A port that no slice carries is a target problem: keep serving what was known.
        const reason = typeof match === 'string' ? match : `no EndpointSlice of the Service carries ${describePort(this.#target.port)}`;
        this.#report(new KubeApiError(0, 'PortNotFound', reason), false);
        return;
      }
      const local = this.#options.localZone;
      endpoints = sliceEndpoints(slices.values(), match, local.current, local.region);
    }
    if (!this.#failing && this.#delivered !== undefined && sameEndpointSet(this.#delivered, endpoints)) return;
    this.#failing = false;
    this.#delivered = endpoints;
    this.#listener.next(endpoints);
  }

  #report(err: unknown, retrying = true): void {
    if (!this.#open) return;
    this.#failing = true;
    this.#listener.error(watchFailure(err, this.#discovery, this.#target, this.#delivered, retrying));
  }
}

/**
 * Port names come from the Service. Without read access to it (403), or
 * with no Service (404), the slices alone still serve; any other failure
 * fails the list, so a passing outage cannot remap ports onto nothing.
 */
function serviceUnreadable(err: unknown): undefined {
  if (err instanceof KubeApiError && (err.status === 403 || err.status === 404)) return undefined;
  throw err;
}
