/**
 * The mesh as an undici Dispatcher. Every outbound HTTP path (mesh.request,
 * mesh.fetch, and any fetch once `setGlobalDispatcher(mesh.dispatcher)` is
 * called) comes through `dispatch`: a logical origin goes to its destination,
 * anything else passes through untouched to an ordinary Agent.
 */
import { type Agent, Dispatcher } from 'undici';
import { MeshError } from '../errors.js';
import type { Directory } from './directory.js';
import { failDispatch } from './fail-dispatch.js';

export interface DispatcherLifecycle {
  close(): Promise<void>;
  destroy(err?: Error): Promise<void>;
}

export class MeshDispatcher extends Dispatcher {
  readonly #directory: Directory;
  readonly #passthrough: Agent;
  readonly #lifecycle: DispatcherLifecycle;
  #closed = false;

  constructor(directory: Directory, passthrough: Agent, lifecycle: DispatcherLifecycle) {
    super();
    this.#directory = directory;
    this.#passthrough = passthrough;
    this.#lifecycle = lifecycle;
  }

  override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    if (this.#closed) {
      failDispatch(handler, new MeshError('MESH_CLOSED', 'the mesh is closed; it accepts no new requests'));
      return true;
    }
    const origin = opts.origin;
    const key = typeof origin === 'string' ? origin : origin === undefined ? '' : origin.origin;
    const destination = this.#directory.resolve(key);
    if (destination === null) return this.#passthrough.dispatch(opts, handler);
    return destination.dispatch(key, opts, handler);
  }

  /** Mark closed so new dispatches fail fast; the mesh does the draining. */
  markClosed(): void {
    this.#closed = true;
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    const done = this.#lifecycle.close();
    if (callback) {
      done.then(callback, callback);
      return;
    }
    return done;
  }

  override destroy(): Promise<void>;
  override destroy(err: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(errOrCallback?: Error | null | (() => void), callback?: () => void): Promise<void> | void {
    const cb = typeof errOrCallback === 'function' ? errOrCallback : callback;
    const err = typeof errOrCallback === 'function' ? undefined : (errOrCallback ?? undefined);
    const done = this.#lifecycle.destroy(err);
    if (cb) {
      done.then(cb, cb);
      return;
    }
    return done;
  }
}
