/**
 * Tracing for the mesh: OpenTelemetry spans and W3C / B3 propagation on
 * @opentelemetry/api alone. The SDK set-up lives in the separate
 * `proxyless/otel` entry point (src/otel.ts).
 */
export type { ClientInfo, ServerInfo } from './attributes.js';
export { B3MultiPropagator, B3SinglePropagator } from './b3.js';
export { BaggagePropagator } from './baggage.js';
export type { HeaderGetter, HeaderSetter, HeaderSource, HeaderValue } from './carrier.js';
export type { ClientTrace } from './client-trace.js';
export { IdPool, PooledIdGenerator } from './id-pool.js';
export {
  appPropagatorRegistered,
  DEFAULT_PROPAGATION,
  MeshPropagator,
  PROPAGATION_FORMATS,
  type PropagationFormat,
  parsePropagation,
} from './mesh-propagator.js';
export { MeshTracer, type MeshTracerOptions, TRACER_NAME } from './mesh-tracer.js';
export type { TraceResult } from './outcome.js';
export type { ServerTrace } from './server-trace.js';
export { isTracingSuppressed, SUPPRESS_TRACING_KEY, suppressTracing, withoutTracing } from './suppress.js';
export { TraceContextPropagator } from './trace-context.js';
