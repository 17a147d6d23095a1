/**
 * `proxyless/otel`: a tracing SDK set up the standard way in one call, for
 * services that have none of their own. A NodeTracerProvider with a batch
 * processor and the OTLP/HTTP exporter, the mesh's pooled ID generator, the
 * mesh's propagator (OTEL_PROPAGATORS formats) and an AsyncLocalStorage
 * context manager, all registered globally.
 *
 * This is the only module that imports the OpenTelemetry SDK; the SDK
 * packages are optional peer dependencies and the library's main entry
 * never loads them (DESIGN.md, principle 8).
 *
 * What reads which variable:
 *  - here: OTEL_SDK_DISABLED, OTEL_PROPAGATORS;
 *  - the resource's env detector: OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES;
 *  - the provider: OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG, OTEL_SPAN_*_LIMIT;
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
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  type Sampler,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-node';
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
 * Sets up and registers the tracing SDK from the standard OTEL_* variables.
 * Call it once, before the mesh starts serving; `shutdown()` on exit so the
 * last batch is sent.
 */
export function startOtel(options: StartOtelOptions = {}): OtelHandle {
  if (sdkDisabled(process.env.OTEL_SDK_DISABLED)) {
    diag.info('proxyless/otel: OTEL_SDK_DISABLED=true, tracing SDK not started');
    return DISABLED;
  }
  const spanProcessors = options.spanProcessors ?? [new BatchSpanProcessor(options.exporter ?? new OTLPTraceExporter())];
  const provider = new NodeTracerProvider({
    resource: buildResource(options),
    idGenerator: new PooledIdGenerator(),
    spanProcessors,
    ...(options.sampler !== undefined ? { sampler: options.sampler } : {}),
  });
  const formats = options.propagators ?? propagatorsFromEnv(process.env.OTEL_PROPAGATORS);
  // `none` registers no propagator: the api's no-op one stays and the mesh falls back to its own formats.
  provider.register({ propagator: formats.length === 0 ? null : new MeshPropagator(formats) });
  return {
    provider,
    forceFlush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}

export { IdPool, PooledIdGenerator } from './telemetry/tracing/id-pool.js';
export { MeshPropagator, type PropagationFormat } from './telemetry/tracing/mesh-propagator.js';
