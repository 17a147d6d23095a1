/**
 * A list-then-watch of one collection of Kubernetes objects (one resource
 * type, in one namespace or all), keeping the current objects by
 * `namespace/name`, as client-go's reflector does:
 * - list, then watch from the list's resourceVersion with bookmarks, so a
 *   reconnect resumes where the last event or bookmark left off;
 * - 410 Gone relists, keeping the current objects until the new list lands;
 * - a failed request is reported and retried with jittered exponential
 *   backoff; a watch that drops after it started reconnects unreported;
 * - a watch the server ends cleanly (its timeout) is reopened at once.
 *
 * The `k8s:` provider's slice watch (slice-watch.ts) and the control
 * plane's Kubernetes input both list and watch through this one loop.
 */
import { monotonicNow } from '../../net/monotonic-clock.js';
import { type BackoffConfig, backoffDelay } from '../../resilience/backoff.js';
import type { KubeApiClient } from './api-client.js';
import { KubeApiError } from './api-error.js';
import { type ListObject, resourceVersionOf } from './resources.js';

export interface ReflectorOptions<T> {
  readonly client: () => Promise<KubeApiClient>;
  /** The collection's path, e.g. `/apis/discovery.k8s.io/v1/endpointslices` or `/api/v1/namespaces/shop/services`. */
  readonly path: string;
  /** More query parameters for both list and watch, e.g. `labelSelector=...` (already encoded). */
  readonly query?: string;
  /** Run beside every list; the new objects are delivered once both are done (EndpointSlices read their Service this way). */
  readonly alongList?: (client: KubeApiClient, signal: AbortSignal) => Promise<void>;
  /** The server accepted a watch (a consumer that reported a failure can say it cleared). */
  readonly onWatching?: () => void;
  readonly backoff: BackoffConfig;
  readonly random: () => number;
  /** Server-side watch timeout; each watch asks for a random value between this and twice this. */
  readonly watchTimeoutSeconds: number;
  /** What to keep of each object (keep little: at scale the store is most of the memory). */
  readonly keep: (object: unknown) => T;
  /** The set changed (after a list, or one event). Never called synchronously from start() or after close(). */
  readonly onChange: () => void;
  /** A list or watch failed; `listed` says whether objects from an earlier list are being kept. */
  readonly onError: (err: unknown, listed: boolean) => void;
}

class StreamDropped extends Error {}

const QUICK_END_MS = 1000;
const MIN_DELAY_MS = 100;

export class Reflector<T> {
  readonly #options: ReflectorOptions<T>;
  readonly #abort = new AbortController();
  #objects = new Map<string, T>();
  #resourceVersion: string | undefined;
  #needList = true;
  #listed = false;
  #open = true;
  #attempt = 0;
  #timer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;

  constructor(options: ReflectorOptions<T>) {
    this.#options = options;
    queueMicrotask(() => void this.#run());
  }

  /** Current objects by `namespace/name`; empty until the first list. */
  get objects(): ReadonlyMap<string, T> {
    return this.#objects;
  }

  /** Whether a list has completed (the set is the cluster's, not just empty). */
  get listed(): boolean {
    return this.#listed;
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#abort.abort();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#wake?.();
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
          if (++gone > 1) await this.#sleep(this.#delay(gone - 1));
          continue;
        }
        this.#attempt++;
        if (!(err instanceof StreamDropped)) this.#options.onError(err, this.#listed);
        await this.#sleep(this.#delay(this.#attempt));
      }
    }
  }

  async #list(client: KubeApiClient): Promise<void> {
    const q = this.#options.query;
    const signal = this.#abort.signal;
    const [list] = await Promise.all([
      client.getJson(q !== undefined ? `${this.#options.path}?${q}` : this.#options.path, signal) as Promise<ListObject<unknown>>,
      this.#options.alongList?.(client, signal),
    ]);
    if (!this.#open) return;
    const objects = new Map<string, T>();
    for (const item of list.items ?? []) {
      const key = keyOf(item);
      if (key !== undefined) objects.set(key, this.#options.keep(item));
    }
    this.#objects = objects;
    this.#resourceVersion = resourceVersionOf(list);
    this.#needList = false;
    this.#listed = true;
    this.#attempt = 0;
    this.#options.onChange();
  }

  async #watch(client: KubeApiClient): Promise<void> {
    const base = this.#options.watchTimeoutSeconds;
    const timeout = Math.floor(base + this.#options.random() * base);
    const rv = this.#resourceVersion;
    const query =
      (this.#options.query !== undefined ? `${this.#options.query}&` : '') +
      `watch=true&allowWatchBookmarks=true&timeoutSeconds=${timeout}` +
      (rv !== undefined ? `&resourceVersion=${encodeURIComponent(rv)}` : '');
    const stream = await client.watch(`${this.#options.path}?${query}`, this.#abort.signal, (timeout + 60) * 1000);
    if (!this.#open) return;
    this.#options.onWatching?.();
    const started = monotonicNow();
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
    if (events === 0 && monotonicNow() - started < QUICK_END_MS) throw new StreamDropped('the watch ended at once');
  }

  #apply(type: string, object: unknown): void {
    if (type === 'ERROR') throw KubeApiError.fromStatus(0, object);
    const rv = resourceVersionOf(object);
    if (rv !== undefined) this.#resourceVersion = rv;
    if (type === 'BOOKMARK') return;
    const key = keyOf(object);
    if (key === undefined) return;
    if (type === 'DELETED') this.#objects.delete(key);
    else if (type === 'ADDED' || type === 'MODIFIED') this.#objects.set(key, this.#options.keep(object));
    else return;
    this.#options.onChange();
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
      this.#timer.unref();
    });
  }
}

/** `namespace/name` (or `name` for a cluster-scoped object); undefined for a malformed object. */
export function keyOf(object: unknown): string | undefined {
  const meta = (object as { metadata?: { name?: unknown; namespace?: unknown } } | null)?.metadata;
  if (typeof meta?.name !== 'string' || meta.name === '') return undefined;
  return typeof meta.namespace === 'string' && meta.namespace !== '' ? `${meta.namespace}/${meta.name}` : meta.name;
}
