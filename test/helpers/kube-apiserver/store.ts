/**
 * The fake API server's object store: one resourceVersion counter for all
 * objects (as etcd's revision), a change history that watches replay from a
 * resourceVersion, and compaction that makes older resourceVersions answer
 * 410 Gone. Writes here are what reaches etcd: which fields a request may
 * change (the status subresource's split) is decided before, in
 * subresources.ts; tests may call the store directly to seed objects.
 */
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { ResourceType } from './resources.js';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    creationTimestamp?: string;
    generation?: number;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  readonly rv: number;
  readonly type: EventType;
  /** The resource qualified by its group (`services`, `httproutes.gateway.networking.k8s.io`): watches follow one. */
  readonly resource: string;
  readonly object: KubeObject;
}

export class StoreError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export class ObjectStore {
  #rv = 1000;
  #compactedRv = 0;
  readonly #objects = new Map<string, KubeObject>();
  #history: StoreEvent[] = [];
  readonly #listeners = new Set<(e: StoreEvent) => void>();

  get resourceVersion(): number {
    return this.#rv;
  }

  /** The oldest resourceVersion a watch may still start from. */
  get compactedRevision(): number {
    return this.#compactedRv;
  }

  /** Forget history: watches from a resourceVersion before now get 410 Gone. */
  compact(): void {
    this.#compactedRv = this.#rv;
    this.#history = [];
  }

  get(type: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const obj = this.#objects.get(keyOf(type, namespace, name));
    if (obj === undefined) throw notFound(type, name);
    return obj;
  }

  list(type: ResourceType, namespace: string | undefined): KubeObject[] {
    const prefix = `${type.group}/${type.resource}/${namespace === undefined ? '' : `${namespace}/`}`;
    return [...this.#objects.entries()].filter(([k]) => k.startsWith(prefix)).map(([, v]) => v);
  }

  create(type: ResourceType, namespace: string | undefined, obj: KubeObject, dryRun = false): KubeObject {
    const name = obj.metadata?.name;
    if (!name) throw new StoreError(422, 'Invalid', `${type.kind} is invalid: metadata.name: Required value: name is required`);
    const key = keyOf(type, namespace, name);
    if (this.#objects.has(key)) {
      throw new StoreError(409, 'AlreadyExists', `${qualified(type)} "${name}" already exists`);
    }
    const stored = this.#stamp(type, namespace, obj, {
      uid: randomUUID(),
      creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      generation: 1,
    }, dryRun);
    if (!dryRun) this.#commit(key, 'ADDED', type, stored);
    return stored;
  }

  replace(type: ResourceType, namespace: string | undefined, name: string, obj: KubeObject, dryRun = false): KubeObject {
    const key = keyOf(type, namespace, name);
    const current = this.#objects.get(key);
    if (current === undefined) throw notFound(type, name);
    const wanted = obj.metadata?.resourceVersion;
    if (wanted !== undefined && wanted !== '' && wanted !== current.metadata.resourceVersion) {
      throw new StoreError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${qualified(type)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    const stored = this.#stamp(type, namespace, obj, {
      uid: current.metadata.uid,
      creationTimestamp: current.metadata.creationTimestamp,
      generation: (current.metadata.generation ?? 1) + (specChanged(type, current, obj) ? 1 : 0),
    }, dryRun);
    // A write that changes nothing is not written (etcd sees the same bytes): same resourceVersion, no watch event.
    if (isDeepStrictEqual({ ...stored, metadata: { ...stored.metadata, resourceVersion: current.metadata.resourceVersion } }, current)) return current;
    if (!dryRun) this.#commit(key, 'MODIFIED', type, stored);
    return stored;
  }

  delete(type: ResourceType, namespace: string | undefined, name: string, dryRun = false): KubeObject {
    const key = keyOf(type, namespace, name);
    const current = this.#objects.get(key);
    if (current === undefined) throw notFound(type, name);
    if (dryRun) return current;
    const gone = { ...current, metadata: { ...current.metadata, resourceVersion: String(++this.#rv) } };
    this.#objects.delete(key);
    this.#record({ rv: this.#rv, type: 'DELETED', resource: qualified(type), object: gone });
    return gone;
  }

  /** Events after `rv` for one resource (qualified by its group, `httproutes.policy.linkerd.io`), or 'gone' when compaction dropped some of them. */
  since(rv: number, resource: string): StoreEvent[] | 'gone' {
    if (rv < this.#compactedRv) return 'gone';
    return this.#history.filter((e) => e.rv > rv && e.resource === resource);
  }

  subscribe(listener: (e: StoreEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #stamp(
    type: ResourceType,
    namespace: string | undefined,
    obj: KubeObject,
    kept: { uid: string | undefined; creationTimestamp: string | undefined; generation: number },
    dryRun: boolean,
  ): KubeObject {
    return {
      ...obj,
      apiVersion: type.group === '' ? type.version : `${type.group}/${type.version}`,
      kind: type.kind,
      metadata: {
        ...obj.metadata,
        ...(namespace !== undefined ? { namespace } : {}),
        uid: kept.uid,
        creationTimestamp: kept.creationTimestamp,
        generation: kept.generation,
        resourceVersion: String(dryRun ? this.#rv : this.#rv + 1),
      },
    };
  }

  #commit(key: string, type: EventType, rt: ResourceType, obj: KubeObject): void {
    this.#rv++;
    this.#objects.set(key, obj);
    this.#record({ rv: this.#rv, type, resource: qualified(rt), object: obj });
  }

  #record(e: StoreEvent): void {
    this.#history.push(e);
    for (const l of this.#listeners) l(e);
  }
}

/**
 * Whether a write changes the object's desired state, which is what
 * `metadata.generation` counts: not metadata, and not status where the type
 * has a status subresource (a controller's report is not a new spec).
 */
function specChanged(type: ResourceType, current: KubeObject, next: KubeObject): boolean {
  const ignored = new Set(['apiVersion', 'kind', 'metadata', ...(type.statusSubresource ? ['status'] : [])]);
  const desired = (o: KubeObject) => Object.fromEntries(Object.entries(o).filter(([k]) => !ignored.has(k)));
  return !isDeepStrictEqual(desired(current), desired(next));
}

function keyOf(type: ResourceType, namespace: string | undefined, name: string): string {
  return `${type.group}/${type.resource}/${type.namespaced ? `${namespace ?? 'default'}/` : ''}${name}`;
}

function qualified(type: ResourceType): string {
  return type.group === '' ? type.resource : `${type.resource}.${type.group}`;
}

function notFound(type: ResourceType, name: string): StoreError {
  return new StoreError(404, 'NotFound', `${qualified(type)} "${name}" not found`);
}

export { qualified };
