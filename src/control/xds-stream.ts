/**
 * One client's xDS stream (ADS, or one of the per-type services): reads
 * DiscoveryRequests, answers with DiscoveryResponses from the current
 * snapshot, and records ACKs and NACKs.
 *
 * A request whose `response_nonce` is not the last one sent for its type is
 * stale (the client had not yet seen our latest response) and is ignored, as
 * the xDS protocol asks; the client's next request carries the new nonce.
 */
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { TYPE_URL } from '../discovery/xds/envoy-protos.js';
import type { MeshLogger } from '../telemetry/logger.js';
import { workloadOf } from './inbound-workload.js';
import { CLUSTER_TYPES, ClusterBridge, ROUTING_TYPES, type SubscriptionView } from './make-before-break.js';
import { SERVED_TYPES, type ServedType, type Snapshot } from './snapshot.js';
import { Subscription, type SubscriptionStatus } from './subscription.js';

export interface DiscoveryRequest {
  version_info: string;
  node?: {
    id?: string;
    cluster?: string;
    metadata?: unknown;
    locality?: { region?: string; zone?: string } | null;
    user_agent_name?: string;
    user_agent_version?: string;
  } | null;
  resource_names: string[];
  type_url: string;
  response_nonce: string;
  error_detail?: { code?: number; message?: string } | null;
}

export interface DiscoveryResponse {
  version_info: string;
  resources: { type_url: string; value: Buffer }[];
  type_url: string;
  nonce: string;
  control_plane: { identifier: string };
}

export interface ClientStatus {
  readonly stream: number;
  readonly nodeId: string;
  readonly cluster: string;
  readonly userAgent: string;
  /** Its `node.locality` region and zone ('' when not given): its endpoints are ordered by them (local-endpoints.ts). */
  readonly locality: { readonly region: string; readonly zone: string };
  /** Its node metadata `LABELS`: for source-conditioned routes, inbound policy selectors and `failoverPriority`. */
  readonly labels: Readonly<Record<string, string>>;
  readonly peer: string;
  readonly service: string;
  readonly connectedAt: string;
  readonly subscriptions: readonly SubscriptionStatus[];
  readonly ignoredTypes: readonly string[];
}

/** The longest a client keeps clusters the config removed while it has not moved off them. */
const BRIDGE_LIMIT_MS = 15_000;

export interface StreamHost {
  current(): Snapshot;
  readonly identifier: string;
  readonly logger: MeshLogger;
  /** Called once the client NACKs, after the record is updated. */
  onNack?(status: ClientStatus, typeUrl: string): void;
}

export class XdsStream {
  readonly id: number;
  readonly #call: ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>;
  readonly #host: StreamHost;
  readonly #fixedType: ServedType | undefined;
  readonly #service: string;
  readonly #subs = new Map<ServedType, Subscription>();
  readonly #ignored = new Set<string>();
  readonly #connectedAt = new Date().toISOString();
  #node: DiscoveryRequest['node'] = null;
  #nonce = 0;
  #closed = false;
  readonly #bridge = new ClusterBridge();
  #bridgeTimer: NodeJS.Timeout | undefined;

  constructor(
    id: number,
    call: ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>,
    host: StreamHost,
    service: string,
    fixedType?: ServedType,
  ) {
    this.id = id;
    this.#call = call;
    this.#host = host;
    this.#service = service;
    this.#fixedType = fixedType;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Handle one request from the client. */
  receive(req: DiscoveryRequest): void {
    if (this.#closed) return;
    if (req.node && (this.#node === null || this.#node === undefined)) this.#node = req.node;
    const typeUrl = (this.#fixedType ?? req.type_url) as ServedType;
    if (!(SERVED_TYPES as readonly string[]).includes(typeUrl)) {
      if (!this.#ignored.has(typeUrl)) {
        this.#ignored.add(typeUrl);
        this.#host.logger.warn('xDS client asked for a resource type this control plane does not serve', {
          node: this.nodeId,
          typeUrl,
        });
      }
      return;
    }
    let sub = this.#subs.get(typeUrl);
    const first = sub === undefined;
    if (sub === undefined) {
      sub = new Subscription(typeUrl);
      this.#subs.set(typeUrl, sub);
    } else if (req.response_nonce !== '' && req.response_nonce !== sub.sentNonce) {
      return;
    }
    if (!first && req.response_nonce !== '') this.#recordAnswer(sub, req);
    if (sub.update(req.resource_names ?? [], first)) this.#send(sub, true);
    this.#settleBridge();
  }

  /**
   * A new snapshot: send every subscribed type whose resources changed,
   * clusters and endpoints before the routes that use them, and removed
   * clusters kept until the client has moved off them (make-before-break.ts)
   * when `previous` is given.
   */
  push(previous?: Snapshot): void {
    if (this.#closed) return;
    const next = this.#host.current();
    const bridged = this.#bridge.begin(previous, next);
    for (const type of CLUSTER_TYPES) this.#sendType(type, this.#bridge.snapshotFor(type, next));
    for (const type of ROUTING_TYPES) this.#sendType(type, next);
    clearTimeout(this.#bridgeTimer);
    // A client that never moves off (it NACKs the routes, say) must not keep removed clusters forever.
    if (bridged) this.#bridgeTimer = setTimeout(() => this.#endBridge(), BRIDGE_LIMIT_MS).unref();
    this.#settleBridge();
  }

  #sendType(type: ServedType, snapshot: Snapshot): void {
    const sub = this.#subs.get(type);
    if (sub !== undefined) this.#send(sub, false, snapshot);
  }

  #settleBridge(): void {
    if (!this.#bridge.active) return;
    const views = new Map<ServedType, SubscriptionView>();
    for (const [type, sub] of this.#subs) {
      views.set(type, { wildcard: sub.wildcard, names: sub.names, upToDate: sub.sentVersion === undefined || sub.ackedVersion === sub.sentVersion });
    }
    if (this.#bridge.settled(views)) this.#endBridge();
  }

  #endBridge(): void {
    clearTimeout(this.#bridgeTimer);
    this.#bridgeTimer = undefined;
    if (this.#closed || !this.#bridge.active) return;
    this.#bridge.end();
    const current = this.#host.current();
    for (const type of CLUSTER_TYPES) this.#sendType(type, current);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#bridgeTimer);
    this.#call.end();
  }

  get nodeId(): string {
    return this.#node?.id || '(no node id)';
  }

  status(): ClientStatus {
    const agent = [this.#node?.user_agent_name, this.#node?.user_agent_version].filter(Boolean).join(' ');
    return {
      stream: this.id,
      nodeId: this.nodeId,
      cluster: this.#node?.cluster ?? '',
      userAgent: agent,
      locality: { region: this.#node?.locality?.region ?? '', zone: this.#node?.locality?.zone ?? '' },
      labels: workloadOf(this.#node).labels,
      peer: this.#call.getPeer(),
      service: this.#service,
      connectedAt: this.#connectedAt,
      subscriptions: [...this.#subs.values()].map((s) => s.status()),
      ignoredTypes: [...this.#ignored],
    };
  }

  #recordAnswer(sub: Subscription, req: DiscoveryRequest): void {
    const detail = req.error_detail;
    if (detail !== null && detail !== undefined && (detail.message || detail.code)) {
      sub.lastNack = {
        version: sub.sentVersion ?? '',
        message: detail.message ?? `code ${detail.code}`,
        at: new Date().toISOString(),
        resources: sub.sentNames,
      };
      this.#host.logger.warn('xDS client rejected (NACKed) a response', {
        node: this.nodeId,
        typeUrl: sub.typeUrl,
        version: sub.sentVersion,
        keptVersion: req.version_info,
        error: detail.message,
        resources: sub.sentNames,
      });
      this.#host.onNack?.(this.status(), sub.typeUrl);
      return;
    }
    sub.ackedVersion = req.version_info;
  }

  #send(sub: Subscription, force: boolean, snapshot: Snapshot = this.#bridge.snapshotFor(sub.typeUrl, this.#host.current())): void {
    const built =
      sub.typeUrl === TYPE_URL.listener
        ? (name: string) => snapshot.inbound.resource(name, this.#node, this.#host.logger)
        : sub.typeUrl === TYPE_URL.routeConfiguration
          ? (name: string) => snapshot.sourceRoutes.resource(name, this.#node)
          : sub.typeUrl === TYPE_URL.clusterLoadAssignment
            ? (name: string) => snapshot.localEndpoints.resource(name, this.#node)
            : undefined;
    const selected = sub.select(snapshot, force, built);
    if (selected === undefined) return;
    this.#nonce += 1;
    const nonce = String(this.#nonce);
    sub.sentVersion = selected.version;
    sub.sentNonce = nonce;
    this.#call.write({
      version_info: selected.version,
      resources: selected.resources.map((r) => ({ type_url: r.any.type_url, value: r.any.value })),
      type_url: sub.typeUrl,
      nonce,
      control_plane: { identifier: this.#host.identifier },
    });
  }
}
