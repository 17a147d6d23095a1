/**
 * One logical service: its discovery watch, its live endpoints (Upstreams,
 * kept by key across updates), the picker snapshots built from them, its
 * compiled routes, and the concrete tier's shared state (retry budget, pool
 * limits, breaker, rate limit, outlier detection). A new endpoint set or
 * config builds new pickers and swaps them in; a request in flight keeps the
 * Upstream it already picked.
 */
import type { Dispatcher } from 'undici';
import { failoverOptions } from '../balancer/failover-options.js';
import { buildLocalityPicker } from '../balancer/locality.js';
import { OutlierDetector } from '../balancer/outlier-detection.js';
import { compileRequestHash, type RequestHasher } from '../balancer/request-hash.js';
import { roundRobinPicker } from '../balancer/round-robin.js';
import type { Picker, PickerFactory } from '../balancer/types.js';
import { WarmupRamp } from '../balancer/warmup-ramp.js';
import { effectiveLoadBalancer } from '../config/lb-levels.js';
import { resolveOutlierConfig } from '../config/outlier-schema.js';
import type { LoadBalancerConfig, MeshSettings, ServiceConfig } from '../config/schema.js';
import { effectiveWarmup } from '../config/warmup-schema.js';
import { type Endpoint, makeEndpoint } from '../discovery/endpoint.js';
import { type DiscoveryProvider, type DiscoveryTarget, type EndpointWatch, schemeOf } from '../discovery/source.js';
import { MeshError } from '../errors.js';
import { monotonicNow } from '../net/monotonic-clock.js';
import type { Registry } from '../registry.js';
import { CircuitBreaker } from '../resilience/circuit-breaker.js';
import { outlierResultOf, type Verdict } from '../resilience/classifier.js';
import { LatencyWindow } from '../resilience/latency-window.js';
import { PoolLimits } from '../resilience/pool-limits.js';
import { TokenBucket } from '../resilience/rate-limit.js';
import { DEFAULT_RETRY_BUDGET, RetryBudget } from '../resilience/retry-budget.js';
import type { TransportSecurity } from '../security/tls/transport-security.js';
import { publish } from '../telemetry/events.js';
import type { CallRequest, Cluster, Fallback } from './call-types.js';
import { failDispatch } from './fail-dispatch.js';
import { HttpCall, HttpRequestView } from './http.js';
import { type OutboundTlsContext, PoolConfig } from './pool-config.js';
import { compileRoutePolicies, type RoutePolicies } from './route-policies.js';
import type { CallEnv } from './stack.js';
import { type PoolSettings, Upstream } from './upstream.js';

export interface DestinationContext {
  readonly providers: Registry<DiscoveryProvider>;
  readonly policies: Registry<PickerFactory>;
  readonly pool: PoolSettings;
  readonly onDiscoveryError: (service: string, err: MeshError, scheme: string) => void;
  /** A load-balancer policy's factory threw while building a picker; round-robin serves that endpoint set instead. */
  readonly onPickerError?: (service: string, policy: string, err: unknown) => void;
  /** This workload's own IP, the key for `hashOn: { sourceIp: true }` (Envoy hashes the downstream address, which for outbound traffic is us). */
  readonly sourceIp: string | undefined;
  readonly env: CallEnv;
  /** Code-only fallbacks by service name (config files cannot hold functions). */
  readonly fallbacks: Readonly<Record<string, Fallback>>;
  /** The mesh's workload certificate for destinations with `tls.mode: mutual`. */
  readonly tls?: OutboundTlsContext;
}

/** The built-in policies that ignore a request's hash; every other one (ring-hash, maglev, custom ones) is handed it. */
const HASHLESS_POLICIES = new Set(['peak-ewma', 'least-request', 'round-robin', 'random']);

const EMPTY_PICKER: Picker<Upstream> = { size: 0, pick: () => undefined };

export class Destination implements Cluster {
  readonly name: string;
  /** Kept as a field, not a getter over the config: Istio's metrics read it on every call. */
  reportedName: string;
  readonly budget = new RetryBudget(DEFAULT_RETRY_BUDGET);
  readonly limits = new PoolLimits({});
  readonly latency = new LatencyWindow();
  breaker: CircuitBreaker | undefined;
  rateLimit: TokenBucket | undefined;
  #outlier: OutlierDetector | undefined;
  #routes: RoutePolicies | undefined;
  #rebuildQueued = false;
  readonly #ctx: DestinationContext;
  #namespace: string;
  #service!: ServiceConfig;
  #settings!: MeshSettings;
  #targetKey = '';
  #watch: EndpointWatch | undefined;
  #upstreams = new Map<string, Upstream>();
  readonly #pool = new PoolConfig();
  readonly #endpointListeners = new Set<() => void>();
  #picker: Picker<Upstream> = EMPTY_PICKER;
  #subsets = new Map<string, Picker<Upstream>>();
  readonly #warmup = new WarmupRamp(() => {
    if (!this.#closed) this.#rebuildPickers();
  });
  #hash: RequestHasher | undefined;
  #initialized = false;
  #waiters: Array<() => void> = [];
  #lastError: MeshError | undefined;
  #closed = false;

  constructor(name: string, service: ServiceConfig, settings: MeshSettings, ctx: DestinationContext) {
    this.name = name;
    this.reportedName = name;
    this.#ctx = ctx;
    this.#namespace = service.namespace ?? settings.namespace;
    this.configure(service, settings);
  }

  get namespace(): string {
    return this.#namespace;
  }

  /** True once discovery has answered (endpoints or an error). */
  get initialized(): boolean {
    return this.#initialized;
  }

  get lastError(): MeshError | undefined {
    return this.#lastError;
  }

  /** The service's load-balancer policy name (for status views). */
  get loadBalancerPolicy(): string {
    return this.#lbConfig(undefined).policy;
  }

  get upstreams(): readonly Upstream[] {
    return [...this.#upstreams.values()];
  }

  /** Resolves once discovery has answered for the first time. */
  whenInitialized(): Promise<void> {
    if (this.#initialized || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  get fallback(): Fallback | undefined {
    return this.#ctx.fallbacks[this.name];
  }

  /** Apply a (possibly changed) service config; reopens discovery only when its target changed. */
  configure(service: ServiceConfig, settings: MeshSettings): void {
    this.#service = service;
    this.#settings = settings;
    this.#namespace = service.namespace ?? settings.namespace;
    this.reportedName = service.reportAs ?? this.name;
    this.#configureResilience(service, settings);
    if (this.#pool.update(service, settings, this.#ctx.pool, this.#ctx.tls)) this.#renewPools();
    const lb = this.#lbConfig(undefined);
    // Policies that ignore the hash do not get one computed; a custom policy configured with hashOn does.
    this.#hash = lb.hashOn && !HASHLESS_POLICIES.has(lb.policy) ? compileRequestHash(lb.hashOn) : undefined;

    const target = this.#target();
    const key = `${target.uri}|${target.defaultPort ?? ''}|${target.refreshIntervalMs}|${JSON.stringify(target.endpoints ?? [])}`;
    if (key !== this.#targetKey) {
      this.#targetKey = key;
      this.#watch?.close();
      const provider = this.#ctx.providers.get(schemeOf(target.uri));
      // The config check rejects unknown schemes before we get here.
      if (provider === undefined) throw new Error(`no discovery provider for ${target.uri}`);
      this.#watch = provider.watch(target, {
        next: (endpoints) => this.#onEndpoints(endpoints),
        error: (err) => this.#onError(err),
      });
    }
    this.#rebuildPickers();
  }

  /** Compile routes; called after every destination has its config, since routes may name other services. */
  compileRoutes(resolve: (service: string) => Cluster | undefined): void {
    this.#routes = compileRoutePolicies(this, this.#service, this.#settings, resolve);
  }

  get routes(): RoutePolicies | undefined {
    return this.#routes;
  }

  dispatch(origin: string, opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const request = new HttpRequestView(origin, opts);
    const policy = this.#routes?.match(request);
    if (policy === undefined) {
      const err = new MeshError('MESH_NO_ROUTE', `no route of ${this.name} matches ${request.method} ${request.path}`, {
        details: { service: this.name, method: request.method, path: request.path },
      });
      // Counted like any answered call (Envoy records NR with its 404).
      this.#ctx.env.observer?.refused(this, request, err);
      failDispatch(handler, err);
      return true;
    }
    new HttpCall(origin, opts, handler, request, policy, this.#ctx.env).start();
    return true;
  }

  // --- Cluster ------------------------------------------------------------

  picker(subset: string | undefined): Picker<Upstream> | undefined {
    return subset === undefined ? this.#picker : this.#subsets.get(subset);
  }

  hashOf(request: CallRequest): number | undefined {
    return this.#hash?.(request.path, request.headers, this.#ctx.sourceIp);
  }

  recordVerdict(upstream: Upstream, verdict: Verdict): void {
    const state = upstream.outlier;
    if (state !== undefined) this.#outlier?.record(state, outlierResultOf(verdict));
  }

  noUpstreamError(): MeshError {
    if (this.#closed) return new MeshError('MESH_CLOSED', `the mesh is closed; no request to ${this.name}`);
    if (this.#upstreams.size === 0 && this.#lastError) {
      return new MeshError('MESH_DISCOVERY_FAILED', `no endpoints for ${this.name}: ${this.#lastError.message}`, {
        cause: this.#lastError,
        details: { service: this.name },
      });
    }
    return new MeshError(
      'MESH_NO_HEALTHY_UPSTREAM',
      this.#upstreams.size === 0
        ? `service ${this.name} has no endpoints`
        : `service ${this.name} has no healthy endpoint (${this.#upstreams.size} known)`,
      { details: { service: this.name, endpoints: this.#upstreams.size } },
    );
  }

  #target(): DiscoveryTarget {
    const svc = this.#service;
    const base = {
      service: this.name,
      namespace: this.#namespace,
      defaultPort: svc.port,
      refreshIntervalMs: this.#settings.dnsRefreshInterval,
    };
    if (svc.discovery !== undefined) {
      return { ...base, uri: svc.discovery, path: svc.discovery.slice(svc.discovery.indexOf(':') + 1) };
    }
    const endpoints = (svc.endpoints ?? []).map((e) =>
      makeEndpoint({ ...e, port: e.port ?? svc.port ?? 80 }),
    );
    return { ...base, uri: 'static:', path: '', endpoints };
  }

  #onEndpoints(endpoints: readonly Endpoint[]): void {
    if (this.#closed) return;
    const next = new Map<string, Upstream>();
    for (const ep of endpoints) {
      const existing = this.#upstreams.get(ep.key);
      if (existing) {
        existing.endpoint = ep;
        next.set(ep.key, existing);
      } else {
        next.set(ep.key, new Upstream(ep, this.#pool.settings));
      }
    }
    this.#trackOutliers(next);
    const removed = [...this.#upstreams.values()].filter((u) => !next.has(u.key));
    this.#upstreams = next;
    this.#lastError = undefined;
    this.#rebuildPickers();
    // Removed endpoints finish what they are serving; they get nothing new.
    for (const u of removed) void u.close();
    this.#markInitialized();
    for (const listener of this.#endpointListeners) listener();
  }

  /** Run `listener` after each change of the endpoint set (gRPC channels connect ahead to new endpoints). */
  onEndpointsChange(listener: () => void): () => void {
    this.#endpointListeners.add(listener);
    return () => this.#endpointListeners.delete(listener);
  }

  /** The TLS the endpoints are dialled with (the destination's `tls` setting); undefined for plaintext. */
  get transportSecurity(): TransportSecurity | undefined {
    return this.#pool.settings.security;
  }

  #onError(err: MeshError): void {
    if (this.#closed) return;
    this.#lastError = err;
    this.#ctx.onDiscoveryError(this.name, err, schemeOf(this.#target().uri));
    this.#markInitialized();
  }

  #markInitialized(): void {
    if (this.#initialized) return;
    this.#initialized = true;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  #lbConfig(subset: string | undefined): LoadBalancerConfig & { policy: string } {
    const sub = subset === undefined ? undefined : this.#service.subsets?.[subset]?.loadBalancer;
    return effectiveLoadBalancer([this.#settings.loadBalancer, this.#service.loadBalancer, sub]);
  }

  #buildPicker(upstreams: readonly Upstream[], lb: LoadBalancerConfig & { policy: string }): Picker<Upstream> {
    if (upstreams.length === 0) return EMPTY_PICKER;
    const policy = lb.policy;
    const factory = this.#ctx.policies.get(policy);
    if (factory === undefined) throw new Error(`no load-balancer policy "${policy}"`);
    try {
      return this.#localityPicker(upstreams, factory, lb);
    } catch (err) {
      // A custom factory's bug must not take the service down, nor escape from a discovery callback:
      // the same endpoints are served round-robin, and the error is reported each time it happens.
      this.#ctx.onPickerError?.(this.name, policy, err);
      // The built-in, not the registry's: a replaced round-robin may be the factory that threw.
      return this.#localityPicker(upstreams, roundRobinPicker, lb);
    }
  }

  #localityPicker(upstreams: readonly Upstream[], factory: PickerFactory, lb: LoadBalancerConfig): Picker<Upstream> {
    return buildLocalityPicker(
      upstreams,
      factory,
      {
        ...(lb.ringSize ? { ringMin: lb.ringSize.min, ringMax: lb.ringSize.max } : {}),
        ...(lb.maglevTableSize ? { tableSize: lb.maglevTableSize } : {}),
        ...(lb.config !== undefined ? { config: lb.config } : {}),
      },
      {
        localRegion: this.#settings.region,
        localZone: this.#settings.zone,
        localityAware: lb.localityAware ?? true,
        panicThreshold: lb.panicThreshold ?? 50,
        ...failoverOptions(lb, this.#settings),
      },
    );
  }

  #rebuildPickers(): void {
    // Sorted, so every client builds the same ring and maglev table from the same set.
    const all = [...this.#upstreams.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    this.#warmup.apply(all, effectiveWarmup(this.#settings.loadBalancer, this.#service), monotonicNow());
    this.#picker = this.#buildPicker(all, this.#lbConfig(undefined));
    const subsets = new Map<string, Picker<Upstream>>();
    for (const [name, subset] of Object.entries(this.#service.subsets ?? {})) {
      const members = all.filter((u) => matchesLabels(u.endpoint.labels, subset.labels));
      subsets.set(name, this.#buildPicker(members, this.#lbConfig(name)));
    }
    this.#subsets = subsets;
  }

  /**
   * Pool settings changed (limits, TLS): every endpoint gets a fresh Upstream
   * whose pools use them. The old ones finish what they are serving.
   */
  #renewPools(): void {
    const old = this.#upstreams;
    const next = new Map<string, Upstream>();
    for (const [key, u] of old) next.set(key, new Upstream(u.endpoint, this.#pool.settings));
    this.#trackOutliers(next);
    this.#upstreams = next;
    for (const u of old.values()) void u.close();
  }

  #configureResilience(service: ServiceConfig, mesh: MeshSettings): void {
    const budget = { ...mesh.retryBudget, ...service.retryBudget };
    this.budget.configure({
      ratio: budget.ratio ?? DEFAULT_RETRY_BUDGET.ratio,
      minRetriesPerSecond: budget.minRetriesPerSecond ?? DEFAULT_RETRY_BUDGET.minRetriesPerSecond,
      ttlMs: budget.ttl ?? DEFAULT_RETRY_BUDGET.ttlMs,
    });
    const pool = { ...mesh.connectionPool, ...service.connectionPool };
    this.limits.configure({
      maxPendingRequests: pool.maxPendingRequests,
      maxRequests: pool.maxRequests,
      maxRetries: pool.maxRetries,
    });
    const cb = service.circuitBreaker ?? mesh.circuitBreaker;
    if (cb === undefined) this.breaker = undefined;
    else {
      const config = {
        errorThresholdPercentage: cb.errorThresholdPercentage ?? 50,
        minimumRequests: cb.minimumRequests ?? 20,
        windowMs: cb.window ?? 10_000,
        openMs: cb.openFor ?? 5_000,
        halfOpenRequests: cb.halfOpenRequests ?? 1,
      };
      if (this.breaker === undefined) {
        this.breaker = new CircuitBreaker(config, {
          onStateChange: (from: string, to: string) => publish('circuit', () => ({ service: this.name, from, to })),
        });
      } else this.breaker.configure(config);
    }
    const rl = service.rateLimit;
    if (rl === undefined) this.rateLimit = undefined;
    else {
      const max = rl.maxTokens ?? rl.tokensPerFill ?? 100;
      const cfg = { maxTokens: max, tokensPerFill: rl.tokensPerFill ?? max, fillIntervalMs: rl.fillInterval ?? 1000 };
      if (this.rateLimit === undefined) this.rateLimit = new TokenBucket(cfg);
      else this.rateLimit.configure(cfg);
    }
    const od = resolveOutlierConfig([mesh.outlierDetection, service.outlierDetection]);
    if (od === undefined) {
      this.#outlier?.close();
      this.#outlier = undefined;
      for (const u of this.#upstreams.values()) u.outlier = undefined;
    } else if (this.#outlier === undefined) {
      this.#outlier = new OutlierDetector(od, {
        onChange: () => this.#queueRebuild(),
        onEject: (endpoint, reason, untilMs) =>
          publish('ejection', () => ({ service: this.name, endpoint, reason, untilMs })),
        onReturn: (endpoint) => publish('ejectionReturn', () => ({ service: this.name, endpoint })),
      });
      this.#trackOutliers(this.#upstreams);
    } else this.#outlier.configure(od);
  }

  #trackOutliers(upstreams: ReadonlyMap<string, Upstream>): void {
    const detector = this.#outlier;
    if (detector === undefined) return;
    const states = detector.track([...upstreams.keys()]);
    for (const [key, u] of upstreams) u.outlier = states.get(key);
  }

  /** Ejections and returns rebuild the pickers once, after the current turn. */
  #queueRebuild(): void {
    if (this.#rebuildQueued) return;
    this.#rebuildQueued = true;
    queueMicrotask(() => {
      this.#rebuildQueued = false;
      if (!this.#closed) this.#rebuildPickers();
    });
  }

  /** Outlier-detection state, for status views and tests. */
  get outlierDetector(): OutlierDetector | undefined {
    return this.#outlier;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#warmup.close();
    this.#outlier?.close();
    this.#pool.close();
    this.#watch?.close();
    this.#markInitialized();
    this.#picker = EMPTY_PICKER;
    await Promise.all([...this.#upstreams.values()].map((u) => u.close()));
  }

  async destroy(err?: Error): Promise<void> {
    this.#closed = true;
    this.#warmup.close();
    this.#outlier?.close();
    this.#pool.close();
    this.#watch?.close();
    this.#markInitialized();
    this.#picker = EMPTY_PICKER;
    await Promise.all([...this.#upstreams.values()].map((u) => u.destroy(err)));
  }
}

function matchesLabels(labels: Readonly<Record<string, string>>, want: Readonly<Record<string, string>>): boolean {
  for (const k in want) if (labels[k] !== want[k]) return false;
  return true;
}
