/**
 * `proxyless/otel`: a tracing SDK set up the standard way in one call, for
 * services that have none of their own. A NodeTracerProvider with a batch
 * processor and the OTLP/HTTP exporter, the mesh's pooled ID generator, the
 * mesh's propagator (OTEL_PROPAGATORS formats) and an AsyncLocalStorage
 * context manager, all registered globally. The mesh's own spans are
 * recorded by its lean span recorder (otel/span-recorder.ts) and go through
 * the same sampler, processors and exporter as every other span.
 *
 * This is the only module that imports the OpenTelemetry SDK; the SDK
 * packages are optional peer dependencies and the library's main entry
 * never loads them (DESIGN.md, principle 8).
 *
 * What reads which variable:
 *  - here: OTEL_SDK_DISABLED, OTEL_PROPAGATORS, and for the provider and the
 *    mesh's recorder alike OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG and
 *    the OTEL_*_LIMIT span limits;
 *  - the resource's env detector: OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES;
 *  - the exporter: OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, _HEADERS, _TIMEOUT, _COMPRESSION;
 *  - the batch processor: OTEL_BSP_*.
 */
import { diag } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import {
  defaultResource,
  detectResources,
  envDetector,
  hostDetector,
  processDetector,
  type Resource,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import { BatchSpanProcessor, type NodeTracerProvider, type Sampler, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-node';
import { MeshTracerProvider } from './otel/mesh-tracer-provider.js';
import { samplerFromEnv, spanLimitsFromEnv } from './otel/sdk-env.js';
import { PooledIdGenerator } from './telemetry/tracing/id-pool.js';
import { MeshPropagator, type PropagationFormat } from './telemetry/tracing/mesh-propagator.js';
import { propagatorsFromEnv, sdkDisabled } from './telemetry/tracing/otel-env.js';

export interface StartOtelOptions {
  /** `service.name`; wins over OTEL_SERVICE_NAME, as code options win over env everywhere in proxyless. */
  readonly serviceName?: string | undefined;
  /** Extra resource attributes, merged last. */
  readonly resourceAttributes?: Readonly<Record<string, string | number | boolean>> | undefined;
  /** Replaces the OTLP/HTTP exporter (another backend, or an in-memory one in tests). */
  readonly exporter?: SpanExporter | undefined;
  /** Processors used instead of the default BatchSpanProcessor around the exporter. */
  readonly spanProcessors?: SpanProcessor[] | undefined;
  /** Replaces the sampler the SDK builds from OTEL_TRACES_SAMPLER. */
  readonly sampler?: Sampler | undefined;
  /** Formats the registered propagator injects; OTEL_PROPAGATORS (default tracecontext,baggage) otherwise. */
  readonly propagators?: readonly PropagationFormat[] | undefined;
  /**
   * Who records the mesh's own spans: `lean` (default), the mesh's span
   * recorder, or `sdk`, the SDK's tracer, as for every other scope. The
   * spans and what they export are the same; `lean` costs a fraction.
   */
  readonly meshSpans?: 'lean' | 'sdk' | undefined;
}

export interface OtelHandle {
  /** The registered provider; undefined when OTEL_SDK_DISABLED=true. */
  readonly provider: NodeTracerProvider | undefined;
  /** Exports every finished span now. */
  forceFlush(): Promise<void>;
  /** Flushes and stops exporting; spans after this are dropped. */
  shutdown(): Promise<void>;
}

const DISABLED: OtelHandle = Object.freeze({
  provider: undefined,
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
});

function buildResource(options: StartOtelOptions): Resource {
  let resource = defaultResource().merge(detectResources({ detectors: [envDetector, processDetector, hostDetector] }));
  if (options.serviceName !== undefined) resource = resource.merge(resourceFromAttributes({ 'service.name': options.serviceName }));
  if (options.resourceAttributes !== undefined) resource = resource.merge(resourceFromAttributes({ ...options.resourceAttributes }));
  return resource;
}

/**
 * The tracer provider `startOtel` registers, built from the same options
 * and OTEL_* variables but not registered: for a mesh given it as
 * `telemetry.tracing.tracerProvider`, or for registering it yourself.
 */
export function createOtelProvider(options: StartOtelOptions = {}): NodeTracerProvider {
  return new MeshTracerProvider({
    resource: buildResource(options),
    sampler: options.sampler ?? samplerFromEnv(process.env),
    spanLimits: spanLimitsFromEnv(process.env),
    idGenerator: new PooledIdGenerator(),
    spanProcessors: options.spanProcessors ?? [new BatchSpanProcessor(options.exporter ?? new OTLPTraceExporter())],
    meshSpans: options.meshSpans ?? 'lean',
  });
}

/**
 * Sets up and registers the tracing SDK from the standard OTEL_* variables.
 * Call it once, before the mesh starts serving; `shutdown()` on exit so the
 * last batch is sent.
 */
export function startOtel(options: StartOtelOptions = {}): OtelHandle {
  if (sdkDisabled(process.env.OTEL_SDK_DISABLED)) {
    diag.info('proxyless/otel: OTEL_SDK_DISABLED=true, tracing SDK not started');
    return DISABLED;
  }
  const provider = createOtelProvider(options);
  const formats = options.propagators ?? propagatorsFromEnv(process.env.OTEL_PROPAGATORS);
  // `none` registers no propagator: the api's no-op one stays and the mesh falls back to its own formats.
  provider.register({ propagator: formats.length === 0 ? null : new MeshPropagator(formats) });
  return {
    provider,
    forceFlush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}

export { IdPool, PooledIdGenerator, type RandomFill } from './telemetry/tracing/id-pool.js';
export { MeshPropagator, type PropagationFormat } from './telemetry/tracing/mesh-propagator.js';
