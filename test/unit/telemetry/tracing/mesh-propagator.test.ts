import { propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { B3_DEBUG_FLAG_KEY } from '../../../../src/telemetry/tracing/b3.js';
import { MeshPropagator, parsePropagation } from '../../../../src/telemetry/tracing/mesh-propagator.js';
import { propagatorsFromEnv, sdkDisabled } from '../../../../src/telemetry/tracing/otel-env.js';
import { contextWith, getter, injected, SPAN_ID, setter, TRACE_ID } from './helpers.js';

const OTHER_TRACE = 'aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbb';
const OTHER_SPAN = 'cccccccccccccccc';

describe('MeshPropagator extraction', () => {
  const p = new MeshPropagator();

  it('prefers W3C when a request carries both W3C and B3', () => {
    const ctx = p.extract(
      ROOT_CONTEXT,
      { traceparent: `00-${TRACE_ID}-${SPAN_ID}-01`, b3: `${OTHER_TRACE}-${OTHER_SPAN}-1` },
      getter,
    );
    expect(trace.getSpanContext(ctx)?.traceId).toBe(TRACE_ID);
  });

  it('falls back to B3 single, then B3 multi, whatever it is set to inject', () => {
    const single = p.extract(ROOT_CONTEXT, { traceparent: 'junk', b3: `${OTHER_TRACE}-${OTHER_SPAN}-d` }, getter);
    expect(trace.getSpanContext(single)?.traceId).toBe(OTHER_TRACE);
    expect(single.getValue(B3_DEBUG_FLAG_KEY)).toBe('d');
    const multi = p.extract(ROOT_CONTEXT, { 'x-b3-traceid': OTHER_TRACE, 'x-b3-spanid': OTHER_SPAN, 'x-b3-sampled': '1' }, getter);
    expect(trace.getSpanContext(multi)).toMatchObject({ traceId: OTHER_TRACE, spanId: OTHER_SPAN, traceFlags: 1 });
  });

  it('always extracts baggage, with or without a trace', () => {
    const ctx = p.extract(ROOT_CONTEXT, { baggage: 'user=alice' }, getter);
    expect(propagation.getBaggage(ctx)?.getEntry('user')?.value).toBe('alice');
    expect(trace.getSpanContext(ctx)).toBeUndefined();
  });

  it('returns the context unchanged when nothing is carried', () => {
    expect(p.extract(ROOT_CONTEXT, {}, getter)).toBe(ROOT_CONTEXT);
    expect(p.extract(ROOT_CONTEXT, () => undefined, getter)).toBe(ROOT_CONTEXT);
  });
});

describe('MeshPropagator injection', () => {
  const bag = propagation.createBaggage({ user: { value: 'alice' } });
  const ctx = propagation.setBaggage(contextWith(), bag);

  it('writes W3C trace context and baggage by default', () => {
    expect(injected((set) => new MeshPropagator().inject(ctx, set, setter))).toEqual({
      traceparent: `00-${TRACE_ID}-${SPAN_ID}-01`,
      baggage: 'user=alice',
    });
  });

  it('writes exactly the formats it is given', () => {
    const p = new MeshPropagator(['b3', 'b3multi']);
    expect(injected((set) => p.inject(ctx, set, setter))).toEqual({
      b3: `${TRACE_ID}-${SPAN_ID}-1`,
      'x-b3-traceid': TRACE_ID,
      'x-b3-spanid': SPAN_ID,
      'x-b3-sampled': '1',
    });
    expect(p.fields()).toEqual(['b3', 'x-b3-traceid', 'x-b3-spanid', 'x-b3-sampled', 'x-b3-flags']);
    expect(new MeshPropagator([]).fields()).toEqual([]);
  });

  it('writes baggage even without a span', () => {
    const onlyBaggage = propagation.setBaggage(ROOT_CONTEXT, bag);
    expect(injected((set) => new MeshPropagator().inject(onlyBaggage, set, setter))).toEqual({ baggage: 'user=alice' });
  });
});

describe('propagation settings', () => {
  it('parses MESH_TRACE_PROPAGATION lists, dropping duplicates and "none"', () => {
    expect(parsePropagation('tracecontext, B3 ,b3multi,b3')).toEqual(['tracecontext', 'b3', 'b3multi']);
    expect(parsePropagation('none')).toEqual([]);
  });

  it('rejects an unknown format with the allowed names', () => {
    expect(() => parsePropagation('tracecontext,jaeger')).toThrow(
      'MESH_TRACE_PROPAGATION: unknown propagation format "jaeger"; use a comma-separated list of tracecontext, baggage, b3, b3multi or none',
    );
  });

  it('reads OTEL_PROPAGATORS leniently, as the spec asks', () => {
    expect(propagatorsFromEnv(undefined)).toEqual(['tracecontext', 'baggage']);
    expect(propagatorsFromEnv(' ')).toEqual(['tracecontext', 'baggage']);
    expect(propagatorsFromEnv('b3multi,xray,bogus')).toEqual(['b3multi']);
    expect(propagatorsFromEnv('tracecontext,none')).toEqual([]);
  });

  it('reads OTEL_SDK_DISABLED as the spec does: only "true"', () => {
    expect(sdkDisabled('TRUE')).toBe(true);
    expect(sdkDisabled('1')).toBe(false);
    expect(sdkDisabled(undefined)).toBe(false);
  });
});
