import { propagation, ROOT_CONTEXT } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import {
  BaggagePropagator,
  formatBaggage,
  MAX_BAGGAGE_BYTES,
  MAX_BAGGAGE_ENTRIES,
  parseBaggage,
} from '../../../../src/telemetry/tracing/baggage.js';
import { suppressTracing } from '../../../../src/telemetry/tracing/suppress.js';
import { getter, injected, setter } from './helpers.js';

describe('baggage parsing', () => {
  it('reads entries, percent-decodes values and keeps properties as metadata', () => {
    const entries = parseBaggage(' userId = alice , tenant=a%2Cb%3Dc ;ttl=30;secret, emoji=%F0%9F%99%82');
    expect(entries.userId?.value).toBe('alice');
    expect(entries.tenant?.value).toBe('a,b=c');
    expect(entries.tenant?.metadata?.toString()).toBe('ttl=30;secret');
    expect(entries.emoji?.value).toBe('🙂');
  });

  it.each([
    ['a member without "="', 'novalue'],
    ['an empty key', '=value'],
    ['a key that is not a token', 'bad key=1'],
    ['a malformed percent escape', 'k=%E0%A4%A'],
  ])('skips %s and keeps the rest', (_what, bad) => {
    const entries = parseBaggage(`${bad},good=1`);
    expect(Object.keys(entries)).toEqual(['good']);
  });

  it(`keeps at most ${MAX_BAGGAGE_ENTRIES} entries`, () => {
    const raw = Array.from({ length: MAX_BAGGAGE_ENTRIES + 20 }, (_, i) => `k${i}=v`).join(',');
    expect(Object.keys(parseBaggage(raw))).toHaveLength(MAX_BAGGAGE_ENTRIES);
  });

  it(`stops at ${MAX_BAGGAGE_BYTES} bytes`, () => {
    const big = 'x'.repeat(3000);
    const entries = parseBaggage(`a=${big},b=${big},c=${big},d=1`);
    expect(Object.keys(entries)).toEqual(['a', 'b']);
  });
});

describe('baggage formatting', () => {
  it('percent-encodes values and appends metadata', () => {
    const bag = propagation.createBaggage({ user: { value: 'a b,c;d' }, plain: { value: 'x' } });
    expect(formatBaggage(bag.getAllEntries())).toBe('user=a%20b%2Cc%3Bd,plain=x');
  });

  it('drops keys that are not tokens, oversized entries, and what exceeds the total', () => {
    const bag = propagation.createBaggage({
      'bad key': { value: '1' },
      huge: { value: 'x'.repeat(5000) },
      a: { value: 'y'.repeat(4000) },
      b: { value: 'y'.repeat(4000) },
      c: { value: 'y'.repeat(4000) },
    });
    const header = formatBaggage(bag.getAllEntries())!;
    expect(header.split(',').map((m) => m.split('=')[0])).toEqual(['a', 'b']);
    expect(header.length).toBeLessThanOrEqual(MAX_BAGGAGE_BYTES);
  });

  it('round-trips through the propagator', () => {
    const p = new BaggagePropagator();
    const bag = propagation.createBaggage({ user: { value: 'Ünïcode & more' }, n: { value: '1' } });
    const headers = injected((set) => p.inject(propagation.setBaggage(ROOT_CONTEXT, bag), set, setter));
    const back = propagation.getBaggage(p.extract(ROOT_CONTEXT, headers, getter));
    expect(back?.getEntry('user')?.value).toBe('Ünïcode & more');
    expect(back?.getEntry('n')?.value).toBe('1');
  });

  it('joins repeated baggage headers; writes nothing when suppressed or empty', () => {
    const p = new BaggagePropagator();
    const back = propagation.getBaggage(p.extract(ROOT_CONTEXT, { baggage: ['a=1', 'b=2'] }, getter));
    expect(back?.getAllEntries().map(([k]) => k)).toEqual(['a', 'b']);
    const ctx = propagation.setBaggage(ROOT_CONTEXT, propagation.createBaggage({ a: { value: '1' } }));
    expect(injected((set) => p.inject(suppressTracing(ctx), set, setter))).toEqual({});
    expect(p.extract(ROOT_CONTEXT, { baggage: 'garbage' }, getter)).toBe(ROOT_CONTEXT);
  });
});
