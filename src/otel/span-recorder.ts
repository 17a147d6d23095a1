/**
 * The tracer `proxyless/otel` gives the mesh's own instrumentation scope
 * (`proxyless`): it samples with the provider's sampler, takes IDs from the
 * provider's ID generator and hands each span to the provider's span
 * processors, as the SDK's tracer does, but records into a RecordedSpan.
 * Every other scope in the process gets the SDK's own tracer.
 *
 * Why the mesh does not use the SDK's tracer: recording one span there
 * costs about 25,000 instructions on a request path of about 100,000 (two
 * copies of the attributes, a keyed store per copy, HrTime arrays at start
 * and end, the SDK's self-metrics), which alone is five times the mesh's
 * budget for telemetry fully on (docs/performance.md, "Telemetry fully on").
 */
import {
  type Context,
  context as contextApi,
  INVALID_SPAN_CONTEXT,
  type Link,
  type Span,
  type SpanContext,
  SpanKind,
  type SpanOptions,
  TraceFlags,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { type IdGenerator, type Sampler, SamplingDecision } from '@opentelemetry/sdk-trace-node';
import { isMeshSpanAttributes } from '../telemetry/tracing/attributes.js';
import { CheckedSpanContext, isCheckedSpanContext } from '../telemetry/tracing/checked-span-context.js';
import { isSpanContextValidFast } from '../telemetry/tracing/hex.js';
import { PooledIdGenerator } from '../telemetry/tracing/id-pool.js';
import { isTracingSuppressed } from '../telemetry/tracing/suppress.js';
import { RecordedSpan, type RecorderScope } from './recorded-span.js';

const EMPTY_OPTIONS: SpanOptions = Object.freeze({});
/** What samplers see for a span started without links: shared, and frozen so no sampler can fill it for the next span. */
const NO_LINKS: Link[] = Object.freeze([]) as unknown as Link[];

export class SpanRecorder implements Tracer {
  readonly #scope: RecorderScope;
  readonly #sampler: Sampler;
  readonly #ids: IdGenerator;
  /** The mesh's pooled IDs are lowercase hex and never all zero: the contexts made from them are checked ones. */
  readonly #idsChecked: boolean;

  constructor(scope: RecorderScope, sampler: Sampler, ids: IdGenerator) {
    this.#scope = scope;
    this.#sampler = sampler;
    this.#ids = ids;
    this.#idsChecked = ids instanceof PooledIdGenerator;
  }

  startSpan(name: string, options: SpanOptions = EMPTY_OPTIONS, ctx: Context = contextApi.active()): Span {
    if (options.root === true) ctx = trace.deleteSpan(ctx);
    if (isTracingSuppressed(ctx)) return trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
    const parent = trace.getSpanContext(ctx);
    // A parent this recorder or the mesh's propagators made is a checked context, valid without another look.
    const valid = parent !== undefined && isSpanContextValidFast(parent) ? parent : undefined;
    const spanId = this.#ids.generateSpanId();
    const traceId = valid === undefined ? this.#ids.generateTraceId() : valid.traceId;
    const kind = options.kind ?? SpanKind.INTERNAL;
    // The mesh's own record is kept by the span as it is (see RecordedSpan); samplers see what was given.
    let attributes = options.attributes ?? {};
    const links = options.links ?? NO_LINKS;
    const result = this.#sampler.shouldSample(ctx, traceId, name, kind, attributes, links);
    const sampled = result.decision === SamplingDecision.RECORD_AND_SAMPLED;
    const traceFlags = sampled ? TraceFlags.SAMPLED : TraceFlags.NONE;
    const traceState = result.traceState ?? valid?.traceState;
    // Checked only when the trace ID is too: pooled, or a checked parent's (the api's check lets uppercase IDs through).
    const sc: SpanContext =
      this.#idsChecked && (valid === undefined || isCheckedSpanContext(valid))
      ? new CheckedSpanContext(traceId, spanId, traceFlags, undefined, traceState)
      : { traceId, spanId, traceFlags, traceState };
    if (result.decision === SamplingDecision.NOT_RECORD) return trace.wrapSpanContext(sc);
    // A brand, not instanceof: the record may come from another copy of the package (and instanceof
    // took a generic builtin call, ~190 instructions, here).
    let meshBuilt = isMeshSpanAttributes(attributes);
    if (result.attributes !== undefined) {
      // A copy: the caller's object may be frozen, and is not the sampler's to change.
      attributes = { ...attributes, ...result.attributes };
      meshBuilt = false;
    }
    const span = new RecordedSpan(this.#scope, sc, name, kind, valid, attributes, options.links, options.startTime, meshBuilt);
    const processors = this.#scope.processors;
    for (let i = 0; i < processors.length; i++) processors[i]!.onStart(span, ctx);
    return span;
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, ctx: Context, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    a: SpanOptions | F,
    b?: Context | F,
    c?: F,
  ): ReturnType<F> {
    const fn = (c ?? (typeof b === 'function' ? b : a)) as F;
    const options = typeof a === 'function' ? EMPTY_OPTIONS : a;
    const ctx = typeof b === 'object' ? b : contextApi.active();
    const span = this.startSpan(name, options, ctx);
    return contextApi.with(trace.setSpan(ctx, span), fn as (span: Span) => ReturnType<F>, undefined, span);
  }
}
