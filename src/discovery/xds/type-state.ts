/**
 * What the client knows about one resource type (listeners, routes,
 * clusters or endpoints): the names it subscribes to, the last version it
 * accepted, the nonce it must echo, the resources in force, the names the
 * control plane says do not exist, and the does-not-exist timers (gRPC A27:
 * a resource not delivered within 15 s of being requested is absent).
 */

/** gRPC's (A27) does-not-exist timeout. */
export const RESOURCE_TIMEOUT_MS = 15_000;

export type ResourceKind = 'listener' | 'route' | 'cluster' | 'endpoints';

export interface Nack {
  readonly version: string;
  readonly nonce: string;
  readonly message: string;
  readonly at: Date;
}

export class TypeState<T> {
  readonly kind: ResourceKind;
  readonly typeUrl: string;
  /** LDS and CDS responses carry every subscribed resource (A27), so a missing one that was there is gone. */
  readonly fullState: boolean;
  names = new Set<string>();
  version = '';
  nonce = '';
  acceptedAt: Date | undefined;
  lastNack: Nack | undefined;
  resources = new Map<string, T>();
  readonly absent = new Set<string>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #timeoutMs: number;
  readonly #onTimeout: (kind: ResourceKind, name: string) => void;

  constructor(
    kind: ResourceKind,
    typeUrl: string,
    fullState: boolean,
    timeoutMs: number,
    onTimeout: (kind: ResourceKind, name: string) => void,
  ) {
    this.kind = kind;
    this.typeUrl = typeUrl;
    this.fullState = fullState;
    this.#timeoutMs = timeoutMs;
    this.#onTimeout = onTimeout;
  }

  /** Replace the subscription; forget what is no longer wanted. True when it changed. */
  subscribe(names: Iterable<string>): boolean {
    const next = new Set(names);
    const changed = next.size !== this.names.size || [...next].some((n) => !this.names.has(n));
    for (const old of this.names) {
      if (next.has(old)) continue;
      this.resources.delete(old);
      this.absent.delete(old);
      this.#stopTimer(old);
    }
    this.names = next;
    return changed;
  }

  /** Start does-not-exist timers for subscribed names never delivered (called when a request goes out). */
  armTimers(): void {
    for (const name of this.names) {
      if (this.resources.has(name) || this.absent.has(name) || this.#timers.has(name)) continue;
      const timer = setTimeout(() => {
        this.#timers.delete(name);
        if (!this.names.has(name) || this.resources.has(name)) return;
        this.absent.add(name);
        this.#onTimeout(this.kind, name);
      }, this.#timeoutMs);
      timer.unref();
      this.#timers.set(name, timer);
    }
  }

  /** The stream went away: timers restart on the next stream (A27). */
  stopTimers(): void {
    for (const name of [...this.#timers.keys()]) this.#stopTimer(name);
  }

  get pendingTimers(): number {
    return this.#timers.size;
  }

  /**
   * The resources after a response (not yet committed): received ones
   * replace their old values; with full state (LDS, CDS), a subscribed
   * resource received before that did not come is deleted.
   */
  candidate(received: ReadonlyMap<string, T>): { resources: Map<string, T>; absent: Set<string> } {
    const resources = this.fullState ? new Map<string, T>() : new Map(this.resources);
    const absent = this.fullState ? new Set<string>() : new Set(this.absent);
    for (const [name, value] of received) {
      if (!this.names.has(name)) continue;
      resources.set(name, value);
      absent.delete(name);
    }
    // Only a resource received before is deleted by its absence (A27); a new one may simply not be in a
    // response that answered an older subscription, and its does-not-exist timer decides.
    if (this.fullState) for (const name of this.resources.keys()) if (this.names.has(name) && !resources.has(name)) absent.add(name);
    if (this.fullState) for (const name of this.absent) if (!resources.has(name)) absent.add(name);
    return { resources, absent };
  }

  commit(next: { resources: Map<string, T>; absent: Set<string> }, version: string): void {
    this.resources = next.resources;
    this.absent.clear();
    for (const n of next.absent) this.absent.add(n);
    for (const n of [...next.resources.keys(), ...next.absent]) this.#stopTimer(n);
    this.version = version;
    this.acceptedAt = new Date();
  }

  #stopTimer(name: string): void {
    const t = this.#timers.get(name);
    if (t === undefined) return;
    clearTimeout(t);
    this.#timers.delete(name);
  }
}
