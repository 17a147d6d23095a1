import { describe, expect, it } from 'vitest';
import { backoffDelay, parseRetryAfter } from '../../../src/resilience/backoff.js';

const ENVOY = { baseMs: 25, maxMs: 250 };
const ALMOST_ONE = 1 - Number.EPSILON;

describe('backoffDelay', () => {
  it('draws the first retry from [0, base)', () => {
    expect(backoffDelay(1, ENVOY, 0)).toBe(0);
    expect(backoffDelay(1, ENVOY, 0.5)).toBe(12);
    expect(backoffDelay(1, ENVOY, ALMOST_ONE)).toBe(24);
  });

  it('grows the ceiling as (2^n − 1) × base: 25, 75, 175, then the cap', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, ENVOY, ALMOST_ONE))).toEqual([24, 74, 174, 249, 249]);
  });

  it('scales linearly with the random draw (full jitter)', () => {
    expect(backoffDelay(3, ENVOY, 0.25)).toBe(43);
    expect(backoffDelay(3, ENVOY, 0.5)).toBe(87);
    expect(backoffDelay(3, ENVOY, 0.75)).toBe(131);
  });

  it('spreads capped waits over [0, max) instead of piling them at max', () => {
    const draws = Array.from({ length: 10 }, (_, i) => backoffDelay(10, ENVOY, i / 10));
    expect(draws).toEqual([0, 25, 50, 75, 100, 125, 150, 175, 200, 225]);
  });

  it('stays finite and capped for huge retry numbers', () => {
    expect(backoffDelay(5000, ENVOY, 0.5)).toBe(125);
  });

  it('treats a retry number below 1 as the first retry', () => {
    expect(backoffDelay(0, ENVOY, ALMOST_ONE)).toBe(24);
  });

  it('clamps a random outside [0, 1)', () => {
    expect(backoffDelay(1, ENVOY, 1)).toBe(24);
    expect(backoffDelay(1, ENVOY, -0.5)).toBe(0);
  });
});

describe('parseRetryAfter', () => {
  const NOW = Date.UTC(2015, 9, 21, 7, 28, 0); // Wed, 21 Oct 2015 07:28:00 GMT

  it('reads delta-seconds', () => {
    expect(parseRetryAfter('120', NOW)).toBe(120_000);
    expect(parseRetryAfter('0', NOW)).toBe(0);
    expect(parseRetryAfter(' 3 ', NOW)).toBe(3000);
  });

  it('reads an IMF-fixdate relative to now', () => {
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', NOW)).toBe(30_000);
    expect(parseRetryAfter('Thu, 22 Oct 2015 07:28:00 GMT', NOW)).toBe(86_400_000);
  });

  it('reads the obsolete RFC 850 form, with the two-digit year resolved per RFC 9110', () => {
    expect(parseRetryAfter('Wednesday, 21-Oct-15 07:29:00 GMT', NOW)).toBe(60_000);
    // "94" cannot mean 2094 (more than 50 years ahead), so it is 1994: long past.
    expect(parseRetryAfter('Sunday, 06-Nov-94 08:49:37 GMT', NOW)).toBe(0);
  });

  it('reads the obsolete asctime form as UTC', () => {
    expect(parseRetryAfter('Wed Oct 21 07:28:10 2015', NOW)).toBe(10_000);
    expect(parseRetryAfter('Wed Oct  1 07:28:10 2015', NOW)).toBe(0);
    expect(parseRetryAfter('Sun Nov  6 08:49:37 2016', NOW)).toBe(Date.UTC(2016, 10, 6, 8, 49, 37) - NOW);
  });

  it('returns 0 for a date in the past', () => {
    expect(parseRetryAfter('Tue, 20 Oct 2015 07:28:00 GMT', NOW)).toBe(0);
  });

  it('accepts a leap second', () => {
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:60 GMT', NOW)).toBe(60_000);
  });

  it.each([
    undefined,
    '',
    '-5',
    '1.5',
    '5s',
    'soon',
    'Wed, 21 Oct 2015 07:28:00 UTC',
    'Wed, 31 Feb 2015 07:28:00 GMT',
    'Wed, 21 Oct 2015 24:00:00 GMT',
    'Wed, 21 Oct 2015 07:61:00 GMT',
    'Wed, 21 Foo 2015 07:28:00 GMT',
    '2015-10-21T07:28:30Z',
    'Wed, 00 Oct 2015 07:28:00 GMT',
  ])('returns undefined for %j', (value) => {
    expect(parseRetryAfter(value, NOW)).toBeUndefined();
  });
});
