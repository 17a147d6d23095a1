/**
 * Writes routes' `status.parents` (route-status.ts) to the API server, as a
 * merge patch of the `status` subresource that carries the resourceVersion
 * it was computed from: if anyone changed the route since, the server
 * answers 409, and the watch event of that change brings a rebuild that
 * computes the status again from the newer object. Nothing is retried on a
 * timer.
 *
 * Serving never depends on a status write: a failure is logged (a missing
 * RBAC permission once, with the rule to add) and the next change tries
 * again.
 */
import type { KubeApiClient } from '../../discovery/kubernetes/api-client.js';
import { KubeApiError } from '../../discovery/kubernetes/api-error.js';
import type { MeshLogger } from '../../telemetry/logger.js';
import { type RouteVerdict, routeParents, type StatusedRoute } from './route-status.js';
import { collectionPath, qualifiedResource, type WatchedKind } from './watched-kinds.js';

/** A route as the watch keeps it: what the status is computed from, and the version it is written against. */
export interface KeptRoute extends StatusedRoute {
  readonly metadata: StatusedRoute['metadata'] & { readonly name?: string; readonly resourceVersion?: string };
}

export interface RouteStatusWriterOptions {
  readonly client: () => Promise<KubeApiClient>;
  readonly logger: MeshLogger;
  /** RFC 3339 now; a parameter so tests can fix it. */
  readonly now?: () => string;
}

const WRITE_TIMEOUT_MS = 30_000;

export class RouteStatusWriter {
  readonly #options: RouteStatusWriterOptions;
  /** Writes in flight, by `Kind namespace/name`: a route is written once at a time. */
  readonly #writing = new Set<string>();
  /** The latest update asked for while a write of the same route was in flight, made when it ends. */
  readonly #next = new Map<string, () => void>();
  readonly #inFlight = new Set<Promise<void>>();
  /** Resources whose status the API server forbids writing, each logged once. */
  readonly #forbidden = new Set<string>();
  readonly #controller = new AbortController();

  constructor(options: RouteStatusWriterOptions) {
    this.#options = options;
  }

  /** Writes `route`'s status for `verdict` if ours changed. Returns the write, for tests; callers need not wait. */
  update(kind: WatchedKind, route: KeptRoute, verdict: RouteVerdict): Promise<void> | undefined {
    const { name, namespace, resourceVersion } = route.metadata;
    if (name === undefined || namespace === undefined) return undefined;
    const id = `${kind.name} ${namespace}/${name}`;
    if (this.#controller.signal.aborted) return undefined;
    if (this.#writing.has(id)) {
      this.#next.set(id, () => void this.update(kind, route, verdict));
      return undefined;
    }
    const parents = routeParents(route, verdict, (this.#options.now ?? rfc3339Now)());
    if (parents === undefined) return undefined;
    this.#writing.add(id);
    const path = `${collectionPath(kind, namespace)}/${encodeURIComponent(name)}/status`;
    const patch = { metadata: { resourceVersion }, status: { parents } };
    const write = this.#write(kind, id, path, patch).finally(() => {
      this.#inFlight.delete(write);
      this.#writing.delete(id);
      const next = this.#next.get(id);
      this.#next.delete(id);
      next?.();
    });
    this.#inFlight.add(write);
    return write;
  }

  /** Resolves when no write is in flight, queued ones included. */
  async settled(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
  }

  close(): void {
    this.#controller.abort();
  }

  async #write(kind: WatchedKind, id: string, path: string, patch: unknown): Promise<void> {
    try {
      const client = await this.#options.client();
      await client.mergePatch(path, patch, AbortSignal.any([this.#controller.signal, AbortSignal.timeout(WRITE_TIMEOUT_MS)]));
      this.#forbidden.delete(qualifiedResource(kind));
    } catch (err) {
      if (this.#controller.signal.aborted) return;
      // Someone changed the route since: its watch event recomputes the status from the newer object.
      if (err instanceof KubeApiError && (err.status === 409 || err.status === 404)) return;
      const resource = `${qualifiedResource(kind)}/status`;
      if (err instanceof KubeApiError && err.forbidden) {
        if (this.#forbidden.has(qualifiedResource(kind))) return;
        this.#forbidden.add(qualifiedResource(kind));
        this.#options.logger.warn(`cannot write route status: grant patch on ${resource} (the ClusterRole in docs/kubernetes.md); routes are served all the same`, {
          object: id,
          error: err.message,
        });
        return;
      }
      this.#options.logger.warn('writing a route status failed; the next change tries again', { object: id, error: (err as Error)?.message ?? String(err) });
    }
  }
}

function rfc3339Now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}
