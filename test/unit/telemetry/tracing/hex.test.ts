import { isSpanContextValid, type SpanContext } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { CheckedSpanContext } from '../../../../src/telemetry/tracing/checked-span-context.js';
import { isLowerHex, isLowerHexId, isSpanContextValidFast } from '../../../../src/telemetry/tracing/hex.js';
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

describe('isLowerHex and isLowerHexId', () => {
  /** The plain definition, a character at a time, to hold the table-driven loops to. */
  const plain = (s: string) => [...s].every((ch) => '0123456789abcdef'.includes(ch));

  it('accepts exactly the lowercase hex digits, of every code below 65536', () => {
    for (let c = 0; c < 65536; c++) {
      const ch = String.fromCharCode(c);
      expect(isLowerHex(`0${ch}`, 1, 1)).toBe(plain(ch));
    }
  });

  it('rejects characters whose low seven bits are a hex digit (U+0130 is 0x30 in them, U+00E1 is 0x61)', () => {
    for (const ch of ['\u0130', '\u00e1', '\u00b0', '\uff41']) {
      expect(isLowerHex(`ab${ch}cd`, 0, 5)).toBe(false);
      expect(isLowerHexId(`ab${ch}cd`, 0, 5)).toBe(false);
    }
  });

  it('checks only the range given, and never past the end of the string', () => {
    expect(isLowerHex('xx0a9fxx', 2, 4)).toBe(true);
    expect(isLowerHex('xx0a9fxx', 1, 4)).toBe(false);
    expect(isLowerHex('0a9f', 2, 4)).toBe(false);
    expect(isLowerHexId('0a9f', 1, 4)).toBe(false);
  });

  it('isLowerHexId refuses an ID of all zeros and takes any other', () => {
    expect(isLowerHexId('0'.repeat(16), 0, 16)).toBe(false);
    expect(isLowerHexId(`${'0'.repeat(15)}1`, 0, 16)).toBe(true);
    expect(isLowerHexId(`1${'0'.repeat(15)}`, 0, 16)).toBe(true);
    expect(isLowerHexId(T, 0, 32)).toBe(true);
    // One pass decides both: a non-hex character fails it even when the rest is not zero.
    expect(isLowerHexId(`${T.slice(0, 31)}G`, 0, 32)).toBe(false);
  });

  it('agrees with the plain definition on random strings of hex and near-hex characters', () => {
    const alphabet = '0123456789abcdefABCDEFg-\u0130\u00e1 ';
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let i = 0; i < 5000; i++) {
      const len = 1 + (next() % 20);
      let s = '';
      // Mostly hex, so that valid strings are common too.
      for (let j = 0; j < len; j++) s += next() % 8 === 0 ? alphabet[next() % alphabet.length] : alphabet[next() % 16];
      expect(isLowerHex(s, 0, len)).toBe(plain(s));
      expect(isLowerHexId(s, 0, len)).toBe(plain(s) && /[^0]/.test(s));
    }
  });
});
