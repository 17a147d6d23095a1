/**
 * One client's subscription to one resource type on one stream, and what
 * it was last sent and acknowledged: the state-of-the-world bookkeeping of
 * the xDS protocol.
 *
 * - LDS and CDS are wildcard when the first request names nothing (or
 *   names "*"): the client gets every resource of the type. RDS and EDS are
 *   never wildcard; an empty list means nothing.
 * - Resources that do not exist are simply left out of the response.
 */
import { TYPE_URL } from '../discovery/xds/envoy-protos.js';
import type { ServedType, Snapshot, SnapshotResource } from './snapshot.js';

const WILDCARD_TYPES: ReadonlySet<string> = new Set([TYPE_URL.listener, TYPE_URL.cluster]);

export interface NackRecord {
  /** The version the client refused. */
  readonly version: string;
  readonly message: string;
  readonly at: string;
  /** The resources in the refused response: clients often name them only by index. */
  readonly resources: readonly string[];
}

export interface SubscriptionStatus {
  readonly typeUrl: string;
  readonly wildcard: boolean;
  readonly names: readonly string[];
  readonly sentVersion: string | undefined;
  readonly sentNonce: string | undefined;
  readonly ackedVersion: string | undefined;
  readonly lastNack: NackRecord | undefined;
  /** The names the client last received. */
  readonly sent: readonly string[];
}

export class Subscription {
  readonly typeUrl: ServedType;
  wildcard = false;
  names: ReadonlySet<string> = new Set();
  sentVersion: string | undefined;
  sentNonce: string | undefined;
  ackedVersion: string | undefined;
  lastNack: NackRecord | undefined;
  #sentKey: string | undefined;
  #sentNames: readonly string[] = [];

  constructor(typeUrl: ServedType) {
    this.typeUrl = typeUrl;
  }

  /** Apply the names of a request; true when the subscription changed. */
  update(requested: readonly string[], first: boolean): boolean {
    const wildcard =
      requested.includes('*') || (requested.length === 0 && WILDCARD_TYPES.has(this.typeUrl) && (first || this.wildcard));
    const names = new Set(requested.filter((n) => n !== '*'));
    const changed = first || wildcard !== this.wildcard || names.size !== this.names.size || [...names].some((n) => !this.names.has(n));
    this.wildcard = wildcard;
    this.names = names;
    return changed;
  }

  /**
   * The resources to send from `snapshot`, or undefined when the client
   * already has exactly these (unless `force`: a changed subscription is
   * always answered, so a client learns at once that a name does not exist).
   */
  select(
    snapshot: Snapshot,
    force: boolean,
    built?: (name: string) => SnapshotResource | undefined,
  ): { version: string; resources: SnapshotResource[] } | undefined {
    const all = snapshot.resources.get(this.typeUrl) ?? new Map<string, SnapshotResource>();
    // `built`: resources made for this client on request (inbound listeners, source-conditioned routes, ordered
    // endpoints), named explicitly, never by wildcard; they take the place of the shared form where there is one.
    const named = (n: string) => built?.(n) ?? all.get(n);
    const resources = this.wildcard
      ? [...all.values(), ...[...this.names].filter((n) => !all.has(n)).flatMap((n) => named(n) ?? [])]
      : [...this.names].flatMap((n) => {
          const r = named(n);
          return r === undefined ? [] : [r];
        });
    const key = resources.map((r) => `${r.name}\u0000${r.hash}`).join('\u0001');
    if (!force && key === this.#sentKey) return undefined;
    this.#sentKey = key;
    this.#sentNames = resources.map((r) => r.name);
    return { version: snapshot.typeVersions.get(this.typeUrl) ?? snapshot.version, resources };
  }

  get sentNames(): readonly string[] {
    return this.#sentNames;
  }

  status(): SubscriptionStatus {
    return {
      typeUrl: this.typeUrl,
      wildcard: this.wildcard,
      names: [...this.names],
      sentVersion: this.sentVersion,
      sentNonce: this.sentNonce,
      ackedVersion: this.ackedVersion,
      lastNack: this.lastNack,
      sent: this.#sentNames,
    };
  }
}
