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
 */
import { type BackoffConfig, backoffDelay } from '../../resilience/backoff.js';
import { type Endpoint, sameEndpointSet } from '../endpoint.js';
import type { DiscoveryTarget, EndpointListener, EndpointWatch } from '../source.js';
import type { KubeApiClient } from './api-client.js';
import { KubeApiError } from './api-error.js';
import { portInSlice, resolvePort } from './ports.js';
import { type EndpointSliceObject, type ListObject, resourceVersionOf, type ServiceObject, sliceName } from './resources.js';
import { sliceEndpoints } from './slice-endpoints.js';
import { describePort, type KubeTarget } from './target.js';
import { watchFailure } from './watch-failure.js';

export interface SliceWatchOptions {
  readonly client: () => Promise<KubeApiClient>;
  /** This workload's zone, for topology hints; '' when unknown. */
  readonly localZone: string;
  readonly backoff: BackoffConfig;
  readonly random: () => number;
  /** Server-side watch timeout; each watch asks for a random value between this and twice this. */
  readonly watchTimeoutSeconds: number;
}

/** A watch stream that failed after the server accepted it. */
class StreamDropped extends Error {}

/** A watch that ends cleanly sooner than this, having carried nothing, counts as a drop. */
const QUICK_END_MS = 1000;
/** No wait is shorter, so a server that drops every watch at once cannot cause a tight loop. */
const MIN_DELAY_MS = 100;

export class SliceWatch implements EndpointWatch {
  readonly #target: KubeTarget;
  readonly #discovery: DiscoveryTarget;
  readonly #listener: EndpointListener;
  readonly #options: SliceWatchOptions;
  readonly #onClose: () => void;
  readonly #abort = new AbortController();
  #open = true;
  #slices = new Map<string, EndpointSliceObject>();
  #service: ServiceObject | undefined;
  #resourceVersion: string | undefined;
  #needList = true;
  #delivered: readonly Endpoint[] | undefined;
  #failing = false;
  #attempt = 0;
  #timer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;

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
    // Started on a later turn: the listener must never be called from watch().
    queueMicrotask(() => void this.#run());
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#abort.abort();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#wake?.();
    this.#onClose();
  }

  async #run(): Promise<void> {
    let gone = 0;
    while (this.#open) {
      try {
        const client = await this.#options.client();
        if (this.#needList) await this.#list(client);
        await this.#watch(client);
        gone = 0;
      } catch (err) {
        if (!this.#open) return;
        if (err instanceof KubeApiError && err.gone) {
          this.#needList = true;
          // A relist is normal after compaction; only a repeat in a row waits.
          if (++gone > 1) await this.#sleep(this.#delay(gone - 1));
          continue;
        }
        this.#attempt++;
        if (!(err instanceof StreamDropped)) this.#report(err);
        await this.#sleep(this.#delay(this.#attempt));
      }
    }
  }

  async #list(client: KubeApiClient): Promise<void> {
    const { namespace, service } = this.#target;
    const signal = this.#abort.signal;
    const [svc, list] = await Promise.all([
      client.getJson(`/api/v1/namespaces/${namespace}/services/${service}`, signal).catch(serviceUnreadable),
      client.getJson(`${this.#slicesPath(namespace)}?labelSelector=${this.#selector()}`, signal),
    ]);
    if (!this.#open) return;
    const items = ((list as ListObject<EndpointSliceObject>).items ?? []) as EndpointSliceObject[];
    const slices = new Map<string, EndpointSliceObject>();
    for (const s of items) {
      const name = sliceName(s);
      if (name !== undefined) slices.set(name, s);
    }
    this.#slices = slices;
    this.#service = svc as ServiceObject | undefined;
    this.#resourceVersion = resourceVersionOf(list);
    this.#needList = false;
    this.#attempt = 0;
    this.#deliver();
  }

  async #watch(client: KubeApiClient): Promise<void> {
    const base = this.#options.watchTimeoutSeconds;
    const timeout = Math.floor(base + this.#options.random() * base);
    const rv = this.#resourceVersion;
    const query =
      `labelSelector=${this.#selector()}&watch=true&allowWatchBookmarks=true&timeoutSeconds=${timeout}` +
      (rv !== undefined ? `&resourceVersion=${encodeURIComponent(rv)}` : '');
    // Silence longer than the server's own timeout (plus slack) means a dead connection.
    const stream = await client.watch(`${this.#slicesPath(this.#target.namespace)}?${query}`, this.#abort.signal, (timeout + 60) * 1000);
    if (!this.#open) return;
    // The watch is up again after a reported failure: tell the consumer it cleared.
    if (this.#failing) this.#deliver();
    const started = performance.now();
    let events = 0;
    try {
      for await (const event of stream) {
        if (!this.#open) return;
        this.#apply(event.type, event.object);
        events++;
        this.#attempt = 0;
      }
    } catch (err) {
      if (err instanceof KubeApiError) throw err;
      throw new StreamDropped(String(err));
    }
    // A server (or proxy) that ends every watch at once must not be polled in a tight loop.
    if (events === 0 && performance.now() - started < QUICK_END_MS) throw new StreamDropped('the watch ended at once');
  }

  #apply(type: string, object: unknown): void {
    if (type === 'ERROR') throw KubeApiError.fromStatus(0, object);
    const rv = resourceVersionOf(object);
    if (rv !== undefined) this.#resourceVersion = rv;
    if (type === 'BOOKMARK') return;
    const slice = object as EndpointSliceObject;
    const name = sliceName(slice);
    if (name === undefined) return;
    if (type === 'DELETED') this.#slices.delete(name);
    else if (type === 'ADDED' || type === 'MODIFIED') this.#slices.set(name, slice);
    else return;
    this.#deliver();
  }

  /** Deliver the merged set when it is the first, changed, or the first good one after a reported failure. */
  #deliver(): void {
    if (!this.#open) return;
    let endpoints: Endpoint[] = [];
    if (this.#slices.size > 0) {
      const match = resolvePort(this.#target.port, this.#service, this.#slices.values());
      const carried = typeof match === 'string' ? 0 : [...this.#slices.values()].filter((s) => portInSlice(s, match) !== undefined).length;
      if (typeof match === 'string' || carried === 0) {
        // A port that no slice carries is a target problem: keep serving what was known.
        const reason = typeof match === 'string' ? match : `no EndpointSlice of the Service carries ${describePort(this.#target.port)}`;
        this.#report(new KubeApiError(0, 'PortNotFound', reason), false);
        return;
      }
      endpoints = sliceEndpoints(this.#slices.values(), match, this.#options.localZone);
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

  #delay(attempt: number): number {
    return Math.max(MIN_DELAY_MS, backoffDelay(attempt, this.#options.backoff, this.#options.random()));
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#wake = undefined;
        resolve();
      }, ms);
      // Reconnecting must never keep the process alive.
      this.#timer.unref();
    });
  }

  #slicesPath(namespace: string): string {
    return `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`;
  }

  #selector(): string {
    return encodeURIComponent(`kubernetes.io/service-name=${this.#target.service}`);
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
