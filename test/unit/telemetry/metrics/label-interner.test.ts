import { describe, expect, it } from 'vitest';
import { LabelInterner, OVERFLOW } from '../../../../src/telemetry/metrics/label-interner.js';

const pair = (o: { a: string; b: string }) => [o.a, o.b];

describe('LabelInterner', () => {
  it('gives one id per content, whichever object carries it', () => {
    const interner = new LabelInterner(pair, 10);
    const x = { a: 'x', b: 'y' };
    expect(interner.id(x)).toBe(0);
    expect(interner.id(x)).toBe(0);
    expect(interner.id({ a: 'x', b: 'y' })).toBe(0);
    expect(interner.id({ a: 'y', b: 'x' })).toBe(1);
    expect(interner.values(1)).toEqual(['y', 'x']);
  });

  it('keeps contents apart whatever characters the values hold', () => {
    const interner = new LabelInterner(pair, 10);
    const ids = [
      interner.id({ a: 'a:b', b: 'c' }),
      interner.id({ a: 'a', b: 'b:c' }),
      interner.id({ a: '1:a', b: '' }),
      interner.id({ a: '', b: '1:a' }),
      interner.id({ a: 'a\u0000', b: 'b' }),
      interner.id({ a: 'a', b: '\u0000b' }),
    ];
    expect(new Set(ids).size).toBe(6);
  });

  it('answers OVERFLOW for new contents once full, and still knows the old ones', () => {
    const interner = new LabelInterner(pair, 2);
    interner.id({ a: '1', b: '1' });
    interner.id({ a: '2', b: '2' });
    expect(interner.id({ a: '3', b: '3' })).toBe(OVERFLOW);
    expect(interner.id({ a: '1', b: '1' })).toBe(0);
    expect(interner.size).toBe(2);
  });
});

describe('LabelInterner, the object seen last', () => {
  it('answers its id again, OVERFLOW included, and still tells other objects apart', () => {
    const interner = new LabelInterner(pair, 1);
    const x = { a: 'x', b: 'y' };
    const y = { a: 'y', b: 'x' };
    expect(interner.id(x)).toBe(0);
    expect(interner.id(x)).toBe(0);
    expect(interner.id(y)).toBe(OVERFLOW);
    expect(interner.id(y)).toBe(OVERFLOW);
    expect(interner.id(x)).toBe(0);
  });
});
