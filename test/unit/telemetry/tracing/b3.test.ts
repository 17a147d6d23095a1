import { ROOT_CONTEXT, TraceFlags, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import {
  B3_DEBUG_FLAG_KEY,
  B3MultiPropagator,
  B3SinglePropagator,
  parseB3Multi,
  parseB3Single,
} from '../../../../src/telemetry/tracing/b3.js';
import { isCheckedSpanContext } from '../../../../src/telemetry/tracing/checked-span-context.js';
import { contextWith, getter, injected, SPAN_ID, setter, TRACE_ID } from './helpers.js';

const SHORT = 'a3ce929d0e0e4736';
const PARENT = '05e3ac9a4f6e3b90';

describe('B3 single header', () => {
  it.each([
    ['128-bit, sampled', `${TRACE_ID}-${SPAN_ID}-1`, TRACE_ID, TraceFlags.SAMPLED, false],
    ['128-bit, not sampled', `${TRACE_ID}-${SPAN_ID}-0`, TRACE_ID, TraceFlags.NONE, false],
    ['debug', `${TRACE_ID}-${SPAN_ID}-d`, TRACE_ID, TraceFlags.SAMPLED, true],
    ['sampling deferred (absent)', `${TRACE_ID}-${SPAN_ID}`, TRACE_ID, TraceFlags.NONE, false],
    ['with a parent span ID', `${TRACE_ID}-${SPAN_ID}-1-${PARENT}`, TRACE_ID, TraceFlags.SAMPLED, false],
    ['parent without sampling', `${TRACE_ID}-${SPAN_ID}-${PARENT}`, TRACE_ID, TraceFlags.NONE, false],
    ['64-bit trace ID, padded to 128', `${SHORT}-${SPAN_ID}-1`, `0000000000000000${SHORT}`, TraceFlags.SAMPLED, false],
  ])('accepts %s', (_what, header, traceId, flags, debug) => {
    expect(parseB3Single(header)).toMatchObject({ spanContext: { traceId, spanId: SPAN_ID, traceFlags: flags, isRemote: true }, debug });
    expect(isCheckedSpanContext(parseB3Single(header)!.spanContext)).toBe(true);
  });

  it.each([
    ['a bare "0" (a decision without IDs)', '0'],
    ['a bare "1"', '1'],
    ['a bare "d"', 'd'],
    ['an uppercase trace ID', `${TRACE_ID.toUpperCase()}-${SPAN_ID}-1`],
    ['a 20-character trace ID', `${TRACE_ID.slice(0, 20)}-${SPAN_ID}-1`],
    ['an all-zero trace ID', `${'0'.repeat(32)}-${SPAN_ID}-1`],
    ['an all-zero span ID', `${TRACE_ID}-${'0'.repeat(16)}-1`],
    ['a bad sampling flag', `${TRACE_ID}-${SPAN_ID}-x`],
    ['a trailing dash', `${TRACE_ID}-${SPAN_ID}-1-`],
    ['a short parent', `${TRACE_ID}-${SPAN_ID}-1-abc`],
    ['a short span ID', `${TRACE_ID}-${SPAN_ID.slice(2)}-1`],
  ])('rejects %s', (_what, header) => {
    expect(parseB3Single(header)).toBeUndefined();
  });

  it('round-trips, keeping the debug flag', () => {
    const p = new B3SinglePropagator();
    const headers = injected((set) => p.inject(contextWith().setValue(B3_DEBUG_FLAG_KEY, 'd'), set, setter));
    expect(headers).toEqual({ b3: `${TRACE_ID}-${SPAN_ID}-d` });
    const ctx = p.extract(ROOT_CONTEXT, headers, getter);
    expect(trace.getSpanContext(ctx)).toMatchObject({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 });
    expect(ctx.getValue(B3_DEBUG_FLAG_KEY)).toBe('d');
    expect(injected((set) => p.inject(contextWith({ traceFlags: 0 }), set, setter))).toEqual({ b3: `${TRACE_ID}-${SPAN_ID}-0` });
  });

  it('shares the debug key with @opentelemetry/propagator-b3 (Symbol.for)', () => {
    expect(B3_DEBUG_FLAG_KEY).toBe(Symbol.for('OpenTelemetry Context Key B3 Debug Flag'));
  });
});

describe('B3 multi headers', () => {
  it.each([
    ['sampled "1"', [TRACE_ID, SPAN_ID, '1', undefined], TRACE_ID, 1, false],
    ['sampled "true" (early Zipkin)', [TRACE_ID, SPAN_ID, 'true', undefined], TRACE_ID, 1, false],
    ['not sampled', [TRACE_ID, SPAN_ID, '0', undefined], TRACE_ID, 0, false],
    ['deferred', [TRACE_ID, SPAN_ID, undefined, undefined], TRACE_ID, 0, false],
    ['debug flag', [TRACE_ID, SPAN_ID, undefined, '1'], TRACE_ID, 1, true],
    ['64-bit trace ID', [SHORT, SPAN_ID, '1', undefined], `0000000000000000${SHORT}`, 1, false],
  ] as const)('accepts %s', (_what, [t, s, sampled, flags], traceId, traceFlags, debug) => {
    expect(parseB3Multi(t, s, sampled, flags)).toMatchObject({ spanContext: { traceId, spanId: SPAN_ID, traceFlags, isRemote: true }, debug });
    expect(isCheckedSpanContext(parseB3Multi(t, s, sampled, flags)!.spanContext)).toBe(true);
  });

  it.each([
    ['no span ID', [TRACE_ID, undefined, '1']],
    ['a bad sampled value', [TRACE_ID, SPAN_ID, 'yes']],
    ['an all-zero trace ID', ['0'.repeat(16), SPAN_ID, '1']],
    ['a 17-character span ID', [TRACE_ID, `${SPAN_ID}a`, '1']],
  ] as const)('rejects %s', (_what, [t, s, sampled]) => {
    expect(parseB3Multi(t, s, sampled, undefined)).toBeUndefined();
  });

  it('round-trips, writing lowercase header names', () => {
    const p = new B3MultiPropagator();
    const headers = injected((set) => p.inject(contextWith(), set, setter));
    expect(headers).toEqual({ 'x-b3-traceid': TRACE_ID, 'x-b3-spanid': SPAN_ID, 'x-b3-sampled': '1' });
    const sc = trace.getSpanContext(p.extract(ROOT_CONTEXT, headers, getter));
    expect(sc).toMatchObject({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1, isRemote: true });
    const debug = injected((set) => p.inject(contextWith().setValue(B3_DEBUG_FLAG_KEY, 'd'), set, setter));
    expect(debug).toEqual({ 'x-b3-traceid': TRACE_ID, 'x-b3-spanid': SPAN_ID, 'x-b3-flags': '1' });
  });
});
