/**
 * The NodeTracerProvider `proxyless/otel` registers: the SDK's provider for
 * every instrumentation scope but the mesh's own, which it serves with the
 * span recorder over the same sampler, ID generator, limits, resource and
 * span processors. A trace can mix both kinds of span freely: parents are
 * read from the context's span context, whichever object holds it.
 */
import type { Tracer } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import { type IdGenerator, NodeTracerProvider, type Sampler, type SpanProcessor } from '@opentelemetry/sdk-trace-node';
import { TRACER_NAME } from '../telemetry/tracing/mesh-tracer.js';
import type { FullSpanLimits } from './sdk-env.js';
import { SpanRecorder } from './span-recorder.js';

export interface MeshTracerProviderConfig {
  readonly resource: Resource;
  readonly sampler: Sampler;
  readonly spanLimits: FullSpanLimits;
  readonly idGenerator: IdGenerator;
  readonly spanProcessors: SpanProcessor[];
  /** `sdk`: the mesh's spans go through the SDK's tracer too (default `lean`). */
  readonly meshSpans: 'lean' | 'sdk';
}

export class MeshTracerProvider extends NodeTracerProvider {
  readonly #config: MeshTracerProviderConfig;
  /** One recorder per library version asked for, as the SDK keeps one tracer per scope. */
  readonly #recorders = new Map<string, SpanRecorder>();

  constructor(config: MeshTracerProviderConfig) {
    const { resource, sampler, spanLimits, idGenerator, spanProcessors } = config;
    super({ resource, sampler, spanLimits, idGenerator, spanProcessors });
    this.#config = config;
  }

  override getTracer(name: string, version?: string, options?: { schemaUrl?: string }): Tracer {
    const c = this.#config;
    if (name !== TRACER_NAME || c.meshSpans === 'sdk' || options?.schemaUrl !== undefined) return super.getTracer(name, version, options);
    const key = version ?? '';
    let recorder = this.#recorders.get(key);
    if (recorder === undefined) {
      const scope = {
        resource: c.resource,
        instrumentationScope: version === undefined ? { name } : { name, version },
        limits: c.spanLimits,
        processors: c.spanProcessors,
      };
      recorder = new SpanRecorder(scope, c.sampler, c.idGenerator);
      this.#recorders.set(key, recorder);
    }
    return recorder;
  }
}
