/**
 * One inbound request's trace: a SERVER span whose parent is the context
 * the caller sent (W3C or B3), and the context the handler runs in, so the
 * calls it makes become children of that span, or, with no provider
 * registered, still carry the caller's trace on to the next hop.
 */
import { type Context, INVALID_TRACEID, type Span } from '@opentelemetry/api';
import { monotonicNow } from '../../net/monotonic-clock.js';
import { runInContext } from './active-context.js';
import { markOutcome, type TraceResult } from './outcome.js';

export interface ServerTrace {
  /** The trace ID for logs and the request record; undefined when the request carries no trace. */
  readonly traceId: string | undefined;
  /** True when the span is recorded. */
  readonly recording: boolean;
  /** Runs the handler (`fn`) in the request's trace context. */
  runInContext<T>(fn: () => T): T;
  /** The same, passing `arg` to `fn` (no closure per request). */
  runInContext<A, T>(fn: (arg: A) => T, arg: A): T;
  /** The route template the framework matched (`/users/:id`): sets `http.route` and names the span by it. */
  setRoute(route: string): void;
  /** The response is complete, or the request failed (idempotent). */
  end(result: TraceResult): void;
}

/** A request with no trace and no provider: the handler runs as it would without the mesh. */
export const NOOP_SERVER_TRACE: ServerTrace = Object.freeze({
  traceId: undefined,
  recording: false,
  runInContext<A, T>(fn: (arg?: A) => T, arg?: A): T {
    return fn(arg);
  },
  setRoute() {},
  end() {},
});

export class ActiveServerTrace implements ServerTrace {
  readonly recording: boolean;
  readonly #span: Span;
  readonly #context: Context;
  /** The span name's method part (`GET`, or `HTTP` for unknown methods); empty for gRPC. */
  readonly #method: string;
  #ended = false;

  constructor(span: Span, ctx: Context, recording: boolean, method: string) {
    this.#span = span;
    this.#context = ctx;
    this.recording = recording;
    this.#method = method;
  }

  get traceId(): string | undefined {
    const id = this.#span.spanContext().traceId;
    // A request that brought baggage but no trace has the invalid span context.
    return id === INVALID_TRACEID ? undefined : id;
  }

  runInContext<T>(fn: () => T): T;
  runInContext<A, T>(fn: (arg: A) => T, arg: A): T;
  runInContext<A, T>(fn: (arg?: A) => T, arg?: A): T {
    return runInContext(this.#context, fn, arg);
  }

  setRoute(route: string): void {
    if (!this.recording || this.#method === '') return;
    this.#span.setAttribute('http.route', route);
    this.#span.updateName(`${this.#method} ${route}`);
  }

  end(result: TraceResult): void {
    if (this.#ended) return;
    this.#ended = true;
    if (!this.recording) return;
    markOutcome(this.#span, result, 'server');
    // Always a time: with a start time given, the SDK would end at Date.now(), in whole milliseconds.
    this.#span.end(result.endedAt ?? monotonicNow());
  }
}
