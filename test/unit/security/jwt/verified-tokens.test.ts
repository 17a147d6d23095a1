/**
 * The verified-token cache as a data structure: what it keeps, for how
 * long, and what it lets go first (count and size bounds, least recently
 * used first out).
 */
import { describe, expect, it } from 'vitest';
import { VerifiedTokens } from '../../../../src/security/jwt/verified-tokens.js';

const T0 = 1_800_000_000_000;

describe('VerifiedTokens', () => {
  it('answers until the earlier of maxAge and the expiry it was given, then forgets', () => {
    const cache = new VerifiedTokens<string>({ maxTokens: 10, maxAgeMs: 60_000 });
    cache.set('long-lived', 'a', T0, T0 + 3_600_000);
    cache.set('short-lived', 'b', T0, T0 + 10_000);
    cache.set('no-exp', 'c', T0, undefined);
    expect(cache.get('long-lived', T0 + 59_999)).toBe('a');
    expect(cache.get('short-lived', T0 + 9_999)).toBe('b');
    expect(cache.get('short-lived', T0 + 10_000)).toBeUndefined();
    expect(cache.get('long-lived', T0 + 60_000)).toBeUndefined();
    expect(cache.get('no-exp', T0 + 60_000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('keeps nothing when maxTokens is 0, or when the token is already past its expiry', () => {
    const off = new VerifiedTokens<string>({ maxTokens: 0, maxAgeMs: 60_000 });
    off.set('t', 'a', T0, undefined);
    expect(off.get('t', T0)).toBeUndefined();
    const on = new VerifiedTokens<string>({ maxTokens: 5, maxAgeMs: 60_000 });
    on.set('expired', 'a', T0, T0);
    expect(on.size).toBe(0);
  });

  it('lets the least recently used token go first when full', () => {
    const cache = new VerifiedTokens<string>({ maxTokens: 2, maxAgeMs: 60_000 });
    cache.set('a', 'A', T0, undefined);
    cache.set('b', 'B', T0, undefined);
    expect(cache.get('a', T0 + 1)).toBe('A'); // a is now the most recent
    cache.set('c', 'C', T0 + 2, undefined);
    expect(cache.get('b', T0 + 3)).toBeUndefined();
    expect(cache.get('a', T0 + 3)).toBe('A');
    expect(cache.get('c', T0 + 3)).toBe('C');
    expect(cache.size).toBe(2);
  });

  it('holds at most maxChars of token text, and never a token larger than that', () => {
    const cache = new VerifiedTokens<string>({ maxTokens: 100, maxAgeMs: 60_000, maxChars: 25 });
    cache.set('x'.repeat(10), '1', T0, undefined);
    cache.set('y'.repeat(10), '2', T0, undefined);
    cache.set('z'.repeat(10), '3', T0, undefined);
    expect(cache.size).toBe(2);
    expect(cache.get('x'.repeat(10), T0)).toBeUndefined();
    cache.set('w'.repeat(26), '4', T0, undefined);
    expect(cache.get('w'.repeat(26), T0)).toBeUndefined();
    expect(cache.size).toBe(2);
  });

  it('replaces an entry set again without counting its text twice', () => {
    const cache = new VerifiedTokens<string>({ maxTokens: 100, maxAgeMs: 60_000, maxChars: 20 });
    for (let i = 0; i < 5; i++) cache.set('a'.repeat(10), String(i), T0 + i, undefined);
    cache.set('b'.repeat(10), 'b', T0 + 5, undefined);
    expect(cache.get('a'.repeat(10), T0 + 6)).toBe('4');
    expect(cache.get('b'.repeat(10), T0 + 6)).toBe('b');
  });
});
