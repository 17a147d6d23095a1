import { createTraceState, ROOT_CONTEXT, TraceFlags, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { CheckedSpanContext, isCheckedSpanContext } from '../../../../src/telemetry/tracing/checked-span-context.js';
import { suppressTracing } from '../../../../src/telemetry/tracing/suppress.js';
import {
  extractTraceContext,
  formatTraceparent,
  injectTraceContext,
  parseTraceparent,
  TraceContextPropagator,
} from '../../../../src/telemetry/tracing/trace-context.js';
import { parseTracestate } from '../../../../src/telemetry/tracing/tracestate.js';
import { contextWith, getter, injected, SPAN_ID, setter, TRACE_ID } from './helpers.js';

const VALID = `00-${TRACE_ID}-${SPAN_ID}-01`;

describe('traceparent parsing (W3C Trace Context)', () => {
  it.each([
    ['version 00, sampled', VALID, 1],
    ['version 00, not sampled', `00-${TRACE_ID}-${SPAN_ID}-00`, 0],
    ['version 00 keeps every flag bit (level 2 random flag)', `00-${TRACE_ID}-${SPAN_ID}-03`, 3],
    ['version 00, flags with hex letters', `00-${TRACE_ID}-${SPAN_ID}-bf`, 0xbf],
    ['a future version, flags with hex letters, not sampled', `7e-${TRACE_ID}-${SPAN_ID}-ae`, 0],
    ['leading and trailing spaces / tabs (OWS)', ` \t${VALID}\t `, 1],
    ['a future version, exactly 55 characters', `01-${TRACE_ID}-${SPAN_ID}-01`, 1],
    ['a future version with more fields after a dash', `cc-${TRACE_ID}-${SPAN_ID}-01-what-the-future-will-be`, 1],
    ['a future version keeps only the sampled bit', `01-${TRACE_ID}-${SPAN_ID}-ff`, 1],
  ])('accepts %s', (_what, header, flags) => {
    const sc = parseTraceparent(header);
    expect(sc && { traceId: sc.traceId, spanId: sc.spanId, traceFlags: sc.traceFlags, isRemote: sc.isRemote, traceState: sc.traceState }).toEqual({
      traceId: TRACE_ID,
      spanId: SPAN_ID,
      traceFlags: flags,
      isRemote: true,
      traceState: undefined,
    });
    // Nothing of the mesh's own shows to code that lists or serializes the context.
    expect(Object.keys(sc!).sort()).toEqual(['isRemote', 'spanId', 'traceFlags', 'traceId', 'traceState']);
    expect(JSON.parse(JSON.stringify(sc))).toEqual({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: flags, isRemote: true });
    // Built from the IDs just checked: later checks of this context need not read them again.
    expect(isCheckedSpanContext(sc!)).toBe(true);
  });

  it.each([
    ['an empty value', ''],
    ['too short', `00-${TRACE_ID}-${SPAN_ID}-1`],
    ['version 00 with extra characters', `${VALID}-extra`],
    ['version 00 with a trailing dash', `${VALID}-`],
    ['version ff (forbidden)', `ff-${TRACE_ID}-${SPAN_ID}-01`],
    ['an uppercase version', `0A-${TRACE_ID}-${SPAN_ID}-01`],
    ['a non-hex version', `0g-${TRACE_ID}-${SPAN_ID}-01`],
    ['an uppercase trace ID', `00-${TRACE_ID.toUpperCase()}-${SPAN_ID}-01`],
    ['an uppercase span ID', `00-${TRACE_ID}-00F067AA0BA902B7-01`],
    ['an uppercase flag', `00-${TRACE_ID}-${SPAN_ID}-0A`],
    ['an all-zero trace ID', `00-${'0'.repeat(32)}-${SPAN_ID}-01`],
    ['an all-zero span ID', `00-${TRACE_ID}-${'0'.repeat(16)}-01`],
    ['a short trace ID', `00-${TRACE_ID.slice(2)}-${SPAN_ID}-01xx`],
    ['wrong separators', `00_${TRACE_ID}_${SPAN_ID}_01`],
    ['non-hex in the trace ID', `00-${TRACE_ID.slice(0, 31)}z-${SPAN_ID}-01`],
    ['non-hex flags', `00-${TRACE_ID}-${SPAN_ID}-0x`],
    ['a future version followed by a non-dash', `01-${TRACE_ID}-${SPAN_ID}-01x`],
    ['a future version shorter than 55', `01-${TRACE_ID}-${SPAN_ID}-1`],
    ['a 64-bit trace ID', `00-${TRACE_ID.slice(16)}-${SPAN_ID}-01`],
  ])('rejects %s', (_what, header) => {
    expect(parseTraceparent(header)).toBeUndefined();
  });

  it('writes the context it parsed back as version 00: the same header for version 00, the version-00 form of a future version', () => {
    const cases: [string, string][] = [
      [VALID, VALID],
      [`00-${TRACE_ID}-${SPAN_ID}-bf`, `00-${TRACE_ID}-${SPAN_ID}-bf`],
      [` \t${VALID}\t `, VALID],
      // Of a future version only the sampled bit is kept, and the fields after the flags go.
      [`cc-${TRACE_ID}-${SPAN_ID}-03-what-the-future-will-be`, VALID],
      [`01-${TRACE_ID}-${SPAN_ID}-ae`, `00-${TRACE_ID}-${SPAN_ID}-00`],
    ];
    for (const [header, written] of cases) {
      const sc = parseTraceparent(header)!;
      expect(formatTraceparent(sc)).toBe(written);
      expect(formatTraceparent({ traceId: sc.traceId, spanId: sc.spanId, traceFlags: sc.traceFlags })).toBe(written);
    }
  });

  it('a span context of the mesh writes the same header at each injection', () => {
    const sc = new CheckedSpanContext(TRACE_ID, SPAN_ID, 1, undefined, undefined);
    const first = formatTraceparent(sc);
    expect(first).toBe(VALID);
    expect(formatTraceparent(sc)).toBe(first);
    const injected: string[] = [];
    injectTraceContext(sc, injected, { set: (c, _k, v) => c.push(v) });
    expect(injected).toEqual([VALID]);
  });

  it('formats flags as two lowercase hex digits', () => {
    expect(formatTraceparent({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 0 })).toBe(`00-${TRACE_ID}-${SPAN_ID}-00`);
    expect(formatTraceparent({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 0x0b })).toBe(`00-${TRACE_ID}-${SPAN_ID}-0b`);
  });
});

describe('tracestate', () => {
  it('keeps valid members, drops whitespace and empty members', () => {
    const ts = parseTracestate(' rojo=00f067aa0ba902b7 , ,congo=t61rcWkgMzE,tenant@vendor=x ');
    expect(ts?.serialize()).toBe('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE,tenant@vendor=x');
    expect(ts?.get('congo')).toBe('t61rcWkgMzE');
  });

  it.each([
    ['an uppercase key', 'Rojo=1'],
    ['a key starting with a digit (simple key)', '1rojo=1'],
    ['a missing value', 'rojo='],
    ['no equals sign', 'rojo'],
    ['an equals sign in the value', 'rojo=a=b'],
    ['a duplicate key', 'rojo=1,rojo=2'],
    ['a system part too long', `t@${'a'.repeat(15)}=1`],
    ['a non-printable character', 'rojo=a\u0001b'],
  ])('drops the whole header for %s', (_what, header) => {
    expect(parseTracestate(header)).toBeUndefined();
  });

  it('accepts 32 members and drops a header with 33', () => {
    const members = (n: number) => Array.from({ length: n }, (_, i) => `k${i}=v${i}`).join(',');
    expect(parseTracestate(members(32))?.serialize().split(',')).toHaveLength(32);
    expect(parseTracestate(members(33))).toBeUndefined();
  });

  it("reads, changes and serializes exactly as the api's own TraceState of the same header", () => {
    const headers = ['rojo=00f067aa0ba902b7,congo=t61rcWkgMzE', ' a=1 , b= 2', 'tenant@vendor=x,k/*_-0=v~!', 'solo=1'];
    for (const header of headers) {
      const ours = parseTracestate(header)!;
      const api = createTraceState(header.split(',').map((m) => m.trim()).join(','));
      expect(ours.serialize()).toBe(api.serialize());
      expect(ours.get('rojo')).toBe(api.get('rojo'));
      expect(ours.get('b')).toBe(api.get('b'));
      expect(ours.set('new', 'v').serialize()).toBe(api.set('new', 'v').serialize());
      expect(ours.set('solo', '2').serialize()).toBe(api.set('solo', '2').serialize());
      expect(ours.unset('congo').serialize()).toBe(api.unset('congo').serialize());
      // Changes make new states: the one from the header still reads as it came.
      expect(ours.serialize()).toBe(api.serialize());
    }
  });

  it('is only read alongside a valid traceparent', () => {
    expect(extractTraceContext(undefined, 'rojo=1')).toBeUndefined();
    expect(extractTraceContext('garbage', 'rojo=1')).toBeUndefined();
    expect(extractTraceContext(VALID, 'rojo=1')?.traceState?.get('rojo')).toBe('1');
  });
});

describe('TraceContextPropagator', () => {
  const p = new TraceContextPropagator();

  it('round-trips traceparent and tracestate', () => {
    const ctx = contextWith({ traceState: createTraceState('rojo=1,congo=2') });
    const headers = injected((set) => p.inject(ctx, set, setter));
    expect(headers).toEqual({ traceparent: VALID, tracestate: 'rojo=1,congo=2' });
    const sc = trace.getSpanContext(p.extract(ROOT_CONTEXT, headers, getter));
    expect(sc).toMatchObject({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED, isRemote: true });
    expect(sc?.traceState?.serialize()).toBe('rojo=1,congo=2');
  });

  it('treats a repeated traceparent as absent, and joins repeated tracestate headers', () => {
    expect(trace.getSpanContext(p.extract(ROOT_CONTEXT, { traceparent: [VALID, VALID] }, getter))).toBeUndefined();
    const ctx = p.extract(ROOT_CONTEXT, { traceparent: VALID, tracestate: ['a=1', 'b=2'] }, getter);
    expect(trace.getSpanContext(ctx)?.traceState?.serialize()).toBe('a=1,b=2');
  });

  it('writes nothing for an invalid span context or when tracing is suppressed', () => {
    expect(injected((set) => p.inject(ROOT_CONTEXT, set, setter))).toEqual({});
    expect(injected((set) => p.inject(suppressTracing(contextWith()), set, setter))).toEqual({});
  });

  it('lists its fields', () => {
    expect(p.fields()).toEqual(['traceparent', 'tracestate']);
  });
});
