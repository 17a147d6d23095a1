/**
 * The `xds:` discovery provider's side of the client: each destination the
 * translator made (`xds:listener/<name>`, `xds:cluster/<name>`) watches
 * here, and hears endpoints, "pending" (nothing yet), or a typed error when
 * the control plane says the resource does not exist. Answers go out
 * asynchronously and only when they change, and never after close.
 */

import { MeshError } from '../../errors.js';
import { type Endpoint, makeEndpoint } from '../endpoint.js';
import type { DiscoveryProvider, DiscoveryTarget, EndpointListener, EndpointWatch } from '../source.js';

/** What a watched name resolves to now. */
export type WatchAnswer = { readonly endpoints: readonly Endpoint[] } | { readonly error: string } | undefined;

export type Resolve = (path: string) => WatchAnswer;

interface Watcher {
  readonly path: string;
  readonly service: string;
  readonly listener: EndpointListener;
  last: unknown;
  open: boolean;
}

const NO_ENDPOINTS: readonly Endpoint[] = Object.freeze([]);

export class XdsWatches {
  readonly #watchers = new Set<Watcher>();
  readonly #resolve: Resolve;
  #closed = false;

  constructor(resolve: Resolve) {
    this.#resolve = resolve;
  }

  get size(): number {
    return this.#watchers.size;
  }

  watch(path: string, service: string, listener: EndpointListener): EndpointWatch {
    const w: Watcher = { path, service, listener, last: undefined, open: true };
    this.#watchers.add(w);
    queueMicrotask(() => this.#deliver(w));
    return {
      close: () => {
        w.open = false;
        this.#watchers.delete(w);
      },
    };
  }

  /** Re-evaluate every watcher (after an update); each hears only a change. */
  refresh(): void {
    const list = [...this.#watchers];
    queueMicrotask(() => {
      for (const w of list) this.#deliver(w);
    });
  }

  #deliver(w: Watcher): void {
    if (!w.open || this.#closed) return;
    const answer = this.#resolve(w.path);
    if (answer === undefined) return;
    const key = 'error' in answer ? answer.error : answer.endpoints;
    if (key === w.last) return;
    w.last = key;
    if ('error' in answer) {
      // "Does not exist" is the control plane's answer, not a failure to reach it: the endpoints are gone.
      w.listener.next(NO_ENDPOINTS);
      w.listener.error(new MeshError('MESH_DISCOVERY_FAILED', answer.error, { details: { service: w.service, xds: w.path } }));
    } else w.listener.next(answer.endpoints);
  }

  close(): void {
    this.#closed = true;
    this.#watchers.clear();
  }
}

export function toEndpoints(list: readonly Parameters<typeof makeEndpoint>[0][]): readonly Endpoint[] {
  return list.length === 0 ? NO_ENDPOINTS : Object.freeze(list.map(makeEndpoint));
}

/** The `xds:` scheme, served by one client's watches. */
export function xdsProvider(watches: () => XdsWatches | undefined): DiscoveryProvider {
  return {
    scheme: 'xds',
    validate(target: DiscoveryTarget) {
      if (!/^(listener|cluster)\/.+/.test(target.path)) {
        return `"${target.uri}" is not an xDS resource; the xDS client writes xds:listener/<name> or xds:cluster/<name>`;
      }
      return watches() === undefined ? 'no xDS client is running (set GRPC_XDS_BOOTSTRAP or MESH_XDS_SERVER)' : undefined;
    },
    watch(target, listener) {
      const w = watches();
      if (w === undefined) {
        let open = true;
        queueMicrotask(() => {
          if (open) listener.error(new MeshError('MESH_DISCOVERY_FAILED', `no xDS client is running for ${target.uri}`));
        });
        return {
          close() {
            open = false;
          },
        };
      }
      return w.watch(target.path, target.service, listener);
    },
  };
}
