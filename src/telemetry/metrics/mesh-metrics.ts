/**
 * The mesh's own metrics (`proxyless_*`): pipeline decisions from the
 * diagnostics channels, endpoint health and breaker state read from a
 * MeshStateSource at scrape time, and config/discovery counters the mesh
 * bumps directly.
 *
 * Nothing happens at import or construction beyond creating the metrics:
 * channel subscriptions are made in start() and removed in close().
 * diagnostics_channel is process-wide, so a started MeshMetrics counts the
 * events of every mesh in the process; the messages carry no mesh id.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { Gauge, Registry } from 'prom-client';
import { CHANNELS, type ChannelName } from '../events.js';
import type { AnyRegistry } from './any-registry.js';
import { CappedCounter, labelValue } from './label-cap.js';
import type { MeshStateSource } from './mesh-state.js';
import { overflowCounter } from './overflow-counter.js';
import { PipelineEventMetrics } from './pipeline-event-metrics.js';

export interface MeshMetricsOptions {
  /** Default: a new Registry owned by this instance (never prom-client's global one). */
  registry?: AnyRegistry;
  /** Read at scrape time for `proxyless_endpoints` (and breaker states when it has `circuits()`). */
  state?: MeshStateSource;
}

type Handler = (message: unknown, name: string | symbol) => void;

export class MeshMetrics {
  readonly registry: AnyRegistry;
  #state: MeshStateSource | undefined;
  readonly #events: PipelineEventMetrics;
  readonly #configUpdates: CappedCounter<'source' | 'result'>;
  readonly #discoveryErrors: CappedCounter<'destination_service_name' | 'provider'>;
  #subscribed: [string, Handler][] | undefined;

  constructor(opts: MeshMetricsOptions = {}) {
    this.registry = opts.registry ?? new Registry();
    this.#state = opts.state;
    const overflow = overflowCounter(this.registry);
    this.#events = new PipelineEventMetrics(this.registry, overflow, () => this.#state?.circuits?.());
    this.#configUpdates = new CappedCounter(
      this.registry,
      overflow,
      'proxyless_config_updates_total',
      'Configuration updates by source, accepted or rejected by validation.',
      ['source', 'result'],
    );
    this.#discoveryErrors = new CappedCounter(
      this.registry,
      overflow,
      'proxyless_discovery_errors_total',
      'Endpoint discovery failures by destination and provider.',
      ['destination_service_name', 'provider'],
    );

    const endpoints: Gauge<'destination_service_name' | 'health'> = new Gauge({
      name: 'proxyless_endpoints',
      help: 'Endpoints known per destination, by health (healthy, unhealthy, ejected, draining).',
      labelNames: ['destination_service_name', 'health'],
      registers: [this.registry],
      collect: () => {
        const state = this.#state;
        if (state === undefined) return;
        // Rebuilt on every scrape: a service that went away leaves no stale series.
        endpoints.reset();
        for (const e of state.endpoints()) {
          endpoints.inc({ destination_service_name: labelValue(e.service), health: labelValue(e.health) }, e.count);
        }
      },
    });
  }

  /** Sets (or replaces) where endpoint and breaker state is read from. */
  setStateSource(state: MeshStateSource | undefined): void {
    this.#state = state;
  }

  /** Subscribes to the pipeline's diagnostics channels; calling it again does nothing. */
  start(): void {
    if (this.#subscribed !== undefined) return;
    const subscribed: [string, Handler][] = [];
    for (const key of Object.keys(CHANNELS) as ChannelName[]) {
      const handler: Handler | undefined = this.#events.handlers[key];
      if (handler === undefined) continue;
      subscribe(CHANNELS[key], handler);
      subscribed.push([CHANNELS[key], handler]);
    }
    this.#subscribed = subscribed;
  }

  /** Removes the subscriptions; the metrics keep their values and stay registered. */
  close(): void {
    const subscribed = this.#subscribed;
    if (subscribed === undefined) return;
    this.#subscribed = undefined;
    for (const [name, handler] of subscribed) unsubscribe(name, handler);
  }

  /** A config update from `source` (file, xds, env, code, …) was accepted or rejected. */
  configUpdate(source: string, accepted: boolean): void {
    this.#configUpdates.inc({ source: labelValue(source), result: accepted ? 'accepted' : 'rejected' });
  }

  /** Discovery for `service` through `provider` (static, dns, k8s, xds) failed. */
  discoveryError(service: string, provider: string): void {
    this.#discoveryErrors.inc({ destination_service_name: labelValue(service), provider: labelValue(provider) });
  }
}
