/**
 * One mesh's telemetry, assembled from options and the environment:
 * Istio-compatible metrics (on by default, as in Istio), the access log (off
 * by default), tracing with propagation (on; it costs next to nothing until
 * a tracer provider records), and the pieces the outbound observer and the
 * inbound server share.
 */
import type { TextMapPropagator, TracerProvider } from '@opentelemetry/api';
import { ConfigError } from '../config/config-error.js';
import { AccessLog, type AccessLogOptions } from './access-log.js';
import type { AnyRegistry } from './metrics/any-registry.js';
import type { MeshStateSource } from './metrics/mesh-state.js';
import { TelemetryMetrics } from './metrics/telemetry-metrics.js';
import { OutboundObserver } from './outbound-observer.js';
import type { DestinationLabels, WorkloadLabels } from './request-record.js';
import { type PropagationFormat, parsePropagation } from './tracing/mesh-propagator.js';
import { MeshTracer } from './tracing/mesh-tracer.js';
import { DestinationLabelCache, PeerLabelCache, type SelfDescription, selfLabels } from './workload-labels.js';

export interface TelemetryOptions {
  /** Istio's request metrics and the mesh's own (default on); pass a prom-client registry to use yours. */
  metrics?: boolean | { registry?: AnyRegistry; maxSeries?: number };
  /** One JSON line per request (default off; env MESH_ACCESS_LOG). */
  accessLog?: boolean | AccessLogOptions;
  /** Spans and trace propagation (default on). */
  tracing?:
    | boolean
    | {
        tracerProvider?: TracerProvider;
        propagation?: readonly PropagationFormat[] | TextMapPropagator;
        attempts?: 'events' | 'spans';
      };
}

type Env = Readonly<Record<string, string | undefined>>;

export class MeshTelemetry {
  readonly metrics: TelemetryMetrics | undefined;
  readonly accessLog: AccessLog | undefined;
  readonly tracer: MeshTracer | undefined;
  readonly observer: OutboundObserver;
  readonly peers = new PeerLabelCache();
  #destinations: DestinationLabelCache;
  #self: SelfDescription;
  #source: WorkloadLabels;
  #asDestination: DestinationLabels;

  constructor(options: TelemetryOptions, env: Env, self: SelfDescription) {
    this.#self = self;
    this.#source = selfLabels(self);
    this.#destinations = new DestinationLabelCache(self.clusterDomain);
    this.#asDestination = this.#selfAsDestination();
    const m = options.metrics ?? true;
    this.metrics = m === false ? undefined : new TelemetryMetrics(m === true ? {} : m);
    this.accessLog = accessLogFrom(options.accessLog, env);
    const t = options.tracing ?? true;
    this.tracer =
      t === false
        ? undefined
        : new MeshTracer({
            ...(t === true ? {} : t),
            ...(t === true || t.propagation === undefined ? propagationFromEnv(env) : {}),
          });
    // Always there, even with everything off: request events go to whoever subscribes.
    this.observer = new OutboundObserver({
      tracer: this.tracer,
      metrics: this.metrics,
      accessLog: this.accessLog,
      source: () => this.#source,
      destinations: this.#destinations,
    });
  }

  /** Start listening to the pipeline's events (for the mesh's own metrics). */
  start(state: MeshStateSource): void {
    this.metrics?.mesh.setStateSource(state);
    this.metrics?.start();
  }

  /** This workload changed (config or identity): later records carry the new labels. */
  describe(self: SelfDescription): void {
    if (JSON.stringify(self) === JSON.stringify(this.#self)) return;
    this.#self = self;
    this.#source = selfLabels(self);
    if (self.clusterDomain !== this.#destinations.clusterDomain) this.#destinations = new DestinationLabelCache(self.clusterDomain);
    this.#asDestination = this.#selfAsDestination();
  }

  /** This workload as the destination of its inbound requests. */
  selfAsDestination(): DestinationLabels {
    return this.#asDestination;
  }

  #selfAsDestination(): DestinationLabels {
    const s = this.#source;
    const name = this.#self.serviceName ?? s.app;
    return Object.freeze({
      ...s,
      service: `${name}.${s.namespace}.svc.${this.#self.clusterDomain}`,
      serviceName: name,
      serviceNamespace: s.namespace,
    });
  }

  close(): void {
    this.metrics?.close();
  }
}

function accessLogFrom(option: TelemetryOptions['accessLog'], env: Env): AccessLog | undefined {
  if (option === false) return undefined;
  if (option === true) return new AccessLog();
  if (option !== undefined) return new AccessLog(option);
  const raw = env.MESH_ACCESS_LOG?.trim().toLowerCase();
  if (raw === undefined || raw === '' || raw === 'false' || raw === 'off') return undefined;
  if (raw !== 'true' && raw !== 'on' && raw !== 'errors') {
    throw new ConfigError('env', [{ path: 'MESH_ACCESS_LOG', message: `must be true, false or errors, got ${JSON.stringify(env.MESH_ACCESS_LOG)}` }]);
  }
  const rate = env.MESH_ACCESS_LOG_SAMPLE?.trim();
  const sampleRate = rate === undefined || rate === '' ? 1 : Number(rate);
  if (!Number.isFinite(sampleRate) || sampleRate < 0 || sampleRate > 1) {
    throw new ConfigError('env', [{ path: 'MESH_ACCESS_LOG_SAMPLE', message: `must be a fraction from 0 to 1, got ${JSON.stringify(rate)}` }]);
  }
  return new AccessLog({ onlyErrors: raw === 'errors', sampleRate });
}

function propagationFromEnv(env: Env): { propagation?: readonly PropagationFormat[] } {
  const raw = env.MESH_TRACE_PROPAGATION?.trim();
  if (raw === undefined || raw === '') return {};
  try {
    return { propagation: parsePropagation(raw) };
  } catch (err) {
    const message = (err as Error).message.replace(/^MESH_TRACE_PROPAGATION: /, '');
    throw new ConfigError('env', [{ path: 'MESH_TRACE_PROPAGATION', message }]);
  }
}
