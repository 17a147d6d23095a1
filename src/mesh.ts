/**
 * createMesh(): the assembly root. It wires the config store, the registries,
 * the directory of destinations and the dispatcher, and owns their lifecycle.
 * It holds no request logic itself.
 */
import { Agent, type Dispatcher, fetch as undiciFetch, request as undiciRequest } from 'undici';
import { type AdminServer, startAdminServer } from './admin/admin-server.js';
import { adminSettings } from './admin/admin-settings.js';
import { meshAdminSource } from './admin/mesh-source.js';
import { builtinPolicies } from './balancer/policies.js';
import { registerPolicies } from './balancer/register-policies.js';
import type { PickerFactory } from './balancer/types.js';
import type { Fallback } from './client/call-types.js';
import { Directory } from './client/directory.js';
import { MeshDispatcher } from './client/dispatcher.js';
import { RequestTargets } from './client/request-target.js';
import type { CallEnv } from './client/stack.js';
import type { PoolSettings } from './client/upstream.js';
import { ConfigError, type ConfigIssue } from './config/config-error.js';
import { readEnv } from './config/env.js';
import { type ConfigFileWatch, readConfigFile, watchConfigFile } from './config/file-source.js';
import { ConfigHistory } from './config/history.js';
import { checkLbPolicies } from './config/lb-policy-check.js';
import { checkRouteTargets } from './config/route-targets.js';
import type { MeshConfig, MeshConfigInput } from './config/schema.js';
import { type ConfigLayer, ConfigStore } from './config/store.js';
import { dnsProvider } from './discovery/dns.js';
import { type KubernetesProvider, kubernetesProvider } from './discovery/kubernetes/provider.js';
import { type DiscoveryProvider, schemeOf } from './discovery/source.js';
import { staticProvider } from './discovery/static.js';
import { createXdsClient, type XdsOptions, xdsBootstrap } from './discovery/xds/start-client.js';
import type { XdsClient } from './discovery/xds/xds-client.js';
import type { XdsStatus } from './discovery/xds/xds-status.js';
import { xdsProvider } from './discovery/xds/xds-watches.js';
import { MeshError } from './errors.js';
import { MeshGrpc } from './mesh-grpc.js';
import { monotonicNow } from './net/monotonic-clock.js';
import { ownAddress } from './net/own-address.js';
import { Registry } from './registry.js';
import { builtinClassifier, type Classifier } from './resilience/classifier.js';
import { DeadlineWheel } from './resilience/deadline-wheel.js';
import type { WorkloadIdentity } from './security/identity/workload-identity.js';
import { MeshSecurity } from './security/mesh-security.js';
import { MeshInbound } from './server/mesh-inbound.js';
import { type CreateServerOptions, type Http1Handler, type InboundHandler, MeshServer } from './server/mesh-server.js';
import { endpointHealth } from './telemetry/endpoint-health.js';
import { publish } from './telemetry/events.js';
import { type MeshLogger, stderrLogger } from './telemetry/logger.js';
import { MeshTelemetry, type TelemetryOptions } from './telemetry/mesh-telemetry.js';
import type { AnyRegistry as TelemetryMetricsRegistry } from './telemetry/metrics/any-registry.js';
import type { SelfDescription } from './telemetry/workload-labels.js';

export interface MeshOptions {
  /** Config in the YAML file's shape; highest precedence. */
  config?: MeshConfigInput;
  /** Path to a YAML/JSON config file (else `MESH_CONFIG_FILE`). */
  configFile?: string;
  /** Re-read the config file when it changes (default true). */
  watchConfigFile?: boolean;
  /** Environment to read `MESH_*` from; `false` ignores the environment. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>> | false;
  /** Extra discovery providers (or replacements for `static`/`dns`), registered before the first config is applied. */
  discoveryProviders?: readonly DiscoveryProvider[];
  /**
   * Load-balancer policies by name, registered before the first config is
   * applied: custom ones under "<prefix>/<name>" (docs/load-balancing.md),
   * or replacements for built-ins under their names.
   */
  balancers?: Readonly<Record<string, PickerFactory>>;
  /** Per-endpoint connection pool settings. */
  pool?: PoolSettings;
  /**
   * Replaces the response classifier that retries, the circuit breaker and
   * outlier detection all use (docs/resilience.md).
   */
  classifier?: Classifier;
  /** Per service: what to answer when the mesh stops a call (open circuit, overflow, no endpoint). */
  fallbacks?: Readonly<Record<string, Fallback>>;
  /** Metrics, access log and tracing (docs/metrics.md, docs/tracing.md). */
  telemetry?: TelemetryOptions;
  /**
   * The admin endpoint (docs/admin.md): off unless set here or by
   * MESH_ADMIN_PORT. Binds 127.0.0.1 unless `host` (or MESH_ADMIN_HOST) says otherwise.
   */
  admin?: { port: number; host?: string } | false;
  logger?: MeshLogger;
  /**
   * The xDS client (docs/xds.md): on when this or the environment
   * (GRPC_XDS_BOOTSTRAP, GRPC_XDS_BOOTSTRAP_CONFIG, MESH_XDS_SERVER) names a
   * control plane; `false` keeps it off whatever the environment says.
   */
  xds?: XdsOptions | false;
}

type RequestOptions = NonNullable<Parameters<typeof undiciRequest>[1]>;
type FetchInput = Parameters<typeof undiciFetch>[0];
type FetchInit = NonNullable<Parameters<typeof undiciFetch>[1]>;

export class Mesh {
  readonly config: ConfigStore;
  readonly discovery: Registry<DiscoveryProvider>;
  readonly balancers: Registry<PickerFactory>;
  readonly dispatcher: MeshDispatcher;
  readonly logger: MeshLogger;
  readonly #directory: Directory;
  readonly #security: MeshSecurity;
  readonly #telemetry: MeshTelemetry;
  readonly #history = new ConfigHistory();
  #admin: Promise<AdminServer> | undefined;
  readonly #passthrough = new Agent();
  // Never closed: calls still draining after close() or destroy() may need
  // a timer, and the wheel disarms itself (and is unref'd) once empty.
  readonly #wheel = new DeadlineWheel();
  readonly #fetchDefaults: FetchInit;
  readonly #requestDefaults: RequestOptions;
  readonly #targets = new RequestTargets();
  #fileWatch: ConfigFileWatch | undefined;
  #closing: Promise<void> | undefined;
  /** Set as close() or destroy() starts: nothing learned later (the Node's zone) may reconfigure the mesh. */
  #stopped = false;
  #inbound: MeshInbound | undefined;
  #xds: XdsClient | undefined;
  #grpc: MeshGrpc | undefined;
  readonly #env: CallEnv;

  constructor(options: MeshOptions = {}) {
    this.logger = options.logger ?? stderrLogger();
    const envVars = options.env === false ? {} : (options.env ?? process.env);
    // Resolved before security: provider control-plane's CA defaults to this xDS server.
    const bootstrap = xdsBootstrap(options.xds, envVars);
    this.#security = new MeshSecurity(envVars, this.logger, bootstrap);
    this.#telemetry = new MeshTelemetry(options.telemetry ?? {}, envVars, {
      serviceName: undefined,
      namespace: 'default',
      clusterDomain: 'cluster.local',
      labels: {},
      spiffeId: undefined,
    });
    this.discovery = new Registry<DiscoveryProvider>('discovery provider');
    this.balancers = new Registry<PickerFactory>('load-balancer policy', builtinPolicies());
    registerPolicies(this.balancers, options.balancers ?? {});
    this.config = new ConfigStore((config) => this.#checkConfig(config));
    const env: CallEnv = {
      classifier: options.classifier ?? builtinClassifier,
      wheel: this.#wheel,
      now: monotonicNow,
      observer: this.#telemetry.observer,
    };
    this.#env = env;
    this.#directory = new Directory({
      env,
      fallbacks: options.fallbacks ?? {},
      providers: this.discovery,
      policies: this.balancers,
      pool: options.pool ?? {},
      sourceIp: ownAddress(options.env === false ? {} : (options.env ?? process.env)),
      tls: this.#security,
      onDiscoveryError: (service, err, scheme) => {
        this.#telemetry.metrics?.mesh.discoveryError(service, scheme);
        this.logger.warn('discovery failed; serving on the last good endpoints', { service, error: err.message });
      },
      onPickerError: (service, policy, err) => {
        this.logger.error('load-balancer policy failed to build a picker; serving these endpoints round-robin', {
          service,
          policy,
          error: err instanceof Error ? err.message : String(err),
        });
      },
    });
    this.dispatcher = new MeshDispatcher(this.#directory, this.#passthrough, {
      close: () => this.close(),
      destroy: (err) => this.destroy(err),
    });
    this.#fetchDefaults = { dispatcher: this.dispatcher };
    this.#requestDefaults = { dispatcher: this.dispatcher };

    const fromEnv = options.env === false ? undefined : readEnv(options.env ?? process.env);
    // Providers passed in options replace built-ins of the same scheme.
    // k8s: reads no kubeconfig and opens no connection until a service names it,
    // or, with a node name set, once at start for this process's zone (#adoptNodeZone).
    const k8s = kubernetesProvider({ env: envVars, logger: this.logger });
    const builtins = [staticProvider(), dnsProvider(), k8s, xdsProvider(() => this.#xds?.watches)];
    for (const provider of [...builtins, ...(options.discoveryProviders ?? [])]) {
      this.discovery.set(provider.scheme, provider);
    }

    // The first config is applied synchronously, so createMesh() throws a
    // ConfigError for bad initial config instead of starting half-configured.
    // Security first: a destination asking for mTLS needs the certificate source in place.
    this.config.subscribe((snapshot) => {
      this.#security.apply(snapshot.config);
      this.#telemetry.describe(this.#selfDescription(snapshot.config));
      this.#directory.apply(snapshot.config);
      this.#inbound?.configure(snapshot.config.mesh.inbound);
      // The layer this update came from: the one updated last (not the highest in precedence).
      const changed = snapshot.sources.reduce<(typeof snapshot.sources)[number] | undefined>(
        (latest, s) => (latest === undefined || s.updatedAt >= latest.updatedAt ? s : latest),
        undefined,
      );
      const source = changed?.source ?? 'options';
      this.#telemetry.metrics?.mesh.configUpdate(source, true);
      this.#history.record({ time: Date.now(), source, version: snapshot.version, accepted: true });
      publish('configUpdate', () => ({ source, version: snapshot.version, accepted: true }));
    });
    this.#telemetry.start({
      endpoints: () => endpointHealth(this.#directory.list()),
      circuits: () =>
        this.#directory.list().flatMap((d) => (d.breaker === undefined ? [] : [{ service: d.name, state: d.breaker.state }])),
    });
    const configFile = options.configFile ?? fromEnv?.configFile;
    const layers: { layer: ConfigLayer; raw: unknown; source: string }[] = [];
    if (configFile !== undefined) layers.push({ layer: 'file', raw: readConfigFile(configFile), source: `file ${configFile}` });
    if (fromEnv?.raw !== undefined) layers.push({ layer: 'env', raw: fromEnv.raw, source: 'env' });
    if (options.config !== undefined) layers.push({ layer: 'options', raw: options.config, source: 'options' });
    // xDS: its services are in the first snapshot (waiting for the control plane), so requests never pass through.
    const xds = createXdsClient({
      options: options.xds,
      bootstrap,
      env: envVars,
      logger: this.logger,
      registry: this.#telemetry.metrics?.registry,
      policies: this.balancers,
      place: () => {
        const mesh = this.config.current.config.mesh;
        return { region: mesh.region ?? '', zone: mesh.zone ?? '', labels: mesh.labels ?? {}, namespace: mesh.namespace, clusterDomain: mesh.clusterDomain };
      },
      rejected: (err) => {
        this.config.recordRejection('xds', err);
        this.#reportRejected(err);
      },
      apply: (raw, source) => {
        try {
          this.config.setLayer('xds', raw, source);
        } catch (err) {
          this.#reportRejected(err);
          throw err;
        }
      },
    });
    if (xds !== undefined) layers.push({ layer: 'xds', raw: xds.client.initialConfig(), source: xds.source });
    this.#xds = xds?.client;
    try {
      this.config.setLayers(layers.length > 0 ? layers : [{ layer: 'options', raw: {}, source: 'options' }]);
    } catch (err) {
      this.#xds?.close();
      throw err;
    }
    this.#xds?.start();

    if (configFile !== undefined && options.watchConfigFile !== false) {
      this.#fileWatch = watchConfigFile(
        configFile,
        (raw) => {
          try {
            this.config.setLayer('file', raw, `file ${configFile}`);
            this.logger.info('config file applied', { file: configFile, version: this.config.current.version });
          } catch (err) {
            this.#reportRejected(err);
          }
        },
        (err) => {
          this.config.recordRejection('file', err);
          this.#reportRejected(err);
        },
      );
    }
    this.#startAdmin(options.admin, envVars);
    // Last: a constructor that threw above leaves no read in flight behind it.
    this.#adoptNodeZone(k8s);
  }

  /**
   * The zone and region of this pod's Node (MESH_NODE_NAME, or NODE_NAME in
   * a pod; the k8s provider reads it once) as the lowest config layer:
   * MESH_ZONE, the file, the control plane and code options all win over
   * it, and /config_dump names the Node it came from. Locality needs both:
   * an endpoint is local only in this process's region. Asked for at start, not only when a `k8s:`
   * service first lists, because locality-aware balancing of every service
   * (xDS endpoints too) needs this process's zone. Without a node name, or
   * with the zone already given, the cluster is never touched.
   */
  #adoptNodeZone(k8s: KubernetesProvider): void {
    // A provider passed in options replaced ours: its zone is its own business.
    if (this.discovery.get('k8s') !== k8s) return;
    void k8s.localZone().then((info) => {
      if (info.source !== 'node' || this.#stopped) return;
      const mesh = info.region === '' ? { zone: info.zone } : { zone: info.zone, region: info.region };
      try {
        this.config.setLayer('kubernetes', { mesh }, `kubernetes node ${info.node}`);
      } catch (err) {
        this.#reportRejected(err);
      }
    });
  }

  #startAdmin(option: MeshOptions['admin'], env: Readonly<Record<string, string | undefined>>): void {
    const admin = adminSettings(option, env);
    const registry = this.#telemetry.metrics?.registry;
    if (admin === undefined) return;
    if (registry === undefined) {
      throw new MeshError('MESH_INVALID_ARGUMENT', 'the admin endpoint serves /metrics: it needs telemetry.metrics on');
    }
    this.#admin = startAdminServer({
      port: admin.port,
      ...(admin.host !== undefined ? { host: admin.host } : {}),
      logger: this.logger,
      source: meshAdminSource({
        registry,
        destinations: () => this.#directory.list(),
        config: this.config,
        history: this.#history,
        ready: () => this.#isReady(),
        xds: () => this.#xds?.status(),
      }),
    });
    // A failed bind is reported when someone awaits ready() or adminAddress(), and logged now.
    this.#admin.catch((err: Error) => this.logger.error('admin endpoint failed to start', { error: err.message }));
  }

  /** Ready: discovery answered for every destination, the certificate loaded, not closing or draining. */
  #isReady(): boolean {
    return this.#closing === undefined && this.#inbound?.draining !== true && this.#directory.list().every((d) => d.initialized) && this.#security.certificateLoaded();
  }

  /** Where the admin endpoint listens, once it does; undefined when it is off. */
  async adminAddress(): Promise<{ host: string; port: number } | undefined> {
    const admin = await this.#admin;
    return admin === undefined ? undefined : { host: admin.host, port: admin.port };
  }

  #selfDescription(config: MeshConfig): SelfDescription {
    return {
      serviceName: config.mesh.serviceName,
      namespace: config.mesh.namespace,
      clusterDomain: config.mesh.clusterDomain,
      labels: config.mesh.labels ?? {},
      spiffeId: this.#security.identity()?.spiffeId,
    };
  }

  /** The registry `/metrics` serves: Istio's request metrics and the mesh's own; undefined with metrics off. */
  get metricsRegistry(): TelemetryMetricsRegistry | undefined {
    return this.#telemetry.metrics?.registry;
  }

  #reportRejected(err: unknown): void {
    const source = err instanceof ConfigError ? err.source : 'unknown';
    this.#telemetry.metrics?.mesh.configUpdate(source, false);
    this.#history.record({
      time: Date.now(),
      source,
      version: this.config.current.version,
      accepted: false,
      error: err instanceof Error ? err.message : String(err),
    });
    publish('configUpdate', () => ({
      source,
      version: this.config.current.version,
      accepted: false,
      error: err instanceof Error ? err.message : String(err),
    }));
    const message = err instanceof Error ? err.message : String(err);
    this.logger.warn('config update rejected; the previous config stays in force', { error: message });
  }

  #checkConfig(config: MeshConfig): ConfigIssue[] {
    const issues: ConfigIssue[] = [
      ...checkRouteTargets(config),
      ...checkLbPolicies(config, this.balancers),
      ...this.#security.check(config),
    ];
    for (const [name, svc] of Object.entries(config.services)) {
      if (svc.discovery === undefined) continue;
      const scheme = schemeOf(svc.discovery);
      const provider = this.discovery.get(scheme);
      if (provider === undefined) {
        issues.push({
          path: `services.${name}.discovery`,
          message: `no discovery provider for scheme "${scheme}:"; registered: ${this.discovery.names().join(', ')}`,
        });
        continue;
      }
      const problem = provider.validate?.({
        uri: svc.discovery,
        path: svc.discovery.slice(scheme.length + 1),
        service: name,
        namespace: svc.namespace ?? config.mesh.namespace,
        defaultPort: svc.port,
        refreshIntervalMs: config.mesh.dnsRefreshInterval,
      });
      if (problem !== undefined) issues.push({ path: `services.${name}.discovery`, message: problem });
    }
    return issues;
  }

  /** Resolves once every configured service's discovery has answered once. */
  async ready(options: { signal?: AbortSignal } = {}): Promise<void> {
    const all = Promise.all([
      ...this.#directory.list().map((d) => d.whenInitialized()),
      this.#admin,
      this.#security.ready(options.signal !== undefined ? { signal: options.signal } : {}),
    ]);
    if (options.signal === undefined) {
      await all;
      return;
    }
    options.signal.throwIfAborted();
    const signal = options.signal;
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      all.then(
        () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
        reject,
      );
    });
  }

  /** undici.request's contract, on the mesh. */
  request(url: string | URL, options?: RequestOptions): Promise<Dispatcher.ResponseData<unknown>> {
    // The common call, a string URL and no `path` option, skips undici's full URL parse (request-target.ts).
    const target = typeof url === 'string' && (options === undefined || ((options as { path?: unknown }).path == null && !('agent' in options))) ? this.#targets.split(url) : undefined;
    if (target === undefined) return undiciRequest(url, options === undefined ? this.#requestDefaults : { ...options, dispatcher: this.dispatcher });
    if (options === undefined) return this.dispatcher.request({ origin: target.origin, path: target.path, method: 'GET' });
    const { dispatcher: _ignored, ...rest } = options as RequestOptions & { dispatcher?: unknown };
    return this.dispatcher.request({ ...rest, origin: target.origin, path: target.path, method: options.method || (options.body ? 'PUT' : 'GET') });
  }

  /** fetch's contract, on the mesh. */
  fetch(input: FetchInput, init?: FetchInit): ReturnType<typeof undiciFetch> {
    return undiciFetch(input, init === undefined ? this.#fetchDefaults : { ...init, dispatcher: this.dispatcher });
  }

  /** This workload's SPIFFE identity, once `mesh.security.certificates` is configured. */
  get identity(): WorkloadIdentity | undefined {
    return this.#security.identity();
  }

  /**
   * An inbound server on the mesh's identity: mTLS per `mesh.security.mtls`
   * (STRICT, PERMISSIVE or DISABLE, with per-port overrides); handlers read
   * the verified caller with `peerOf(req)`. Call `listen()` on the result.
   */
  createServer(handler: InboundHandler, options?: CreateServerOptions): MeshServer;
  /** An HTTP/1.1 app (Express, `fastify.routing`) on the mesh's identity. */
  createServer(handler: Http1Handler, options?: CreateServerOptions): MeshServer;
  createServer(handler: InboundHandler | Http1Handler, options: CreateServerOptions = {}): MeshServer {
    const inbound = this.#security.inbound();
    const tls = this.#security.workload();
    const server = new MeshServer(handler, {
      mode: inbound.mode,
      portLevelMtls: inbound.portLevelMtls,
      ...(tls !== undefined ? { tls } : {}),
      modes: () => this.#security.inbound(),
      pipeline: this.inbound.pipeline,
      ...options,
      onTlsError: (err) => this.logger.info('inbound TLS handshake failed', { error: err.message }),
    });
    this.inbound.attachDrainable(server, server);
    return server;
  }

  /**
   * The inbound side every server and framework adapter of this mesh
   * shares: one pipeline (load shedding, spans, deadline, authentication,
   * authorization, metrics), and the drain on SIGTERM or close()
   * (docs/frameworks.md). Created on first use.
   */
  get inbound(): MeshInbound {
    this.#inbound ??= new MeshInbound({
      telemetry: {
        tracer: this.#telemetry.tracer,
        metrics: this.#telemetry.metrics,
        accessLog: this.#telemetry.accessLog,
        self: () => this.#telemetry.selfAsDestination(),
        peers: this.#telemetry.peers,
      },
      registry: this.#telemetry.metrics?.registry,
      guard: () => this.#security.guard(),
      settings: this.config.current.config.mesh.inbound,
      shutdown: () => this.close(),
    });
    return this.#inbound;
  }

  /**
   * gRPC on the mesh (docs/grpc.md): `grpc.client(Client, 'reviews')` for a
   * grpc-js client that uses the mesh's endpoints and policies, and
   * `grpc.server()` for a grpc-js server behind the inbound pipeline.
   */
  get grpc(): MeshGrpc {
    this.#grpc ??= new MeshGrpc({
      directory: this.#directory,
      env: this.#env,
      security: this.#security,
      inbound: () => this.inbound,
      logger: this.logger,
    });
    return this.#grpc;
  }

  /** What the xDS client was told (versions, last NACK, connection); undefined without xDS. */
  xdsStatus(): XdsStatus | undefined {
    return this.#xds?.status();
  }

  /** The live destinations (for status views and tests). */
  get destinations(): Directory {
    return this.#directory;
  }

  /** Stop taking requests, let in-flight ones finish, then release everything. */
  close(): Promise<void> {
    this.#stopped = true;
    this.#closing ??= (async () => {
      // Inbound first: requests in flight may still call out while they finish
      // (with no inbound side, new calls are refused at once, synchronously).
      if (this.#inbound !== undefined) await this.#inbound.shutdown();
      this.dispatcher.markClosed();
      this.#grpc?.closeClients();
      this.#fileWatch?.close();
      this.#xds?.close();
      await Promise.all([this.#directory.close(), this.#passthrough.close()]);
      await Promise.all([...this.discovery.values()].map((p) => p.close?.()));
      await this.#security.close();
      this.#telemetry.close();
      await (await this.#admin?.catch(() => undefined))?.close();
    })();
    return this.#closing;
  }

  /** Stop at once: in-flight requests fail. */
  async destroy(err?: Error): Promise<void> {
    this.#stopped = true;
    this.#inbound?.destroy();
    this.dispatcher.markClosed();
    this.#grpc?.closeClients();
    this.#fileWatch?.close();
    this.#xds?.close();
    const reason = err ?? new MeshError('MESH_CLOSED', 'the mesh was destroyed');
    await Promise.all([this.#directory.destroy(reason), this.#passthrough.destroy(reason)]);
    await Promise.all([...this.discovery.values()].map((p) => p.close?.()));
    await this.#security.close();
    this.#telemetry.close();
    await (await this.#admin?.catch(() => undefined))?.close();
  }
}

export function createMesh(options?: MeshOptions): Mesh {
  return new Mesh(options);
}
