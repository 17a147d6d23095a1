/**
 * The xDS client: one ADS stream (state of the world, v3) to the control
 * plane, subscribed to the configured listeners and to whatever they lead
 * to (RDS names, the clusters their routes name, EDS for EDS clusters).
 *
 * Each response is decoded and validated whole. A good one is committed,
 * translated into the `xds` config layer (which validates the merged config
 * again) and ACKed; a bad one is NACKed with every problem, naming resource
 * and field, and changes nothing: the mesh keeps serving on what it had,
 * also while the control plane is away.
 *
 * Like Envoy's cluster warming, a listener keeps its previous routes until
 * every cluster its new routes name has been answered for (present with
 * endpoints, or absent), so a canary shift never sends a request to a
 * cluster the client has not heard about yet.
 */
import { ConfigError } from '../../config/config-error.js';
import type { RegisteredPolicies } from '../../config/lb-policy-check.js';
import type { BackoffConfig } from '../../resilience/backoff.js';
import type { MeshLogger } from '../../telemetry/logger.js';
import { AdsTransport, type DiscoveryResponse } from './ads-transport.js';
import type { XdsBootstrap } from './bootstrap.js';
import { bootstrapCertificates } from './bootstrap-certificates.js';
import type { XdsCluster } from './decode-cluster.js';
import type { XdsEndpoints } from './decode-endpoints.js';
import type { XdsListener } from './decode-listener.js';
import { decodeResources, decoderFor } from './decode-response.js';
import type { XdsRouteConfig, XdsVirtualHost } from './decode-route.js';
import { TYPE_URL } from './envoy-protos.js';
import { inboundLayer, withInboundListener } from './inbound-layer.js';
import type { ListenerPlace } from './names.js';
import { type NodePlace, nodeMessage } from './node-message.js';
import { resolveWatch } from './resolve-watch.js';
import { translate } from './translate.js';
import { RESOURCE_TIMEOUT_MS, type ResourceKind, TypeState } from './type-state.js';
import { type ClientState, chooseVirtualHosts, isWarm, resourcesOf, subscriptions } from './warming.js';
import type { XdsMetrics } from './xds-metrics.js';
import { typeStatus, type XdsStatus } from './xds-status.js';
import { XdsWatches } from './xds-watches.js';

export interface XdsClientOptions {
  readonly bootstrap: XdsBootstrap;
  /** Listener names to subscribe to, e.g. `reviews.default.svc.cluster.local:9080`. */
  readonly listeners: readonly string[];
  /** This process's inbound listener (gRFC A36 name), whose policies and mTLS mode the layer carries. */
  readonly inbound?: string;
  /** Apply the translated `xds` layer; throw (a ConfigError) to reject it. */
  readonly apply: (config: XdsLayer) => void;
  /** The mesh's load-balancer policies, which choose among a cluster's candidates (default: the built-ins only). */
  readonly policies?: RegisteredPolicies;
  /** Names this client in config errors, as the `apply` callback's source does (default `xds <server>`). */
  readonly source?: string;
  /**
   * Told of an update rejected before `apply` could see it (a cluster listing
   * no load-balancing policy the mesh has), so the mesh records it as it
   * records the rejections `apply` throws.
   */
  readonly rejected?: (error: ConfigError) => void;
  readonly logger: MeshLogger;
  /** This process's locality and labels, read each time a stream first sends its node (node-message.ts). */
  readonly place?: () => NodePlace;
  readonly resourceTimeoutMs?: number;
  readonly backoff?: BackoffConfig;
}

const INVALID_ARGUMENT = 3;

/** The `xds` config layer: the services it translated, and the certificate source its bootstrap names. */
export interface XdsLayer {
  readonly mesh?: Record<string, unknown>;
  readonly services: Record<string, Record<string, unknown>>;
  /** From the inbound listener, once it arrived: replace the lower layers' lists. */
  readonly authorizationPolicies?: readonly unknown[];
  readonly requestAuthentications?: readonly unknown[];
}
type AnyState = TypeState<unknown>;

export class XdsClient {
  readonly watches: XdsWatches;
  readonly #opts: XdsClientOptions;
  readonly #transport: AdsTransport;
  readonly #lds: TypeState<XdsListener>;
  readonly #rds: TypeState<XdsRouteConfig>;
  readonly #cds: TypeState<XdsCluster>;
  readonly #eds: TypeState<XdsEndpoints>;
  readonly #order: AnyState[];
  #metrics: XdsMetrics | undefined;
  /** The virtual host each listener's service was last built from (kept while new clusters warm). */
  #applied = new Map<string, XdsVirtualHost>();
  #appliedJson = '';
  #state: XdsStatus['state'] = 'connecting';
  #lastError: string | null = null;
  #sentNode = false;
  #closed = false;
  /** `mesh.security.certificates` from the bootstrap's certificate provider, when it has one. */
  readonly #mesh: Record<string, unknown> | undefined;

  constructor(opts: XdsClientOptions) {
    this.#opts = opts;
    const timeout = opts.resourceTimeoutMs ?? RESOURCE_TIMEOUT_MS;
    const onTimeout = (kind: ResourceKind, name: string) => this.#onAbsent(kind, name);
    this.#lds = new TypeState('listener', TYPE_URL.listener, true, timeout, onTimeout);
    this.#rds = new TypeState('route', TYPE_URL.routeConfiguration, false, timeout, onTimeout);
    this.#cds = new TypeState('cluster', TYPE_URL.cluster, true, timeout, onTimeout);
    this.#eds = new TypeState('endpoints', TYPE_URL.clusterLoadAssignment, false, timeout, onTimeout);
    this.#order = [this.#lds, this.#rds, this.#cds, this.#eds] as AnyState[];
    this.#lds.subscribe(opts.inbound === undefined ? opts.listeners : [...opts.listeners, opts.inbound]);
    const certs = bootstrapCertificates(opts.bootstrap);
    if (typeof certs === 'string') opts.logger.warn('xDS bootstrap certificate provider not used', { reason: certs });
    this.#mesh = typeof certs === 'object' ? { security: { certificates: certs } } : undefined;
    this.watches = new XdsWatches((path) =>
      resolveWatch(path, {
        lds: this.#lds,
        rds: this.#rds,
        cds: this.#cds,
        eds: this.#eds,
        served: this.#applied,
        warm: (c) => isWarm(this.#view(), c),
      }),
    );
    this.#transport = new AdsTransport(
      opts.bootstrap,
      {
        onStreamStart: () => this.#onStreamStart(),
        onResponse: (r) => this.#onResponse(r),
        onStreamEnd: (reason, delayMs) => this.#onStreamEnd(reason, delayMs),
      },
      opts.backoff,
    );
  }

  set metrics(m: XdsMetrics | undefined) {
    this.#metrics = m;
  }

  /** The layer before any response: every listener's service, waiting for its routes. */
  initialConfig(): XdsLayer {
    return this.#layer(translate(resourcesOf(this.#view()), new Map(), () => {}, this.#opts.policies, this.#listenerPlace()).config.services);
  }

  /** Where a bare listener host is, for the names a second listener of one Service claims (names.ts). */
  #listenerPlace(): ListenerPlace | undefined {
    const place = this.#opts.place?.();
    if (place?.namespace === undefined || place.clusterDomain === undefined) return undefined;
    return { namespace: place.namespace, clusterDomain: place.clusterDomain };
  }

  #layer(services: Record<string, Record<string, unknown>>): XdsLayer {
    const inbound = this.#opts.inbound === undefined ? undefined : this.#lds.resources.get(this.#opts.inbound)?.inbound;
    if (inbound === undefined) return this.#mesh === undefined ? { services } : { mesh: this.#mesh, services };
    return { ...inboundLayer(this.#mesh, inbound), services };
  }

  start(): void {
    this.#transport.start();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#state = 'closed';
    for (const s of this.#order) s.stopTimers();
    this.#transport.close();
    this.watches.close();
  }

  /** For leak tests: listeners on the live stream, and timers pending. */
  get internals(): { streamListeners: number; pendingTimers: number; watchers: number } {
    return {
      streamListeners: this.#transport.streamListenerCount,
      pendingTimers: this.#order.reduce((n, s) => n + s.pendingTimers, 0),
      watchers: this.watches.size,
    };
  }

  status(): XdsStatus {
    return {
      server: this.#opts.bootstrap.serverUri,
      nodeId: this.#opts.bootstrap.node.id,
      state: this.#state,
      lastError: this.#lastError,
      streamsOpened: this.#transport.streamsOpened,
      types: { listener: typeStatus(this.#lds), route: typeStatus(this.#rds), cluster: typeStatus(this.#cds), endpoints: typeStatus(this.#eds) },
    };
  }

  #view(): ClientState {
    return { listenerNames: this.#opts.listeners, lds: this.#lds, rds: this.#rds, cds: this.#cds, eds: this.#eds };
  }

  // --- stream -------------------------------------------------------------

  #onStreamStart(): void {
    this.#sentNode = false;
    // Resubscribe to everything, with the versions already accepted (no nonce: it was the old stream's).
    for (const s of this.#order) {
      s.nonce = '';
      if (s.names.size > 0) this.#send(s);
    }
  }

  #onStreamEnd(reason: string, delayMs: number): void {
    const wasUp = this.#state !== 'reconnecting';
    this.#state = 'reconnecting';
    this.#lastError = reason;
    for (const s of this.#order) s.stopTimers();
    // One warning when the control plane goes away; the retries after it are routine.
    this.#opts.logger[wasUp ? 'warn' : 'info']('xDS stream ended; serving on the last good config and reconnecting', {
      server: this.#opts.bootstrap.serverUri,
      reason,
      retryInMs: delayMs,
    });
  }

  #send(s: AnyState, errorDetail?: string): void {
    this.#transport.send({
      version_info: s.version,
      ...(this.#sentNode ? {} : { node: nodeMessage(this.#opts.bootstrap, this.#opts.place?.()) }),
      resource_names: [...s.names],
      type_url: s.typeUrl,
      response_nonce: s.nonce,
      ...(errorDetail !== undefined ? { error_detail: { code: INVALID_ARGUMENT, message: errorDetail } } : {}),
    });
    this.#sentNode = true;
    if (errorDetail === undefined) s.armTimers();
  }

  // --- responses ----------------------------------------------------------

  #onResponse(res: DiscoveryResponse): void {
    if (this.#closed) return;
    this.#state = 'connected';
    this.#lastError = null;
    const state = this.#order.find((s) => s.typeUrl === res.type_url);
    if (state === undefined) {
      // Not a type we asked for: NACK it so the control plane's operator sees why.
      this.#transport.send({
        version_info: '',
        resource_names: [],
        type_url: res.type_url,
        response_nonce: res.nonce,
        error_detail: { code: INVALID_ARGUMENT, message: `resource type ${res.type_url} is not one the mesh subscribes to` },
      });
      return;
    }
    state.nonce = res.nonce;
    const warnings: string[] = [];
    const warn = (path: string, message: string) => warnings.push(`${path}: ${message}`);
    const decoded = decodeResources(res.type_url, res.resources, decoderFor(state.kind), warn);
    if (decoded.errors.length > 0) {
      this.#nack(state, res, decoded.errors.join('; '));
      return;
    }
    const previous = { resources: state.resources, absent: new Set(state.absent), version: state.version, at: state.acceptedAt };
    state.commit(state.candidate(decoded.received), res.version_info);
    const problem = this.#reconcile(warn);
    if (problem !== undefined) {
      // Roll back: the response is rejected as a whole.
      state.commit({ resources: previous.resources, absent: previous.absent }, previous.version);
      state.acceptedAt = previous.at;
      this.#nack(state, res, problem);
      return;
    }
    for (const w of warnings) this.#opts.logger.warn('xDS resource field ignored', { type: state.kind, warning: w });
    this.#send(state);
    this.#metrics?.update(state.kind, true);
    this.#followDependencies();
    this.watches.refresh();
  }

  #nack(state: AnyState, res: DiscoveryResponse, message: string): void {
    state.lastNack = { version: res.version_info, nonce: res.nonce, message, at: new Date() };
    this.#send(state, message);
    this.#metrics?.update(state.kind, false);
    this.#opts.logger.warn('xDS update rejected (NACK); the last good config stays in force', {
      type: state.kind,
      version: res.version_info,
      error: message,
    });
  }

  #onAbsent(kind: ResourceKind, name: string): void {
    if (this.#closed) return;
    this.#opts.logger.warn('xDS resource does not exist (not sent within the timeout)', { type: kind, name });
    this.#reconcile(() => {});
    this.#followDependencies();
    this.watches.refresh();
  }

  // --- translation and subscriptions --------------------------------------

  /** Translate and apply; the problem when the config layer rejects it. */
  #reconcile(warn: (path: string, message: string) => void): string | undefined {
    const chosen = chooseVirtualHosts(this.#view(), this.#applied);
    // Translation warnings concern the layer, not this response: said once, when the layer changes, not on every EDS push.
    const notes: [string, string][] = [];
    const translation = translate(
      resourcesOf(this.#view()),
      chosen,
      (path, message) => notes.push([path, message]),
      this.#opts.policies,
      this.#listenerPlace(),
    );
    const rejected = (message: string) => withInboundListener(withResourceNames(message, translation.clusterServices), this.#opts.inbound);
    // Before the comparison below: a layer with a cluster left out can look unchanged.
    if (translation.issues.length > 0) {
      const error = new ConfigError(this.#opts.source ?? `xds ${this.#opts.bootstrap.serverUri}`, translation.issues);
      this.#opts.rejected?.(error);
      return rejected(error.message);
    }
    const layer = this.#layer(translation.config.services);
    const json = JSON.stringify(layer);
    if (json !== this.#appliedJson) {
      try {
        this.#opts.apply(layer);
      } catch (err) {
        return rejected(err instanceof Error ? err.message : String(err));
      }
      this.#appliedJson = json;
      for (const [path, message] of notes) warn(path, message);
    }
    this.#applied = chosen;
    return undefined;
  }

  #followDependencies(): void {
    const next = subscriptions(this.#view(), this.#applied);
    const plan: [AnyState, Set<string>][] = [
      [this.#rds as AnyState, next.routes],
      [this.#cds as AnyState, next.clusters],
      [this.#eds as AnyState, next.endpoints],
    ];
    for (const [state, names] of plan) {
      const hadAny = state.names.size > 0;
      if (state.subscribe(names) && (names.size > 0 || hadAny)) this.#send(state);
    }
  }
}

/** A config-layer message names model services; say which xDS cluster each one is. */
function withResourceNames(message: string, clusterServices: ReadonlyMap<string, string>): string {
  const named: string[] = [];
  for (const [cluster, service] of clusterServices) {
    if (service !== cluster && message.includes(`services.${service}`)) named.push(`service ${service} is Cluster "${cluster}"`);
  }
  return named.length === 0 ? message : `${message} (${named.join('; ')})`;
}
