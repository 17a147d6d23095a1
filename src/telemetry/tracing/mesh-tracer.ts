/**
 * The mesh's tracer: a CLIENT span per logical outbound call, a SERVER span
 * per inbound request, and the trace headers between them. It uses only
 * @opentelemetry/api, so spans go wherever the application's tracer
 * provider sends them, and nowhere (at almost no cost) when it has none.
 *
 * Cost when unused. With no provider registered (asked of the api's
 * global proxy each time, see provider-presence.ts, so registering one
 * later is noticed on the next request) the mesh starts no span at all: it
 * builds no name, no attributes and no trace object of its own, unless
 * there is an incoming context to pass on, and an inbound request with no
 * trace header costs a handful of loads. When the tracer is not the api's
 * proxy, whether anything records is learned from the spans themselves (the
 * no-op tracer returns the parent's own span context, or the invalid one).
 *
 * No parent, no provider: no trace is originated. Envoy originates one
 * because Envoy is the tracer and reports its spans; here nobody would
 * record them, and a made-up `traceparent` would impose its sampling
 * decision (sampled or not) on every service downstream.
 */
import {
  type Attributes,
  type Context,
  INVALID_SPAN_CONTEXT,
  propagation,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  type TextMapPropagator,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { activeContext } from './active-context.js';
import { type ClientInfo, clientSpan, type ServerInfo, serverSpan } from './attributes.js';
import { B3_DEBUG_FLAG_KEY } from './b3.js';
import { type HeaderSetter, type HeaderSource, headerSetterSetter, headerSourceGetter } from './carrier.js';
import { ActiveClientTrace, type ClientTrace, type ClientTraceHost, NOOP_CLIENT_TRACE } from './client-trace.js';
import { isSpanContextValidFast } from './hex.js';
import { LinkedContext } from './linked-context.js';
import { appPropagatorRegistered, DEFAULT_PROPAGATION, MeshPropagator, mayCarryContext, type PropagationFormat } from './mesh-propagator.js';
import { ProviderPresence } from './provider-presence.js';
import { ActiveServerTrace, NOOP_SERVER_TRACE, type ServerTrace } from './server-trace.js';
import { isTracingSuppressed } from './suppress.js';

export const TRACER_NAME = 'proxyless';

export interface MeshTracerOptions {
  /** Where spans go; the global provider (as registered by the app, or none) by default. */
  readonly tracerProvider?: TracerProvider | undefined;
  /**
   * Formats to inject (default `tracecontext,baggage`; extraction accepts all),
   * used while the app has no global propagator of its own; or a propagator
   * to use always.
   */
  readonly propagation?: readonly PropagationFormat[] | TextMapPropagator | undefined;
  /** Attempts as span events on the call's span (default) or as child spans. */
  readonly attempts?: 'events' | 'spans' | undefined;
  /** The library's version, for the instrumentation scope. */
  readonly version?: string | undefined;
}

const CLIENT_OPTIONS = Object.freeze({ kind: SpanKind.CLIENT });
const SERVER_OPTIONS = Object.freeze({ kind: SpanKind.SERVER });
/** The name a span starts with while the mesh believes nothing records it; renamed if something does. */
const PENDING_NAME = 'proxyless';

export class MeshTracer implements ClientTraceHost {
  readonly tracer: Tracer;
  readonly attemptSpans: boolean;
  readonly #own: MeshPropagator;
  readonly #custom: TextMapPropagator | undefined;
  readonly #provider: ProviderPresence;
  /** Whether the last span came from a real tracer: only then are names and attributes built up front for samplers. */
  #likelyRecording = true;

  constructor(options: MeshTracerOptions = {}) {
    const { tracerProvider, version } = options;
    const provider = tracerProvider ?? trace.getTracerProvider();
    this.tracer = provider.getTracer(TRACER_NAME, version);
    this.#provider = new ProviderPresence(provider, this.tracer);
    this.attemptSpans = options.attempts === 'spans';
    const p = options.propagation;
    this.#custom = p !== undefined && 'inject' in p ? p : undefined;
    this.#own = new MeshPropagator(p !== undefined && !('inject' in p) ? p : DEFAULT_PROPAGATION);
  }

  /** Starts the trace of one logical outbound call, a child of the current context. */
  startClient(info: ClientInfo): ClientTrace {
    const parent = activeContext();
    if (this.#provider.absent) return this.#passOnClient(parent);
    if (isTracingSuppressed(parent)) return NOOP_CLIENT_TRACE;
    const built = this.#likelyRecording ? clientSpan(info) : undefined;
    const span =
      built === undefined
        ? this.tracer.startSpan(PENDING_NAME, CLIENT_OPTIONS, parent)
        : this.tracer.startSpan(built.name, { kind: SpanKind.CLIENT, attributes: built.attributes }, parent);
    if (span.isRecording()) {
      this.#likelyRecording = true;
      const b = built ?? rename(span, clientSpan(info));
      return new ActiveClientTrace(this, span, parent, true, b.name);
    }
    const sc = span.spanContext();
    if (this.#isValidNonRecording(sc, trace.getSpanContext(parent))) return new ActiveClientTrace(this, span, parent, false, '');
    // No trace to pass on; baggage alone still travels.
    return propagation.getBaggage(parent) === undefined ? NOOP_CLIENT_TRACE : new ActiveClientTrace(this, undefined, parent, false, '');
  }

  /** Starts the trace of one inbound request, continuing the trace its headers carry (W3C or B3). */
  startServer(headers: HeaderSource, info: ServerInfo): ServerTrace {
    const base = activeContext();
    if (this.#provider.absent) return this.#passOnServer(base, headers);
    if (isTracingSuppressed(base)) return NOOP_SERVER_TRACE;
    const ctx = this.extract(base, headers);
    const built = this.#likelyRecording ? serverSpan(info) : undefined;
    const span =
      built === undefined
        ? this.tracer.startSpan(PENDING_NAME, SERVER_OPTIONS, ctx)
        : this.tracer.startSpan(built.name, { kind: SpanKind.SERVER, attributes: built.attributes }, ctx);
    if (span.isRecording()) {
      this.#likelyRecording = true;
      const b = built ?? rename(span, serverSpan(info));
      return new ActiveServerTrace(span, trace.setSpan(LinkedContext.from(ctx), span), true, b.method);
    }
    const sc = span.spanContext();
    const remote = trace.getSpanContext(ctx);
    if (!this.#isValidNonRecording(sc, remote)) {
      return ctx === base ? NOOP_SERVER_TRACE : new ActiveServerTrace(span, ctx, false, '');
    }
    // The no-op tracer's span is the caller's own context, which `ctx` already holds.
    return new ActiveServerTrace(span, sc === remote ? ctx : trace.setSpan(LinkedContext.from(ctx), span), false, '');
  }

  /**
   * startClient with no provider: no span, the caller's trace (or baggage)
   * passed on as the no-op tracer's span would pass it. A call outside any
   * trace (the root context) is the shared no-op trace without a lookup.
   */
  #passOnClient(parent: Context): ClientTrace {
    if (parent === ROOT_CONTEXT) return NOOP_CLIENT_TRACE;
    if (isTracingSuppressed(parent)) return NOOP_CLIENT_TRACE;
    // A span of the caller's own (the app's, perhaps recording) stays out of the call's context: a wrapper, as the no-op tracer made.
    const sc = trace.getSpanContext(parent);
    if (sc !== undefined && isSpanContextValidFast(sc)) return new ActiveClientTrace(this, trace.wrapSpanContext(sc), parent, false, '');
    return propagation.getBaggage(parent) === undefined ? NOOP_CLIENT_TRACE : new ActiveClientTrace(this, undefined, parent, false, '');
  }

  /**
   * startServer with no provider: no span, only the incoming context passed
   * on, in the same trace object the no-op tracer's span gave. The common
   * case (root context, the mesh's own propagation, a header record with no
   * trace header) returns the shared no-op trace after four property loads
   * and one look at the global propagator.
   */
  #passOnServer(base: Context, headers: HeaderSource): ServerTrace {
    if (base === ROOT_CONTEXT && this.#custom === undefined && !mayCarryContext(headers) && !appPropagatorRegistered()) {
      return NOOP_SERVER_TRACE;
    }
    if (isTracingSuppressed(base)) return NOOP_SERVER_TRACE;
    const ctx = this.extract(base, headers);
    // Not recording, the trace reads only the span's context (its trace ID): the span already in `ctx` will do.
    const remote = trace.getSpan(ctx);
    if (remote !== undefined && isSpanContextValidFast(remote.spanContext())) return new ActiveServerTrace(remote, ctx, false, '');
    // Baggage alone (or an invalid context from an app propagator) still travels, with no trace ID.
    return ctx === base ? NOOP_SERVER_TRACE : new ActiveServerTrace(trace.wrapSpanContext(INVALID_SPAN_CONTEXT), ctx, false, '');
  }

  /** `ctx` with what `headers` carry: the app's global propagator if it has one, else the mesh's. */
  extract(ctx: Context, headers: HeaderSource): Context {
    if (this.#custom !== undefined) return this.#custom.extract(ctx, headers, headerSourceGetter);
    if (appPropagatorRegistered()) return propagation.extract(ctx, headers, headerSourceGetter);
    return this.#own.extract(ctx, headers, headerSourceGetter);
  }

  /** @internal For ClientTrace.inject. */
  injectFor(parent: Context, span: Span | undefined, setHeader: HeaderSetter): void {
    const custom = this.#custom;
    if (custom !== undefined || appPropagatorRegistered()) {
      const ctx = span === undefined ? parent : trace.setSpan(LinkedContext.from(parent), span);
      if (custom !== undefined) custom.inject(ctx, setHeader, headerSetterSetter);
      else propagation.inject(ctx, setHeader, headerSetterSetter);
      return;
    }
    const sc = span?.spanContext();
    const own = this.#own;
    // A context lookup saved when no B3 format is written (the default): only B3 carries the debug flag.
    const debug = own.writesB3 && parent.getValue(B3_DEBUG_FLAG_KEY) === 'd';
    own.injectSpanContext(sc, debug, propagation.getBaggage(parent), setHeader, headerSetterSetter);
  }

  /**
   * Whether a non-recording span still has a context to pass on, learning on
   * the way whether it came from the no-op tracer (which hands back the
   * parent's own span context, already checked valid, or the invalid one).
   */
  #isValidNonRecording(sc: SpanContext, parentSc: SpanContext | undefined): boolean {
    if (sc === parentSc || sc === INVALID_SPAN_CONTEXT) {
      this.#likelyRecording = false;
      return sc === parentSc;
    }
    // A sampled-out span from a real tracer: a fresh context of its own.
    return isSpanContextValidFast(sc);
  }
}

function rename<T extends { name: string; attributes: Attributes }>(span: Span, built: T): T {
  span.updateName(built.name);
  span.setAttributes(built.attributes);
  return built;
}
