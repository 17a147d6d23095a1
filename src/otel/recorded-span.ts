/**
 * A span recorded by the mesh's span recorder (span-recorder.ts): what the
 * OpenTelemetry SDK's own span records, held in fewer allocations. It is
 * both the api's Span, for the mesh, and the SDK's ReadableSpan, for the
 * SDK's span processors and exporters, which take it as one of their own.
 *
 * Where it saves work:
 *  - it keeps the mesh's own attribute record (MeshSpanAttributes, valid
 *    by construction and built fresh for each span) as it is, while no
 *    limit could cut it, where the SDK copies it twice; anyone else's
 *    attributes are checked and copied, as the SDK does;
 *  - times are two readings of the mesh's monotonic clock, turned into
 *    HrTime only when read (span-clock.ts); for the end and for events
 *    the mesh hands over readings its call already took, which are
 *    placed without another read;
 *  - attributes set after the start are checked and queued as key and value,
 *    and folded into the attributes object, with the SDK's count limit and
 *    truncation, when something first reads it (a processor, an
 *    exporter): a set is two array stores, not a dictionary store;
 *  - links, events and status are shared empty values until set.
 * Limits, validation and the order of processor calls are the SDK's.
 */
import {
  type Attributes,
  type AttributeValue,
  diag,
  type Exception,
  type HrTime,
  type Link,
  type SpanContext,
  type SpanKind,
  type SpanStatus,
  SpanStatusCode,
  type TimeInput,
} from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, Span, SpanProcessor, TimedEvent } from '@opentelemetry/sdk-trace-node';
import { monotonicNow } from '../net/monotonic-clock.js';
import { MESH_SPAN_ATTRIBUTES_MAX } from '../telemetry/tracing/attributes.js';
import { cuts, isAttributeValue, limited, truncate } from './attribute-limits.js';
import type { FullSpanLimits } from './sdk-env.js';
import { epochOffset, hrDifference, isHrTime, isTimeInput, toHrTime, toPerfMs } from './span-clock.js';

/** What every span of one recorder shares. */
export interface RecorderScope {
  readonly resource: Resource;
  readonly instrumentationScope: ReadableSpan['instrumentationScope'];
  readonly limits: FullSpanLimits;
  readonly processors: readonly SpanProcessor[];
}

const UNSET: SpanStatus = Object.freeze({ code: SpanStatusCode.UNSET });
const NONE: never[] = Object.freeze([]) as unknown as never[];
const NOT_ENDED: HrTime = Object.freeze([0, 0]) as unknown as HrTime;
const NO_DURATION: HrTime = Object.freeze([-1, -1]) as unknown as HrTime;

export class RecordedSpan implements Span {
  name: string;
  readonly kind: SpanKind;
  readonly parentSpanContext: SpanContext | undefined;
  status: SpanStatus = UNSET;
  droppedEventsCount = 0;
  droppedLinksCount = 0;
  readonly #scope: RecorderScope;
  readonly #context: SpanContext;
  /** The attributes, without the queued sets. */
  #attributes: Attributes;
  /** Sets not yet folded in: key, value, key, value… */
  #queued: Array<string | AttributeValue> | undefined;
  #droppedAttributes = 0;
  #links: Link[] = NONE;
  #events: TimedEvent[] = NONE;
  readonly #start: number;
  /** A start or end given as an HrTime, kept exactly as given (as the SDK keeps it). */
  readonly #startHr: HrTime | undefined;
  #endHr: HrTime | undefined;
  readonly #offset: number;
  /** NaN until end() is called; set before the processors' onEnding, as the SDK's endTime is. */
  #end = Number.NaN;
  #done = false;

  constructor(
    scope: RecorderScope,
    context: SpanContext,
    name: string,
    kind: SpanKind,
    parent: SpanContext | undefined,
    attributes: Attributes,
    links: readonly Link[] | undefined,
    startTime: TimeInput | undefined,
    /** True for a MeshSpanAttributes record nothing was added to. */
    meshBuilt: boolean,
  ) {
    this.#scope = scope;
    this.#context = context;
    this.name = name;
    this.kind = kind;
    this.parentSpanContext = parent;
    // Read before the offset, which is re-measured against the latest reading.
    const now = startTime === undefined ? monotonicNow() : Number.NaN;
    this.#offset = epochOffset();
    this.#start = startTime === undefined ? now : toPerfMs(startTime, this.#offset);
    this.#startHr = startTime !== undefined && isHrTime(startTime) ? startTime : undefined;
    this.#endHr = undefined;
    this.#attributes = attributes;
    this.#queued = undefined;
    const limits = scope.limits;
    // The mesh's own record is kept as it is while no limit could cut it; anything else is copied.
    const unlimited = !cuts(limits.attributeValueLengthLimit) && limits.attributeCountLimit >= MESH_SPAN_ATTRIBUTES_MAX;
    if (!meshBuilt || !unlimited) this.#copyGiven(attributes);
    if (links !== undefined) for (const link of links) this.addLink(link);
  }

  /** A limited copy of attributes from anyone but the mesh, as the SDK copies them: later sets must not reach the caller's object. */
  #copyGiven(attributes: Attributes): void {
    const { attributeCountLimit: max, attributeValueLengthLimit: length } = this.#scope.limits;
    const copy = limited(attributes, max, length);
    this.#attributes = copy.attributes;
    this.#droppedAttributes = copy.dropped;
  }

  get attributes(): Attributes {
    if (this.#queued !== undefined) this.#fold();
    return this.#attributes;
  }

  get droppedAttributesCount(): number {
    if (this.#queued !== undefined) this.#fold();
    return this.#droppedAttributes;
  }

  /** Applies the queued sets in order, as the SDK applies each when it is made: existing keys are overwritten, new ones dropped past the limit. */
  #fold(): void {
    const queued = this.#queued!;
    this.#queued = undefined;
    const attributes = this.#attributes;
    const { attributeCountLimit: max, attributeValueLengthLimit: length } = this.#scope.limits;
    let count = Object.keys(attributes).length;
    for (let i = 0; i < queued.length; i += 2) {
      const key = queued[i] as string;
      const value = queued[i + 1] as AttributeValue;
      if (!Object.hasOwn(attributes, key)) {
        if (count >= max) {
          this.#droppedAttributes++;
          continue;
        }
        count++;
      }
      attributes[key] = cuts(length) ? truncate(value, length) : value;
    }
  }

  spanContext(): SpanContext {
    return this.#context;
  }

  get resource(): Resource {
    return this.#scope.resource;
  }

  get instrumentationScope(): ReadableSpan['instrumentationScope'] {
    return this.#scope.instrumentationScope;
  }

  get links(): Link[] {
    return this.#links;
  }

  get events(): TimedEvent[] {
    return this.#events;
  }

  get ended(): boolean {
    return this.#done;
  }

  get startTime(): HrTime {
    return this.#startHr ?? toHrTime(this.#start + this.#offset);
  }

  get endTime(): HrTime {
    if (Number.isNaN(this.#end)) return NOT_ENDED;
    return this.#endHr ?? toHrTime(this.#end + this.#offset);
  }

  get duration(): HrTime {
    if (Number.isNaN(this.#end)) return NO_DURATION;
    return this.#startHr === undefined && this.#endHr === undefined ? toHrTime(this.#end - this.#start) : hrDifference(this.endTime, this.startTime);
  }

  isRecording(): boolean {
    return !this.#done;
  }

  setAttribute(key: string, value?: AttributeValue): this {
    if (value == null || this.#ended('setAttribute')) return this;
    if (key.length === 0) {
      diag.warn(`Invalid attribute key: ${key}`);
      return this;
    }
    const t = typeof value;
    if (t !== 'string' && t !== 'number' && t !== 'boolean' && !isAttributeValue(value)) {
      diag.warn(`Invalid attribute value set for key: ${key}`);
      return this;
    }
    // Arrays are copied now, as the SDK copies them, so a later change by the caller is not recorded.
    if (Array.isArray(value)) value = value.slice() as AttributeValue;
    if (this.#queued === undefined) this.#queued = [key, value];
    else this.#queued.push(key, value);
    return this;
  }

  setAttributes(attributes: Attributes): this {
    for (const key in attributes) if (Object.hasOwn(attributes, key)) this.setAttribute(key, attributes[key]);
    return this;
  }

  addEvent(name: string, attributesOrTime?: Attributes | TimeInput, time?: TimeInput): this {
    if (this.#ended('addEvent')) return this;
    const limits = this.#scope.limits;
    if (limits.eventCountLimit === 0) {
      this.droppedEventsCount++;
      return this;
    }
    if (this.#events === NONE) this.#events = [];
    else if (this.#events.length >= limits.eventCountLimit) {
      // The SDK keeps the newest events.
      this.#events.shift();
      this.droppedEventsCount++;
    }
    let attributes: Attributes | undefined;
    if (isTimeInput(attributesOrTime)) time ??= attributesOrTime;
    else attributes = attributesOrTime;
    const kept = limited(attributes, limits.attributePerEventCountLimit, limits.attributeValueLengthLimit, true);
    let at: HrTime;
    if (time !== undefined && isHrTime(time)) at = [time[0], time[1]];
    else {
      at = toHrTime((time === undefined ? monotonicNow() : toPerfMs(time, this.#offset)) + this.#offset);
    }
    this.#events.push({ name, attributes: kept.attributes, time: at, droppedAttributesCount: kept.dropped });
    return this;
  }

  addLink(link: Link): this {
    if (this.#ended('addLink')) return this;
    const limits = this.#scope.limits;
    if (limits.linkCountLimit === 0) {
      this.droppedLinksCount++;
      return this;
    }
    if (this.#links === NONE) this.#links = [];
    else if (this.#links.length >= limits.linkCountLimit) {
      this.#links.shift();
      this.droppedLinksCount++;
    }
    const kept = limited(link.attributes, limits.attributePerLinkCountLimit, limits.attributeValueLengthLimit, true);
    const recorded: Link = { context: link.context };
    if (Object.keys(kept.attributes).length > 0) recorded.attributes = kept.attributes;
    if (kept.dropped > 0) recorded.droppedAttributesCount = kept.dropped;
    this.#links.push(recorded);
    return this;
  }

  addLinks(links: Link[]): this {
    for (const link of links) this.addLink(link);
    return this;
  }

  setStatus(status: SpanStatus): this {
    if (this.#ended('setStatus')) return this;
    // As the SDK: UNSET changes nothing, and OK is final.
    if (status.code === SpanStatusCode.UNSET || this.status.code === SpanStatusCode.OK) return this;
    this.status =
      status.code === SpanStatusCode.ERROR && typeof status.message === 'string' ? { code: status.code, message: status.message } : { code: status.code };
    return this;
  }

  updateName(name: string): this {
    if (!this.#ended('updateName')) this.name = name;
    return this;
  }

  recordException(exception: Exception, time?: TimeInput): void {
    const attributes: Attributes = {};
    if (typeof exception === 'string') attributes['exception.message'] = exception;
    else if (exception) {
      if (exception.code) attributes['exception.type'] = String(exception.code);
      else if (exception.name) attributes['exception.type'] = exception.name;
      if (exception.message) attributes['exception.message'] = exception.message;
      if (exception.stack) attributes['exception.stacktrace'] = exception.stack;
    }
    if (!attributes['exception.type'] && !attributes['exception.message']) {
      diag.warn(`Failed to record an exception ${String(exception)}`);
      return;
    }
    this.addEvent('exception', attributes, time);
  }

  end(endTime?: TimeInput): void {
    if (this.#done) {
      diag.error(`${this.name} ${this.#context.traceId}-${this.#context.spanId} - You can only call end() on a span once.`);
      return;
    }
    let end = endTime === undefined ? monotonicNow() : toPerfMs(endTime, this.#offset);
    this.#endHr = endTime !== undefined && isHrTime(endTime) ? endTime : undefined;
    if (end < this.#start) {
      diag.warn('Inconsistent start and end time, startTime > endTime. Setting span duration to 0ms.');
      end = this.#start;
      this.#endHr = this.#startHr;
    }
    this.#end = end;
    const processors = this.#scope.processors;
    // Processors may still change the span in onEnding; it is ended for onEnd, as in the SDK.
    for (let i = 0; i < processors.length; i++) processors[i]!.onEnding?.(this);
    this.#done = true;
    for (let i = 0; i < processors.length; i++) processors[i]!.onEnd(this);
  }

  #ended(what: string): boolean {
    if (!this.#done) return false;
    diag.warn(`Cannot execute the operation ${what} on ended Span {traceId: ${this.#context.traceId}, spanId: ${this.#context.spanId}}`);
    return true;
  }
}
