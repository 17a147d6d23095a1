/**
 * A span context the mesh built from IDs it had already checked: parsed
 * from a valid `traceparent` or B3 header, or made by proxyless/otel's
 * recorder from pooled IDs (never all zero) and a valid parent's trace ID.
 *
 * Such a context is valid by construction, and says so on its prototype,
 * so isSpanContextValidFast answers without reading the IDs again. A traced
 * request asks that of the same context several times (the recorder, the
 * sampler, the tracer's check of a sampled-out span), and each reading of
 * two sliced IDs cost ~1,100 instructions even in the mesh's one-pass loop.
 *
 * The brand is a registered symbol, not instanceof: the package's ESM and
 * CommonJS builds may each carry a copy of this class. Like the SDK's own
 * span contexts, these are the spans' own objects: changing one's IDs
 * after the fact is not supported.
 */
import type { SpanContext, TraceState } from '@opentelemetry/api';

const CHECKED: unique symbol = Symbol.for('proxyless.checkedSpanContext');
/** Where a context keeps its `traceparent`: a symbol, so logging or serializing a span context shows only the api's fields. */
export const TRACEPARENT_OF: unique symbol = Symbol('proxyless traceparent');

export class CheckedSpanContext implements SpanContext {
  traceId: string;
  spanId: string;
  traceFlags: number;
  traceState: TraceState | undefined;
  isRemote: boolean | undefined;
  /**
   * The `traceparent` that writes this context, once known: the header it
   * was parsed from, or the first one formatted for it. A mesh that only
   * passes the caller's trace on forwards the header it received, and a
   * retried call writes its span's header once: formatting builds a
   * five-part string that the header check and the socket write then
   * flatten, ~900 instructions a call. Span contexts are immutable (the
   * OpenTelemetry spec's word), so the header never goes stale.
   */
  [TRACEPARENT_OF]: string | undefined;

  constructor(traceId: string, spanId: string, traceFlags: number, isRemote: boolean | undefined, traceState: TraceState | undefined) {
    this.traceId = traceId;
    this.spanId = spanId;
    this.traceFlags = traceFlags;
    // Every field always set: one shape for every context, so the sites that read them stay monomorphic.
    this.traceState = traceState;
    this.isRemote = isRemote;
    this[TRACEPARENT_OF] = undefined;
  }

  static {
    Object.defineProperty(CheckedSpanContext.prototype, CHECKED, { value: true });
  }
}

/** Whether `sc` is a CheckedSpanContext, from this copy of the package or another. */
export function isCheckedSpanContext(sc: SpanContext): boolean {
  return (sc as { [CHECKED]?: boolean })[CHECKED] === true;
}
