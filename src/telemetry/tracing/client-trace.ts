/**
 * One logical outbound call's trace: a CLIENT span from the first attempt
 * to the committed response, and its attempts (see docs/tracing.md for why
 * attempts are span events by default and child spans on request).
 *
 * Events are only written once a call has a second attempt: the first
 * attempt's start and end are kept in fields and flushed as events when a
 * retry or hedge begins. A call that succeeds first time (nearly all of
 * them) costs one span and no events.
 *
 * Attempt and end times are the call's own readings of the mesh's
 * monotonic clock (when each attempt started and got its verdict, when the
 * call ended), handed to the tracer as performance timestamps, which
 * tracers take as times on that clock (the SDK's rule: a number no later
 * than performance.now()). A clock read costs ~50 ns, and sharing the
 * call's saves three per call. The call's span starts at its own reading:
 * a start time given to the SDK's span makes it stamp later events that
 * come without a time (an application's, on the active span) with
 * Date.now(), in whole milliseconds. Attempt spans, which no application
 * code reaches, start at their attempt's reading.
 */
import { type Attributes, type Context, type Span, SpanKind, type Tracer, trace } from '@opentelemetry/api';
import { monotonicNow } from '../../net/monotonic-clock.js';
import type { HeaderSetter } from './carrier.js';
import { LinkedContext } from './linked-context.js';
import { errorType, markOutcome, responseErrorType, type TraceResult } from './outcome.js';

/** What a client trace needs from the MeshTracer that made it. */
export interface ClientTraceHost {
  readonly tracer: Tracer;
  readonly attemptSpans: boolean;
  /** Writes the trace headers for `span` (or only baggage, without one) under `parent`. */
  injectFor(parent: Context, span: Span | undefined, setHeader: HeaderSetter): void;
}

export interface ClientTrace {
  /** The trace ID for logs and the request record; undefined when the call carries no trace. */
  readonly traceId: string | undefined;
  /** True when the call's span is recorded (and attributes and events are worth building). */
  readonly recording: boolean;
  /**
   * Attempt `n` (0-based) starts on `endpoint` (`address:port`); `retryReason`
   * when it is a retry or hedge; `at` is monotonicNow() when it started (now if absent).
   */
  attemptStart(n: number, endpoint: string, retryReason?: string, at?: number): void;
  /** Attempt `n` got a response with this HTTP status, or failed with this error, at `at` (monotonicNow(); now if absent). */
  attemptEnd(n: number, outcome: number | Error, grpcStatus?: number, at?: number): void;
  /** Writes the trace headers for the attempt started last, so its server span parents correctly. */
  inject(setHeader: HeaderSetter): void;
  /** The call is over (idempotent). */
  end(result: TraceResult): void;
}

/** The trace of a call that carries none: no provider and no incoming context, or tracing suppressed. */
export class NoopClientTrace implements ClientTrace {
  readonly traceId = undefined;
  readonly recording = false;
  attemptStart(): void {}
  attemptEnd(): void {}
  inject(): void {}
  end(): void {}
}

/** Shared by every call that carries no trace: it holds nothing. */
export const NOOP_CLIENT_TRACE: ClientTrace = new NoopClientTrace();

function outcomeAttributes(n: number, outcome: number | Error, grpcStatus: number | undefined): Attributes {
  const attrs: Attributes = { 'proxyless.attempt': n + 1 };
  if (typeof outcome === 'number') {
    if (outcome > 0) attrs['http.response.status_code'] = outcome;
    // As the call's span has it: a retried 503 or UNAVAILABLE attempt says so on its own event.
    const type = responseErrorType(outcome, grpcStatus, 'client');
    if (type !== undefined) attrs['error.type'] = type;
  } else {
    attrs['error.type'] = errorType(outcome);
    attrs['exception.message'] = outcome.message;
  }
  if (grpcStatus !== undefined) attrs['rpc.grpc.status_code'] = grpcStatus;
  return attrs;
}

function startAttributes(n: number, endpoint: string, retryReason: string | undefined): Attributes {
  const attrs: Attributes = { 'proxyless.attempt': n + 1, 'proxyless.endpoint': endpoint };
  if (retryReason !== undefined) attrs['proxyless.retry_reason'] = retryReason;
  return attrs;
}

export class ActiveClientTrace implements ClientTrace {
  readonly recording: boolean;
  readonly #host: ClientTraceHost;
  /** Undefined for a call that carries baggage but no trace. */
  readonly #span: Span | undefined;
  readonly #parent: Context;
  readonly #name: string;
  #context: Context | undefined;
  #attempts = 0;
  #endpoint: string | undefined;
  #retryReason: string | undefined;
  #ended = false;
  // Events mode: attempt 0, held back until a second attempt makes events worth writing.
  #eventsOn = false;
  #firstStart = Number.NaN;
  #firstEndpoint = '';
  #firstEnd = Number.NaN;
  #firstOutcome: number | Error | undefined;
  #firstGrpc: number | undefined;
  // Spans mode: one child span per attempt, by attempt number.
  #attemptSpans: Array<Span | undefined> | undefined;
  #current: Span | undefined;

  constructor(host: ClientTraceHost, span: Span | undefined, parent: Context, recording: boolean, name: string) {
    this.#host = host;
    this.#span = span;
    this.#parent = parent;
    this.recording = recording;
    this.#name = name;
  }

  get traceId(): string | undefined {
    return this.#span?.spanContext().traceId;
  }

  /** The caller's context with this call's span, built once and only when asked for. */
  #spanContext(): Context {
    this.#context ??= this.#span === undefined ? this.#parent : trace.setSpan(LinkedContext.from(this.#parent), this.#span);
    return this.#context;
  }

  attemptStart(n: number, endpoint: string, retryReason?: string, at: number = monotonicNow()): void {
    if (n >= this.#attempts) this.#attempts = n + 1;
    this.#endpoint = endpoint;
    if (retryReason !== undefined) this.#retryReason = retryReason;
    if (!this.recording) return;
    const span = this.#span!;
    if (this.#host.attemptSpans) {
      const attrs = startAttributes(n, endpoint, retryReason);
      if (n > 0) attrs['http.request.resend_count'] = n;
      const child = this.#host.tracer.startSpan(
        `${this.#name} (attempt ${n + 1})`,
        { kind: SpanKind.CLIENT, attributes: attrs, startTime: at },
        this.#spanContext(),
      );
      this.#attemptSpans ??= [];
      this.#attemptSpans[n] = child;
      this.#current = child;
      return;
    }
    if (!this.#eventsOn && n === 0) {
      this.#firstStart = at;
      this.#firstEndpoint = endpoint;
      return;
    }
    if (!this.#eventsOn) this.#flushFirst();
    span.addEvent('proxyless.attempt.start', startAttributes(n, endpoint, retryReason), at);
  }

  attemptEnd(n: number, outcome: number | Error, grpcStatus?: number, at: number = monotonicNow()): void {
    if (!this.recording) return;
    if (this.#host.attemptSpans) {
      const child = this.#attemptSpans?.[n];
      if (child === undefined) return;
      this.#attemptSpans![n] = undefined;
      markOutcome(child, typeof outcome === 'number' ? { status: outcome, grpcStatus } : { error: outcome, grpcStatus }, 'client');
      child.end(at);
      return;
    }
    if (!this.#eventsOn && n === 0) {
      this.#firstEnd = at;
      this.#firstOutcome = outcome;
      this.#firstGrpc = grpcStatus;
      return;
    }
    this.#span!.addEvent('proxyless.attempt.end', outcomeAttributes(n, outcome, grpcStatus), at);
  }

  inject(setHeader: HeaderSetter): void {
    this.#host.injectFor(this.#parent, this.#current ?? this.#span, setHeader);
  }

  end(result: TraceResult): void {
    if (this.#ended) return;
    this.#ended = true;
    if (!this.recording) return;
    const span = this.#span!;
    // Always a time: with a start time given, the SDK would end at Date.now(), in whole milliseconds.
    const at = result.endedAt ?? monotonicNow();
    // Hedges that lost (or attempts the caller abandoned) end with the call.
    if (this.#attemptSpans !== undefined) for (const child of this.#attemptSpans) child?.end(at);
    // A call refused before any attempt (open circuit, no endpoint) has no attempt to count.
    if (this.#attempts > 0) span.setAttribute('proxyless.attempt', this.#attempts);
    if (this.#attempts > 1) span.setAttribute('http.request.resend_count', this.#attempts - 1);
    if (this.#endpoint !== undefined) span.setAttribute('proxyless.endpoint', this.#endpoint);
    if (this.#retryReason !== undefined) span.setAttribute('proxyless.retry_reason', this.#retryReason);
    markOutcome(span, result, 'client');
    span.end(at);
  }

  /** Writes attempt 0's held-back start (and end, if it has ended) as events. */
  #flushFirst(): void {
    this.#eventsOn = true;
    if (Number.isNaN(this.#firstStart)) return;
    const span = this.#span!;
    span.addEvent('proxyless.attempt.start', startAttributes(0, this.#firstEndpoint, undefined), this.#firstStart);
    if (this.#firstOutcome !== undefined) {
      span.addEvent('proxyless.attempt.end', outcomeAttributes(0, this.#firstOutcome, this.#firstGrpc), this.#firstEnd);
    }
  }
}
