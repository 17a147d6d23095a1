/** The pieces under the route table: regex literal starts, the path and header indexes, weighted choice, query lookup. */
import { describe, expect, it } from 'vitest';
import { HeaderIndex } from '../../../src/routing/header-index.js';
import { asciiLower, type IndexKey, PathIndex } from '../../../src/routing/path-index.js';
import { literalPrefix } from '../../../src/routing/regex-prefix.js';
import { EntryMatcher, queryParam } from '../../../src/routing/route-match.js';
import { WeightedChoice } from '../../../src/routing/weighted.js';
import { req } from './support.js';

describe('literalPrefix', () => {
  it.each([
    ['/u/[0-9]+', '/u/'],
    ['^/u/[0-9]+$', '/u/'],
    ['/api/v1/users', '/api/v1/users'],
    ['/a\\.json', '/a.json'],
    ['\\/x\\-y/z', '/x-y/z'],
    ['/users?', '/user'],
    ['/ab*', '/a'],
    ['/ab{2}', '/a'],
    ['/ab+c', '/ab'],
    ['/a.b', '/a'],
    ['/a\\d+', '/a'],
    ['/a(b|c)', '/a'],
    ['/a|/b', ''],
    ['(/a|/b)/c', ''],
    ['/a[|]b', '/a'],
    ['/caf\u00e9', '/caf'],
    ['.*', ''],
  ])('%s starts with %j', (pattern, prefix) => {
    expect(literalPrefix(pattern)).toBe(prefix);
  });
});

describe('PathIndex', () => {
  const index = new PathIndex([
    { kind: 'prefix', value: '/api/', fold: false },
    { kind: 'exact', value: '/api/users', fold: false },
    { kind: 'always' },
    { kind: 'prefix', value: '/api/users', fold: false },
    { kind: 'prefix', value: '/apx', fold: false },
    { kind: 'prefix', value: '/API/', fold: true },
    { kind: 'exact', value: '/API/USERS', fold: true },
    { kind: 'prefix', value: '/a', fold: false },
  ]);

  it.each([
    ['/api/users', [0, 1, 2, 3, 5, 6, 7]],
    ['/api/users/7', [0, 2, 3, 5, 7]],
    ['/Api/Users', [2, 5, 6]],
    ['/apx', [2, 4, 7]],
    ['/ap', [2, 7]],
    ['/b', [2]],
    ['', [2]],
  ])('%s has candidates %j', (path, ids) => {
    expect(index.candidates(path)).toEqual(ids);
  });

  it('lowercases ASCII only, returning the same string when there is nothing to fold', () => {
    const s = '/already/lower';
    expect(asciiLower(s)).toBe(s);
    expect(asciiLower('/MiXed/ÄÖ')).toBe('/mixed/ÄÖ');
  });
});

describe('WeightedChoice', () => {
  it('uses binary search beyond a few items and still never picks a zero weight', () => {
    const items = Array.from({ length: 20 }, (_, i) => i);
    const weights = items.map((i) => (i % 2 === 0 ? 0 : 1));
    const choice = new WeightedChoice(items, weights);
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) seen.add(choice.pick(i / 1000));
    expect([...seen].sort((a, b) => a - b)).toEqual([1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);
    expect(choice.pick(0)).toBe(1);
    expect(choice.pick(0.999999)).toBe(19);
  });

  it('keeps out-of-range draws on items with weight', () => {
    const choice = new WeightedChoice(['zero', 'a', 'b', 'zero2'], [0, 1, 1, 0]);
    expect(choice.pick(-1)).toBe('a');
    expect(choice.pick(Number.NaN)).toBe('a');
    expect(choice.pick(1)).toBe('b');
  });

  it('refuses weights it cannot use', () => {
    expect(() => new WeightedChoice(['a'], [0])).toThrow('weights add up to 0');
    expect(() => new WeightedChoice(['a'], [-1])).toThrow('weight -1 is not a finite number >= 0');
    expect(() => new WeightedChoice([], [])).toThrow(RangeError);
  });
});

describe('queryParam', () => {
  it.each([
    ['/p?a=1&b=2', 'b', '2'],
    ['/p?a=1&b=2&b=3', 'b', '2'],
    ['/p?ab=1&a=2', 'a', '2'],
    ['/p?a', 'a', ''],
    ['/p?a=', 'a', ''],
    ['/p?a=x%20y', 'a', 'x y'],
    ['/p?a=x+y', 'a', 'x+y'],
    ['/p?a=%E0%A4%A', 'a', '%E0%A4%A'],
    ['/p?a=1#b=2', 'b', undefined],
    ['/p', 'a', undefined],
    ['/p?b=1', 'a', undefined],
  ])('%s, %s → %j', (path, name, value) => {
    expect(queryParam(path, name)).toBe(value);
  });
});

describe('HeaderIndex', () => {
  const keys: IndexKey[] = [
    { kind: 'header', name: 'x-beta', value: 'b0' },
    { kind: 'prefix', value: '/api/', fold: false },
    { kind: 'header', name: 'end-user', value: 'jason' },
    { kind: 'header', name: 'x-beta', value: 'b1' },
    { kind: 'always' },
    { kind: 'header', name: 'x-beta', value: 'b0' },
  ];
  const index = new HeaderIndex(keys);
  const lists = (headers: Record<string, string>) => {
    const out: (readonly number[])[] = [];
    const n = index.collect(req('/', headers), out, 0);
    return out.slice(0, n);
  };

  it('offers the entries filed under each header value the request carries, ascending', () => {
    expect(lists({ 'x-beta': 'b0' })).toEqual([[0, 5]]);
    expect(lists({ 'x-beta': 'b1', 'end-user': 'jason' })).toEqual([[3], [2]]);
  });

  it('offers nothing for a missing header or a value no entry names', () => {
    expect(lists({})).toEqual([]);
    expect(lists({ 'x-beta': 'B0', 'end-user': 'jasonx' })).toEqual([]);
  });

  it('leaves the path keys to the path index, which leaves header keys alone', () => {
    expect(new HeaderIndex([{ kind: 'always' }]).empty).toBe(true);
    expect(new PathIndex(keys).candidates('/api/x')).toEqual([1, 4]);
  });

  it('is where an entry with no uri but an exact header is filed; other entries are not', () => {
    expect(new EntryMatcher({ headers: { 'End-User': { exact: 'jason' } } }).indexKey).toEqual({
      kind: 'header',
      name: 'end-user',
      value: 'jason',
    });
    expect(new EntryMatcher({ headers: { 'x-v': { prefix: '1' }, 'x-w': { exact: '2' } } }).indexKey).toEqual({
      kind: 'header',
      name: 'x-w',
      value: '2',
    });
    expect(new EntryMatcher({ headers: { 'x-v': { regex: '1.*' } } }).indexKey).toEqual({ kind: 'always' });
    expect(new EntryMatcher({ uri: { prefix: '/a' }, headers: { 'x-v': { exact: '1' } } }).indexKey.kind).toBe('prefix');
  });
});
