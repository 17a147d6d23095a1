import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../../src/config/duration.js';

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['5s', 5000],
    ['1.5s', 1500],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['1h2m3s4ms', 3_723_004],
    ['0s', 0],
    ['0', 0],
    ['100', 100],
    ['2.5', 2.5],
    ['  5s  ', 5000],
  ])('%j is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    '',
    '   ',
    'soon',
    '-5s',
    '5 s',
    '1m 30s',
    '5x',
    '5sec',
    's',
    'ms',
    '1.s',
    '.5s',
    '5s!',
    '1d',
    '+5s',
  ])('%j is not a duration', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('is not confused by an earlier failed parse (the sticky regex is reset)', () => {
    expect(parseDuration('1m oops')).toBeUndefined();
    expect(parseDuration('3s')).toBe(3000);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0ms'],
    [1, '1ms'],
    [250, '250ms'],
    [1500, '1500ms'],
    [1000, '1s'],
    [5000, '5s'],
    [90_000, '90s'],
    [60_000, '1m'],
    [120_000, '2m'],
    [3_600_000, '1h'],
    [5_400_000, '90m'],
    [7_200_000, '2h'],
  ])('%d ms is %j', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('round-trips through parseDuration', () => {
    for (const ms of [0, 1, 999, 1000, 1001, 59_999, 60_000, 90_000, 3_600_000, 3_600_001, 86_400_000]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
  });
});
