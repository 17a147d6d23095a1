/**
 * A mesh's inbound side: the one pipeline its servers and framework
 * adapters share, the per-route metrics, and the drain that runs on
 * SIGTERM or `mesh.close()`. Created by the mesh on first use, so a
 * process that only makes calls never starts a monitor or a signal handler.
 */
import type { InboundSettings } from '../config/inbound-schema.js';
import type { AnyRegistry } from '../telemetry/metrics/any-registry.js';
import { type Drainable, drainableServer, InboundDrain, type NodeServerLike } from './drain.js';
import type { InboundGuard } from './inbound-guard.js';
import { InboundPipeline } from './inbound-pipeline.js';
import type { InboundTelemetry } from './inbound-telemetry.js';
import { RouteMetrics } from './route-metrics.js';

export interface MeshInboundParts {
  readonly telemetry: Omit<InboundTelemetry, 'routes'>;
  /** Where the per-route metrics are registered; undefined with metrics off. */
  readonly registry: AnyRegistry | undefined;
  readonly guard: () => InboundGuard | undefined;
  readonly settings: InboundSettings | undefined;
  /** What a drain signal runs: the mesh's close(). */
  readonly shutdown: (signal: NodeJS.Signals) => Promise<void>;
}

const DEFAULT_DRAIN = { timeout: 10_000, delay: 0, signals: ['SIGTERM'] as NodeJS.Signals[] };

export class MeshInbound {
  readonly pipeline: InboundPipeline;
  readonly #drain: InboundDrain;
  #settings: InboundSettings | undefined;

  constructor(parts: MeshInboundParts) {
    let pipeline: InboundPipeline | undefined;
    const routes = parts.registry === undefined ? undefined : new RouteMetrics(parts.registry, () => pipeline?.inFlight ?? 0);
    pipeline = new InboundPipeline({ telemetry: { ...parts.telemetry, routes }, guard: parts.guard });
    this.pipeline = pipeline;
    this.#drain = new InboundDrain(pipeline, parts.shutdown);
    this.configure(parts.settings);
  }

  /** A config update: new limits for the next request, new drain settings for the next drain. */
  configure(settings: InboundSettings | undefined): void {
    this.#settings = settings;
    this.pipeline.configure(settings);
    this.#drain.configure(settings?.drain.signals ?? DEFAULT_DRAIN.signals);
  }

  /**
   * Drain `server` with the mesh (SIGTERM, `mesh.close()`): for servers the
   * application creates itself (`app.listen()`). The framework adapters
   * attach the server their first request arrives on.
   */
  attach(server: NodeServerLike): void {
    this.#drain.track(server, drainableServer(server));
  }

  /** @internal The mesh's own servers bring their own drain. */
  attachDrainable(key: object, server: Drainable): void {
    this.#drain.track(key, server);
  }

  detach(server: object): void {
    this.#drain.untrack(server);
  }

  /** True once the drain began: readiness is false. */
  get draining(): boolean {
    return this.#drain.started;
  }

  /** Drain every attached server; resolves when they are closed. */
  async shutdown(): Promise<void> {
    const d = this.#settings?.drain ?? DEFAULT_DRAIN;
    await this.#drain.drain({ timeout: d.timeout, delay: d.delay });
    this.pipeline.close();
  }

  /** Stop at once: no drain; the signal handlers and the loop monitor go. */
  destroy(): void {
    this.#drain.destroy();
    this.pipeline.close();
  }
}
