/**
 * The mesh's span recorder against the SDK's tracer: the same calls on a
 * span from each, exported through the same in-memory exporter, must give
 * the same ReadableSpan fields (times aside, which are checked for sense).
 * Both come from one createOtelProvider(), so they share the sampler,
 * limits, resource and processors: the SDK's tracer serves any other scope.
 */
import { type Attributes, context, type Link, propagation, ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, TraceFlags, type Tracer, trace } from '@opentelemetry/api';
import {
  AlwaysOffSampler,
  InMemorySpanExporter,
  type ReadableSpan,
  SamplingDecision,
  type Span as SdkSpan,
  SimpleSpanProcessor,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RecordedSpan } from '../../../src/otel/recorded-span.js';
import { createOtelProvider, type StartOtelOptions } from '../../../src/otel.js';
import { MeshSpanAttributes } from '../../../src/telemetry/tracing/attributes.js';
import { TRACER_NAME } from '../../../src/telemetry/tracing/mesh-tracer.js';
import { suppressTracing } from '../../../src/telemetry/tracing/suppress.js';
import { SPAN_ID, TRACE_ID } from '../telemetry/tracing/helpers.js';

afterEach(() => {
  vi.unstubAllEnvs();
});

interface Pair {
  readonly lean: Tracer;
  readonly sdk: Tracer;
  readonly exporter: InMemorySpanExporter;
  /** Every ended span, once the processor has exported it (the resource's detectors settle first). */
  spans(): Promise<ReadableSpan[]>;
  finished(name: string): Promise<{ lean: ReadableSpan; sdk: ReadableSpan }>;
}

/** One provider; its `proxyless` scope is the recorder, any other scope the SDK's tracer. */
function pair(options: StartOtelOptions = {}): Pair {
  const exporter = new InMemorySpanExporter();
  const provider = createOtelProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)], ...options });
  const lean = provider.getTracer(TRACER_NAME, '1.2.3');
  const sdk = provider.getTracer('sdk-twin', '1.2.3');
  const all = async () => {
    await provider.forceFlush();
    return exporter.getFinishedSpans();
  };
  return {
    lean,
    sdk,
    exporter,
    spans: all,
    async finished(name) {
      const spans = (await all()).filter((s) => s.name === name);
      const lean = spans.find((s) => s.instrumentationScope.name === TRACER_NAME);
      const sdk = spans.find((s) => s.instrumentationScope.name === 'sdk-twin');
      if (lean === undefined || sdk === undefined) throw new Error(`"${name}" was not exported by both tracers`);
      return { lean, sdk };
    },
  };
}

/** A stack trace's first line: the two spans record it from different call sites. */
function firstLines(a: Attributes | undefined): Attributes | undefined {
  const trace = a?.['exception.stacktrace'];
  return typeof trace === 'string' ? { ...a, 'exception.stacktrace': trace.split('\n')[0] } : a;
}

/** The fields that must match (IDs and times are each span's own, and checked apart). */
function comparable(s: ReadableSpan) {
  return {
    name: s.name,
    kind: s.kind,
    traceFlags: s.spanContext().traceFlags,
    hasParent: s.parentSpanContext !== undefined,
    attributes: s.attributes,
    events: s.events.map((e) => ({ name: e.name, attributes: firstLines(e.attributes), dropped: e.droppedAttributesCount ?? 0 })),
    links: s.links,
    status: s.status,
    ended: s.ended,
    droppedAttributesCount: s.droppedAttributesCount,
    droppedEventsCount: s.droppedEventsCount,
    droppedLinksCount: s.droppedLinksCount,
    resource: s.resource,
    scopeVersion: s.instrumentationScope.version,
  };
}

const ms = (t: readonly [number, number]) => t[0] * 1000 + t[1] / 1e6;

/** Runs `script` on a span from each tracer. */
function both(p: Pair, script: (tracer: Tracer) => void): void {
  script(p.lean);
  script(p.sdk);
}

const LINK: Link = {
  context: { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: TraceFlags.SAMPLED },
  attributes: { 'link.kind': 'follows', bad: {} as never },
};

describe('a recorded span exports as the SDK span does', () => {
  it('attributes, events, links, status and name, through every api method', async () => {
    const p = pair();
    const before = Date.now();
    // One moment for both spans' timed events, so each must record exactly it.
    const at = before - 5;
    both(p, (tracer) => {
      const attributes: Attributes = { 'http.request.method': 'GET', 'server.port': 9080, ok: true, list: ['a', 'b'] };
      const span = tracer.startSpan('call', { kind: SpanKind.CLIENT, attributes, links: [LINK] });
      span.setAttribute('later', 1);
      span.setAttribute('later', 2);
      span.setAttribute('nothing', undefined as never);
      span.setAttribute('', 'empty key');
      span.setAttribute('object', {} as never);
      span.setAttribute('mixed', [1, 'x'] as never);
      span.setAttributes({ a: 'x', b: [1, null, 3] as never });
      span.addEvent('plain');
      span.addEvent('with attributes', { n: 1, bad: {} as never });
      span.addEvent('at a time', at);
      span.addEvent('at a date', { d: 1 }, new Date(at + 2));
      span.addLink({ context: LINK.context });
      span.recordException(new TypeError('boom'));
      span.recordException('as text');
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'failed' });
      span.updateName('call renamed');
      span.end();
      // Ignored once ended (with a warning), by both.
      span.setAttribute('after', 1);
      span.addEvent('after');
      span.setStatus({ code: SpanStatusCode.OK });
      span.updateName('too late');
      span.end();
    });
    const { lean, sdk } = await p.finished('call renamed');
    expect(comparable(lean)).toEqual(comparable(sdk));
    expect(lean.attributes).toMatchObject({ later: 2, a: 'x', 'http.request.method': 'GET' });
    expect(lean.events.map((e) => e.name)).toEqual(['plain', 'with attributes', 'at a time', 'at a date', 'exception', 'exception']);
    expect(lean.status).toEqual({ code: SpanStatusCode.ERROR, message: 'failed' });
    // Times: within the test's run, ordered, and the duration is end minus start.
    expect(ms(lean.startTime)).toBeGreaterThanOrEqual(before - 2);
    expect(ms(lean.endTime)).toBeLessThanOrEqual(Date.now() + 2);
    expect(ms(lean.duration)).toBeCloseTo(ms(lean.endTime) - ms(lean.startTime), 3);
    expect(ms(lean.events[2]!.time)).toBeCloseTo(at, 2);
    expect(ms(sdk.events[2]!.time)).toBeCloseTo(at, 2);
    expect(ms(lean.events[3]!.time)).toBeCloseTo(at + 2, 2);
    expect(ms(lean.events[2]!.time)).toBeLessThan(ms(lean.events[0]!.time));
  });

  it('a parent from the context, explicit start and end times, and OK as a final status', async () => {
    const p = pair();
    const start = Date.now() - 100;
    both(p, (tracer) => {
      const parent = tracer.startSpan('parent');
      const child = tracer.startSpan('child', { startTime: start }, trace.setSpan(ROOT_CONTEXT, parent));
      child.setStatus({ code: SpanStatusCode.OK });
      child.setStatus({ code: SpanStatusCode.ERROR, message: 'ignored: OK is final' });
      child.end(start + 40);
      parent.end();
    });
    const { lean, sdk } = await p.finished('child');
    expect(comparable(lean)).toEqual(comparable(sdk));
    expect(lean.parentSpanContext?.spanId).toBe((await p.finished('parent')).lean.spanContext().spanId);
    expect(lean.spanContext().traceId).toBe((await p.finished('parent')).lean.spanContext().traceId);
    expect(ms(lean.startTime)).toBeCloseTo(start, 0);
    expect(ms(lean.duration)).toBeCloseTo(40, 3);
    expect(ms(sdk.duration)).toBeCloseTo(40, 3);
  });

  it('an end before the start is a zero-length span', async () => {
    const p = pair();
    both(p, (tracer) => tracer.startSpan('backwards', { startTime: Date.now() }).end(Date.now() - 1_000));
    const { lean, sdk } = await p.finished('backwards');
    expect(lean.duration).toEqual([0, 0]);
    expect(sdk.duration).toEqual([0, 0]);
    expect(lean.endTime).toEqual(lean.startTime);
  });

  it('honours the OTEL_* span limits as the SDK does', async () => {
    vi.stubEnv('OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT', '3');
    vi.stubEnv('OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT', '4');
    vi.stubEnv('OTEL_SPAN_EVENT_COUNT_LIMIT', '2');
    vi.stubEnv('OTEL_SPAN_LINK_COUNT_LIMIT', '1');
    vi.stubEnv('OTEL_SPAN_ATTRIBUTE_PER_EVENT_COUNT_LIMIT', '1');
    const p = pair();
    both(p, (tracer) => {
      const span = tracer.startSpan('limited', { attributes: { a: 'abcdefgh', b: ['long string', 'ok'], c: 3, d: 4 } });
      span.setAttribute('a', 'replaced value');
      span.setAttribute('e', 5);
      for (const n of [1, 2, 3]) span.addEvent(`event ${n}`, { x: 1, y: 2 });
      span.addLink({ context: LINK.context });
      span.addLink(LINK);
      span.end();
    });
    const { lean, sdk } = await p.finished('limited');
    expect(comparable(lean)).toEqual(comparable(sdk));
    expect(Object.keys(lean.attributes)).toHaveLength(3);
    expect(lean.attributes.a).toBe('repl');
    expect(lean.attributes.b).toEqual(['long', 'ok']);
    expect(lean.droppedAttributesCount).toBe(2);
    expect(lean.events.map((e) => e.name)).toEqual(['event 2', 'event 3']);
    expect(lean.droppedEventsCount).toBe(1);
    expect(lean.links).toHaveLength(1);
  });

  it('applies later sets in order: overwrites never count against the limit, new keys past it are dropped', async () => {
    vi.stubEnv('OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT', '2');
    const p = pair();
    both(p, (tracer) => {
      const span = tracer.startSpan('overwrites', { attributes: { a: 1 } });
      for (let i = 0; i < 10; i++) span.setAttribute('a', i);
      span.setAttribute('b', 1);
      span.setAttribute('c', 1);
      span.setAttribute('b', 2);
      span.end();
    });
    const { lean, sdk } = await p.finished('overwrites');
    expect(comparable(lean)).toEqual(comparable(sdk));
    expect(lean.attributes).toEqual({ a: 9, b: 2 });
    expect(lean.droppedAttributesCount).toBe(1);
  });
});

describe('attributes the recorder is handed', () => {
  it('copies a frozen start object, so later sets and a sampler\'s additions still land', async () => {
    const sampler = {
      shouldSample: () => ({ decision: SamplingDecision.RECORD_AND_SAMPLED, attributes: { 'sampler.rule': 'all' } }),
      toString: () => 'adds an attribute',
    };
    const p = pair({ sampler });
    const frozen = Object.freeze({ a: 1 });
    both(p, (tracer) => {
      const span = tracer.startSpan('frozen', { attributes: frozen });
      span.setAttribute('b', 2);
      span.end();
    });
    const { lean, sdk } = await p.finished('frozen');
    expect(lean.attributes).toEqual({ a: 1, 'sampler.rule': 'all', b: 2 });
    expect(comparable(lean)).toEqual(comparable(sdk));
    expect(frozen).toEqual({ a: 1 });
  });

  it("keeps the mesh's own record as it is, and copies anyone else's, so later sets never reach the caller's object", async () => {
    const p = pair();
    const mine = new MeshSpanAttributes();
    mine['http.request.method'] = 'GET';
    const theirs: Attributes = { a: 1, list: ['x'] };
    const a = p.lean.startSpan('mesh-built', { attributes: mine });
    const b = p.lean.startSpan('given', { attributes: theirs });
    const list = ['y'];
    b.setAttribute('later', list);
    list.push('changed after the set');
    a.end();
    b.end();
    expect((a as unknown as ReadableSpan).attributes).toBe(mine);
    expect((b as unknown as ReadableSpan).attributes).not.toBe(theirs);
    expect((b as unknown as ReadableSpan).attributes).toEqual({ a: 1, list: ['x'], later: ['y'] });
    expect(theirs).toEqual({ a: 1, list: ['x'] });
  });

  it('keeps null values in events and links, counted against their limits, as the SDK does', async () => {
    vi.stubEnv('OTEL_SPAN_ATTRIBUTE_PER_EVENT_COUNT_LIMIT', '2');
    const p = pair();
    both(p, (tracer) => {
      const span = tracer.startSpan('nulls', { attributes: { gone: null as never, kept: 1 } });
      span.addEvent('e', { n: null as never, u: undefined, x: 1 });
      span.addLink({ context: LINK.context, attributes: { n: null as never } });
      span.end();
    });
    const { lean, sdk } = await p.finished('nulls');
    expect(comparable(lean)).toEqual(comparable(sdk));
    expect(lean.attributes).toEqual({ kept: 1 });
    expect(lean.events[0]!.droppedAttributesCount).toBe(1);
  });

  it('ignores a value length limit of 0 or less, as the SDK does, rather than emptying every string', async () => {
    vi.stubEnv('OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT', '0');
    const p = pair();
    both(p, (tracer) => {
      const span = tracer.startSpan('zero', { attributes: { s: 'kept whole' } });
      span.setAttribute('t', 'also whole');
      span.end();
    });
    const { lean, sdk } = await p.finished('zero');
    expect(comparable(lean)).toEqual(comparable(sdk));
    expect(lean.attributes).toEqual({ s: 'kept whole', t: 'also whole' });
  });

  it('records exceptions by the SDK rules: a falsy code falls back to the name, nothing at all is not an event', async () => {
    const p = pair();
    both(p, (tracer) => {
      const span = tracer.startSpan('exceptions');
      span.recordException({ code: 0, name: 'ZeroCode', message: 'm' });
      span.recordException({ code: 'E_X', message: '' });
      span.recordException({} as never);
      span.end();
    });
    const { lean, sdk } = await p.finished('exceptions');
    expect(comparable(lean)).toEqual(comparable(sdk));
    expect(lean.events.map((e) => e.attributes?.['exception.type'])).toEqual(['ZeroCode', 'E_X']);
  });

  it('keeps start, end and event times given as HrTime exactly as given', async () => {
    const p = pair();
    const start: [number, number] = [Math.floor(Date.now() / 1000) - 10, 123_456_789];
    const at: [number, number] = [start[0] + 1, 999_999_999];
    const end: [number, number] = [start[0] + 2, 1];
    both(p, (tracer) => {
      const span = tracer.startSpan('hr', { startTime: start });
      span.addEvent('at', at);
      span.end(end);
    });
    const { lean, sdk } = await p.finished('hr');
    for (const s of [lean, sdk]) {
      expect(s.startTime).toEqual(start);
      expect(s.endTime).toEqual(end);
      expect(s.events[0]!.time).toEqual(at);
      expect(s.duration).toEqual([1, 876_543_212]);
    }
  });
});

describe('sampling and context, as the SDK tracer decides them', () => {
  it('a sampler that declines gives a non-recording span with a fresh valid context', async () => {
    const p = pair({ sampler: new AlwaysOffSampler() });
    const span = p.lean.startSpan('declined');
    expect(span.isRecording()).toBe(false);
    expect(span).not.toBeInstanceOf(RecordedSpan);
    expect(span.spanContext().traceFlags).toBe(TraceFlags.NONE);
    expect(span.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
    span.end();
    expect(await p.spans()).toEqual([]);
  });

  it('follows the parent: an unsampled remote parent is not recorded, a sampled one keeps its trace and trace state', async () => {
    const p = pair();
    const unsampled = trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.NONE, isRemote: true });
    expect(p.lean.startSpan('x', {}, unsampled).isRecording()).toBe(false);
    const state = { get: () => 'v', serialize: () => 'k=v' } as never;
    const sampled = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: TRACE_ID,
      spanId: SPAN_ID,
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
      traceState: state,
    });
    const span = p.lean.startSpan('y', {}, sampled);
    expect(span.spanContext()).toMatchObject({ traceId: TRACE_ID, traceFlags: TraceFlags.SAMPLED, traceState: state });
    expect((span as unknown as ReadableSpan).parentSpanContext?.spanId).toBe(SPAN_ID);
    // `root` starts a new trace whatever the context holds.
    expect(p.lean.startSpan('z', { root: true }, sampled).spanContext().traceId).not.toBe(TRACE_ID);
  });

  it('starts a new trace under an invalid parent, and continues a recorded parent\'s, as the SDK does', async () => {
    const p = pair();
    const invalid = trace.setSpanContext(ROOT_CONTEXT, { traceId: '0'.repeat(32), spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED });
    both(p, (t) => t.startSpan('under invalid', {}, invalid).end());
    const { lean, sdk } = await p.finished('under invalid');
    expect(lean.parentSpanContext).toBeUndefined();
    expect(sdk.parentSpanContext).toBeUndefined();
    expect(lean.spanContext().traceId).not.toBe('0'.repeat(32));
    // A span the recorder made is its children's parent without being checked again.
    const parent = p.lean.startSpan('recorded parent');
    const child = p.lean.startSpan('recorded child', {}, trace.setSpan(ROOT_CONTEXT, parent)) as unknown as ReadableSpan;
    expect(child.spanContext().traceId).toBe(parent.spanContext().traceId);
    expect(child.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
  });

  it('starts nothing where tracing is suppressed', async () => {
    const p = pair();
    const span = p.lean.startSpan('internal', {}, suppressTracing(ROOT_CONTEXT));
    expect(span.isRecording()).toBe(false);
    expect(trace.isSpanContextValid(span.spanContext())).toBe(false);
  });

  it('startActiveSpan runs the function with the span active, in every overload', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = createOtelProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    // Registering installs the AsyncLocalStorage context manager, which makes a span active.
    provider.register();
    try {
      const tracer = provider.getTracer(TRACER_NAME);
      const seen: boolean[] = [];
      const record = (span: Span) => {
        seen.push(trace.getSpan(context.active()) === span);
        span.end();
        return 7;
      };
      expect(tracer.startActiveSpan('a', record)).toBe(7);
      expect(tracer.startActiveSpan('b', { kind: SpanKind.SERVER }, record)).toBe(7);
      expect(tracer.startActiveSpan('c', {}, ROOT_CONTEXT, record)).toBe(7);
      expect(seen).toEqual([true, true, true]);
      // Outside, nothing is active any more.
      expect(trace.getSpan(context.active())).toBeUndefined();
      await provider.forceFlush();
      expect(exporter.getFinishedSpans().map((s) => [s.name, s.kind])).toEqual([
        ['a', SpanKind.INTERNAL],
        ['b', SpanKind.SERVER],
        ['c', SpanKind.INTERNAL],
      ]);
    } finally {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    }
  });
});

describe('span processors', () => {
  it('see onStart with the parent context, onEnding before the span is ended, and onEnd after', async () => {
    const calls: string[] = [];
    const processor: SpanProcessor = {
      onStart: (span: SdkSpan, ctx) => calls.push(`start ${span.name} ${ctx === ROOT_CONTEXT}`),
      onEnding: (span: SdkSpan) => {
        // Still open: a processor may add to it here.
        span.setAttribute('added.on.ending', true);
        calls.push(`ending ${span.ended} ${span.endTime[0] > 0}`);
      },
      onEnd: (span: ReadableSpan) => calls.push(`end ${span.ended} ${String(span.attributes['added.on.ending'])}`),
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
    const provider = createOtelProvider({ spanProcessors: [processor] });
    provider.getTracer(TRACER_NAME).startSpan('seen', {}, ROOT_CONTEXT).end();
    await provider.forceFlush();
    expect(calls).toEqual(['start seen true', 'ending false true', 'end true true']);
  });

  it('`meshSpans: sdk` gives the mesh the SDK tracer too', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = createOtelProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)], meshSpans: 'sdk' });
    provider.getTracer(TRACER_NAME).startSpan('by the sdk').end();
    await provider.forceFlush();
    expect(exporter.getFinishedSpans()[0]).not.toBeInstanceOf(RecordedSpan);
    const lean = createOtelProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    lean.getTracer(TRACER_NAME).startSpan('by the recorder').end();
    await lean.forceFlush();
    expect(exporter.getFinishedSpans()[1]).toBeInstanceOf(RecordedSpan);
  });
});
