/**
 * The control plane's view of the cluster: one Reflector (list then watch)
 * per watched kind, each keeping only what translation reads. It is ready
 * when every kind has listed once (an Istio CRD that is not installed, 404,
 * counts as listed and empty); after that, changes are coalesced over a
 * short window into one `onChange`, so a rollout touching many slices
 * builds one snapshot, not one per event.
 *
 * A 403 before ready fails start() with MESH_DISCOVERY_FORBIDDEN naming the
 * missing permission; after ready, failures are logged and retried with
 * backoff while the last objects keep being served.
 */

import { isLinkerdPolicyAnnotation } from '../../config/istio/linkerd-policy.js';
import type { KubeApiClient } from '../../discovery/kubernetes/api-client.js';
import { KubeApiError } from '../../discovery/kubernetes/api-error.js';
import { DEFAULT_KUBE_BACKOFF } from '../../discovery/kubernetes/provider.js';
import { Reflector } from '../../discovery/kubernetes/reflector.js';
import { MeshError } from '../../errors.js';
import type { MeshLogger } from '../../telemetry/logger.js';
import { collectionPath, qualifiedResource, WATCHED_KINDS, type WatchedKind } from './watched-kinds.js';

export interface ClusterWatchOptions {
  readonly client: () => Promise<KubeApiClient>;
  /** One namespace, or undefined for all. */
  readonly namespace: string | undefined;
  readonly logger: MeshLogger;
  readonly debounceMs: number;
  readonly watchTimeoutSeconds: number;
  readonly onChange: () => void;
}

export class ClusterWatch {
  readonly #options: ClusterWatchOptions;
  readonly #reflectors = new Map<string, Reflector<unknown>>();
  /** Optional kinds the server does not have (CRD not installed). */
  readonly #absent = new Set<string>();
  #ready: { resolve: () => void; reject: (err: Error) => void } | undefined;
  #isReady = false;
  #timer: NodeJS.Timeout | undefined;
  #open = true;

  constructor(options: ClusterWatchOptions) {
    this.#options = options;
  }

  /** Start every list+watch; resolves when all kinds have listed. */
  start(): Promise<void> {
    const done = new Promise<void>((resolve, reject) => {
      this.#ready = { resolve, reject };
    });
    for (const kind of WATCHED_KINDS) {
      this.#reflectors.set(
        kind.name,
        new Reflector<unknown>({
          client: this.#options.client,
          path: collectionPath(kind, this.#options.namespace),
          backoff: DEFAULT_KUBE_BACKOFF,
          random: Math.random,
          watchTimeoutSeconds: this.#options.watchTimeoutSeconds,
          keep: keeper(kind),
          onChange: () => this.#changed(kind),
          onError: (err, listed) => this.#failed(kind, err, listed),
        }),
      );
    }
    return done;
  }

  /** The objects of the kind named `name` (WatchedKind.name) as kept (see keeper()), by `namespace/name`. */
  objects<T>(name: string): ReadonlyMap<string, T> {
    return (this.#reflectors.get(name)?.objects ?? new Map()) as ReadonlyMap<string, T>;
  }

  close(): void {
    this.#open = false;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    for (const r of this.#reflectors.values()) r.close();
    this.#ready?.reject(new MeshError('MESH_DISCOVERY_FAILED', 'the control plane closed before the cluster was read'));
  }

  #changed(kind: WatchedKind): void {
    this.#absent.delete(kind.name);
    if (!this.#open) return;
    if (!this.#isReady) {
      this.#checkReady();
      return;
    }
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#open) this.#options.onChange();
    }, this.#options.debounceMs);
    this.#timer.unref();
  }

  #checkReady(): void {
    for (const kind of WATCHED_KINDS) {
      if (!this.#reflectors.get(kind.name)?.listed && !this.#absent.has(kind.name)) return;
    }
    this.#isReady = true;
    const ready = this.#ready;
    this.#ready = undefined;
    ready?.resolve();
  }

  #failed(kind: WatchedKind, err: unknown, listed: boolean): void {
    if (!this.#open) return;
    const what = `${qualifiedResource(kind)} in ${this.#options.namespace === undefined ? 'all namespaces' : `namespace ${this.#options.namespace}`}`;
    if (err instanceof KubeApiError && err.status === 404 && kind.optional && !listed) {
      if (!this.#absent.has(kind.name)) {
        this.#absent.add(kind.name);
        this.#options.logger.warn(`the cluster has no ${kind.name} resources (CRD not installed?); serving without them and checking again`, { resource: what });
        if (!this.#isReady) this.#checkReady();
      }
      return;
    }
    const error = describe(kind, what, err, listed);
    if (!this.#isReady && error.code === 'MESH_DISCOVERY_FORBIDDEN') {
      const ready = this.#ready;
      this.#ready = undefined;
      ready?.reject(error);
      return;
    }
    this.#options.logger.error('Kubernetes watch failed; retrying with backoff', { resource: what, error: error.message });
  }
}

function describe(kind: WatchedKind, what: string, err: unknown, listed: boolean): MeshError {
  const keeping = listed ? 'the last objects read keep being served' : 'nothing read yet';
  if (err instanceof KubeApiError && err.forbidden) {
    return new MeshError(
      'MESH_DISCOVERY_FORBIDDEN',
      `control plane: the API server forbids reading ${what} (RBAC): ${err.message}; grant get, list and watch on ${qualifiedResource(kind)} (the ClusterRole in docs/kubernetes.md); ${keeping}`,
      { cause: err, details: { resource: qualifiedResource(kind), status: 403 } },
    );
  }
  const reason = err instanceof KubeApiError ? `${err.status} ${err.reason}: ${err.message}` : (err as Error)?.message ?? String(err);
  return new MeshError('MESH_DISCOVERY_FAILED', `control plane: reading ${what} failed (${reason}); ${keeping}`, {
    cause: err,
    details: { resource: qualifiedResource(kind) },
  });
}

type Obj = { readonly metadata?: Record<string, unknown>; readonly [key: string]: unknown };

/** An object's Linkerd retry and timeout annotations, the only ones translation reads; undefined when it has none. */
function linkerdAnnotations(annotations: unknown): Record<string, unknown> | undefined {
  if (typeof annotations !== 'object' || annotations === null) return undefined;
  const kept = Object.entries(annotations).filter(([key]) => isLinkerdPolicyAnnotation(key));
  return kept.length === 0 ? undefined : Object.fromEntries(kept);
}

/** What is kept per kind: only the fields translation reads, so a large cluster costs little memory. */
export function keeper(kind: WatchedKind): (object: unknown) => unknown {
  const meta = (o: Obj) => ({ name: o.metadata?.name, namespace: o.metadata?.namespace });
  switch (kind.kind) {
    case 'Service':
      return (o) => {
        const spec = (o as Obj).spec as Obj | undefined;
        // An ExternalName Service is a DNS alias: its type and name are what it serves.
        const alias = spec?.type === 'ExternalName' ? { type: spec.type, externalName: spec.externalName } : {};
        const annotations = linkerdAnnotations((o as Obj).metadata?.annotations);
        return { metadata: { ...meta(o as Obj), ...(annotations === undefined ? {} : { annotations }) }, spec: { ports: spec?.ports, ...alias } };
      };
    case 'EndpointSlice':
      return (o) => {
        const s = o as Obj;
        return { metadata: { ...meta(s), labels: s.metadata?.labels }, addressType: s.addressType, ports: s.ports, endpoints: s.endpoints };
      };
    case 'Pod':
      return (o) => (o as Obj).metadata?.labels ?? {};
    default:
      // Istio and Gateway API resources: what a manifest holds (of its annotations, Linkerd's policy ones), without
      // the server's bookkeeping but for the creation time, which orders Gateway API routes of equal precedence (oldest first), and, for the kinds whose
      // status is written, the generation it describes, the version it is written against and the status itself.
      return (o) => {
        const m = (o as Obj).metadata;
        const created = m?.creationTimestamp;
        // Linkerd's retry and timeout annotations configure a route as much as its spec does.
        const annotations = linkerdAnnotations(m?.annotations);
        const metadata = { ...meta(o as Obj), ...(created === undefined ? {} : { creationTimestamp: created }), ...(annotations === undefined ? {} : { annotations }) };
        const base = { apiVersion: (o as Obj).apiVersion, kind: kind.kind, metadata, spec: (o as Obj).spec };
        if (kind.writesStatus !== true) return base;
        return { ...base, metadata: { ...metadata, generation: m?.generation, resourceVersion: m?.resourceVersion }, status: (o as Obj).status };
      };
  }
}
