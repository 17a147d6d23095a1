/**
 * The mesh's propagator: extraction accepts every format it knows (W3C
 * Trace Context preferred when a request carries both it and B3, plus W3C
 * baggage), injection writes the formats configured, W3C Trace Context and
 * baggage by default. The format names are OTEL_PROPAGATORS' own, so
 * `MESH_TRACE_PROPAGATION` reads like it.
 */
import {
  type Baggage,
  type Context,
  isSpanContextValid,
  propagation,
  type SpanContext,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
  trace,
} from '@opentelemetry/api';
import {
  B3,
  B3_DEBUG_FLAG_KEY,
  contextWithB3,
  extractB3Multi,
  extractB3Single,
  injectB3Multi,
  injectB3Single,
  X_B3_FLAGS,
  X_B3_SAMPLED,
  X_B3_SPAN_ID,
  X_B3_TRACE_ID,
} from './b3.js';
import { BAGGAGE, BaggagePropagator, formatBaggage } from './baggage.js';
import { type HeaderSource, joined, single } from './carrier.js';
import { LinkedContext } from './linked-context.js';
import { otelGlobalsRegistered } from './otel-registry.js';
import { isTracingSuppressed } from './suppress.js';
import { extractTraceContext, injectTraceContext, TRACEPARENT, TRACESTATE } from './trace-context.js';

export type PropagationFormat = 'tracecontext' | 'baggage' | 'b3' | 'b3multi';

export const PROPAGATION_FORMATS: readonly PropagationFormat[] = ['tracecontext', 'baggage', 'b3', 'b3multi'];
export const DEFAULT_PROPAGATION: readonly PropagationFormat[] = ['tracecontext', 'baggage'];

/**
 * A comma-separated list of formats (`tracecontext,baggage,b3,b3multi`, or
 * `none` for no trace headers at all). Throws on an unknown name, naming
 * the ones allowed; `source` says where the value came from.
 */
export function parsePropagation(value: string, source = 'MESH_TRACE_PROPAGATION'): PropagationFormat[] {
  const out: PropagationFormat[] = [];
  for (const part of value.split(',')) {
    const name = part.trim().toLowerCase();
    if (name === '' || name === 'none') continue;
    if (!(PROPAGATION_FORMATS as readonly string[]).includes(name)) {
      throw new Error(`${source}: unknown propagation format "${name}"; use a comma-separated list of ${PROPAGATION_FORMATS.join(', ')} or none`);
    }
    if (!out.includes(name as PropagationFormat)) out.push(name as PropagationFormat);
  }
  return out;
}

const baggagePropagator = new BaggagePropagator();

export class MeshPropagator implements TextMapPropagator {
  readonly formats: readonly PropagationFormat[];
  readonly #traceContext: boolean;
  readonly #baggage: boolean;
  readonly #b3: boolean;
  readonly #b3multi: boolean;
  readonly #fields: string[];
  /** Whether injection writes a B3 format, the only ones that carry the debug flag. */
  readonly writesB3: boolean;

  constructor(formats: readonly PropagationFormat[] = DEFAULT_PROPAGATION) {
    this.formats = [...formats];
    this.#traceContext = formats.includes('tracecontext');
    this.#baggage = formats.includes('baggage');
    this.#b3 = formats.includes('b3');
    this.#b3multi = formats.includes('b3multi');
    this.writesB3 = this.#b3 || this.#b3multi;
    const fields: string[] = [];
    if (this.#traceContext) fields.push(TRACEPARENT, TRACESTATE);
    if (this.#baggage) fields.push(BAGGAGE);
    if (this.#b3) fields.push(B3);
    if (this.#b3multi) fields.push(X_B3_TRACE_ID, X_B3_SPAN_ID, X_B3_SAMPLED, X_B3_FLAGS);
    this.#fields = fields;
  }

  inject(ctx: Context, carrier: unknown, setter: TextMapSetter): void {
    if (isTracingSuppressed(ctx)) return;
    const sc = trace.getSpanContext(ctx);
    const valid = sc !== undefined && isSpanContextValid(sc);
    this.injectSpanContext(valid ? sc : undefined, ctx.getValue(B3_DEBUG_FLAG_KEY) === 'd', propagation.getBaggage(ctx), carrier, setter);
  }

  /**
   * Writes the configured headers for a span context already in hand (and
   * baggage), so a client call need not build a Context just to inject.
   * `sc` must be valid or undefined.
   */
  injectSpanContext<C>(sc: SpanContext | undefined, debug: boolean, bag: Baggage | undefined, carrier: C, setter: TextMapSetter<C>): void {
    if (sc !== undefined) {
      if (this.#traceContext) injectTraceContext(sc, carrier, setter);
      if (this.#b3) injectB3Single(sc, debug, carrier, setter);
      if (this.#b3multi) injectB3Multi(sc, debug, carrier, setter);
    }
    if (this.#baggage && bag !== undefined) {
      const header = formatBaggage(bag.getAllEntries());
      if (header !== undefined) setter.set(carrier, BAGGAGE, header);
    }
  }

  extract(ctx: Context, carrier: unknown, getter: TextMapGetter): Context {
    let out = ctx;
    const traceparent = single(getter.get(carrier, TRACEPARENT));
    // tracestate means nothing without a traceparent: not even read then.
    const sc = traceparent === undefined ? undefined : extractTraceContext(traceparent, joined(getter.get(carrier, TRACESTATE)));
    if (sc !== undefined) out = trace.setSpanContext(LinkedContext.from(out), sc);
    else out = contextWithB3(out, extractB3Single(carrier, getter) ?? extractB3Multi(carrier, getter));
    return baggagePropagator.extract(out, carrier, getter);
  }

  fields(): string[] {
    return this.#fields.slice();
  }
}

/**
 * False when a header record holds none of the headers MeshPropagator's
 * extraction starts from (traceparent, b3, x-b3-traceid, baggage: the rest
 * are read only alongside one of these), so extracting would hand back the
 * context unchanged. Four constant-name loads, each its own monomorphic
 * site; a getter cannot be asked cheaply, so it may always carry one.
 */
export function mayCarryContext(headers: HeaderSource): boolean {
  if (typeof headers === 'function') return true;
  return headers.traceparent !== undefined || headers.b3 !== undefined || headers['x-b3-traceid'] !== undefined || headers.baggage !== undefined;
}

/**
 * True when the application registered a global propagator of its own (the
 * api's no-op one lists no fields). The app's propagator then wins, so the
 * mesh speaks the same formats as the rest of the process.
 */
export function appPropagatorRegistered(): boolean {
  return otelGlobalsRegistered() && propagation.fields().length > 0;
}
