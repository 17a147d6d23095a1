/**
 * A real OpenTelemetry SDK for tests: NodeTracerProvider (AsyncLocalStorage
 * context manager) exporting to memory. The propagator is left unregistered
 * by default, as in an app that set up tracing without choosing one, so the
 * mesh's own propagation is what runs.
 *
 * `meshSpans: 'lean'` registers proxyless/otel's provider instead, whose
 * span recorder records the mesh's own spans (with the SDK's default
 * resource, so exports stay synchronous as with the plain provider).
 */
import { context, propagation, type TextMapPropagator, trace } from '@opentelemetry/api';
import { defaultResource } from '@opentelemetry/resources';
import {
  AlwaysOnSampler,
  BasicTracerProvider,
  InMemorySpanExporter,
  NodeTracerProvider,
  ParentBasedSampler,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import { MeshTracerProvider } from '../../../../src/otel/mesh-tracer-provider.js';
import { spanLimitsFromEnv } from '../../../../src/otel/sdk-env.js';
import { PooledIdGenerator } from '../../../../src/telemetry/tracing/id-pool.js';

export interface TestSdk {
  readonly exporter: InMemorySpanExporter;
  readonly provider: NodeTracerProvider;
  spans(): ReadableSpan[];
  span(name: string): ReadableSpan;
  shutdown(): Promise<void>;
}

export function startTestSdk(propagator: TextMapPropagator | null = null, meshSpans: 'sdk' | 'lean' = 'sdk'): TestSdk {
  const exporter = new InMemorySpanExporter();
  const spanProcessors = [new SimpleSpanProcessor(exporter)];
  const provider =
    meshSpans === 'sdk'
      ? new NodeTracerProvider({ spanProcessors })
      : new MeshTracerProvider({
          resource: defaultResource(),
          sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
          spanLimits: spanLimitsFromEnv({}),
          idGenerator: new PooledIdGenerator(),
          spanProcessors,
          meshSpans: 'lean',
        });
  provider.register({ propagator });
  const spans = () => exporter.getFinishedSpans();
  return {
    exporter,
    provider,
    spans,
    span(name) {
      const found = spans().filter((s) => s.name === name);
      if (found.length !== 1) throw new Error(`expected one span named "${name}", found ${found.length}: ${spans().map((s) => s.name).join(', ')}`);
      return found[0]!;
    },
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

/** A provider that records to memory, not registered anywhere. */
export function memoryProvider(): { provider: BasicTracerProvider; exporter: InMemorySpanExporter } {
  const exporter = new InMemorySpanExporter();
  return { provider: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }), exporter };
}

/** The span ID of a span's parent, or undefined for a root. */
export function parentOf(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}
