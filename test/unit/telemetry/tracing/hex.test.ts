import { isSpanContextValid, type SpanContext } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { CheckedSpanContext } from '../../../../src/telemetry/tracing/checked-span-context.js';
import { isSpanContextValidFast } from '../../../../src/telemetry/tracing/hex.js';
import { IdPool } from '../../../../src/telemetry/tracing/id-pool.js';

const T = '4bf92f3577b34da6a3ce929d0e0e4736';
const S = '00f067aa0ba902b7';

function sc(traceId: unknown, spanId: unknown): SpanContext {
  return { traceId, spanId, traceFlags: 1 } as SpanContext;
}

describe('isSpanContextValidFast', () => {
  it.each([
    ['lowercase IDs', T, S],
    ['uppercase IDs (the api accepts them)', T.toUpperCase(), S.toUpperCase()],
    ['mixed case', `${'A'.repeat(31)}f`, S],
    ['an all-zero trace ID', '0'.repeat(32), S],
    ['an all-zero span ID', T, '0'.repeat(16)],
    ['a short trace ID', T.slice(1), S],
    ['a long span ID', T, `${S}0`],
    ['a non-hex character', `${T.slice(0, 31)}g`, S],
    ['a non-hex character in the span ID', T, `${S.slice(0, 15)}-`],
    ['a number for an ID', 42, S],
    ['undefined IDs', undefined, undefined],
  ])('answers as the api does for %s', (_what, traceId, spanId) => {
    const c = sc(traceId, spanId);
    expect(isSpanContextValidFast(c)).toBe(isSpanContextValid(c));
  });

  it('accepts every ID the pool hands out, slices of its hex as they are', () => {
    const pool = new IdPool();
    for (let i = 0; i < 2000; i++) expect(isSpanContextValidFast(sc(pool.traceId(), pool.spanId()))).toBe(true);
  });

  it('takes a checked context (one the mesh built from IDs it had checked) as valid without reading its IDs', () => {
    expect(isSpanContextValidFast(new CheckedSpanContext(T, S, 1, true, undefined))).toBe(true);
    // Proof that the IDs are not read again: the brand alone answers, so only the mesh may set it.
    expect(isSpanContextValidFast(new CheckedSpanContext('not hex', S, 1, true, undefined))).toBe(true);
    expect(isSpanContextValidFast({ traceId: 'not hex', spanId: S, traceFlags: 1 })).toBe(false);
  });
});
