/** Header mutations: compile, merge, and apply to undici's request and response header shapes. */
import { describe, expect, it } from 'vitest';
import {
  compileHeaderMutation,
  type HeaderMutation,
  mergeMutations,
  mutateRequestHeaders,
  mutateResponseHeaders,
} from '../../../src/routing/header-mutation.js';

const M: HeaderMutation = {
  remove: ['x-internal'],
  set: [['x-env', 'prod']],
  add: [['via', 'mesh']],
};

describe('compileHeaderMutation', () => {
  it('lowercases names and keeps set, add and remove apart', () => {
    expect(compileHeaderMutation({ set: { 'X-A': '1' }, add: { Via: 'm' }, remove: ['X-Gone'] })).toEqual({
      set: [['x-a', '1']],
      add: [['via', 'm']],
      remove: ['x-gone'],
    });
  });

  it('is undefined when nothing changes, so callers skip the copy', () => {
    expect(compileHeaderMutation(undefined)).toBeUndefined();
    expect(compileHeaderMutation({})).toBeUndefined();
    expect(compileHeaderMutation({ set: {}, add: {}, remove: [] })).toBeUndefined();
  });
});

describe('mutateRequestHeaders', () => {
  it('removes, then replaces set names, then appends, on a flat array', () => {
    const input = ['Host', 'a', 'X-Internal', 'secret', 'x-env', 'dev', 'X-ENV', 'test', 'Via', 'lb', 'accept', '*/*'];
    expect(mutateRequestHeaders(input, M)).toEqual([
      'Host',
      'a',
      'Via',
      'lb',
      'accept',
      '*/*',
      'x-env',
      'prod',
      'via',
      'mesh',
    ]);
    expect(input).toHaveLength(12);
  });

  it('decodes Buffer names and values as Latin-1', () => {
    const input = [Buffer.from('X-Name'), Buffer.from('caf\xe9', 'latin1'), Buffer.from('x-internal'), Buffer.from('s')];
    expect(mutateRequestHeaders(input, M)).toEqual(['X-Name', 'café', 'x-env', 'prod', 'via', 'mesh']);
  });

  it('flattens a record, one pair per value of an array', () => {
    const input = { host: 'a', 'x-internal': 's', cookie: ['a=1', 'b=2'], skipped: undefined };
    expect(mutateRequestHeaders(input, M)).toEqual([
      'host',
      'a',
      'cookie',
      'a=1',
      'cookie',
      'b=2',
      'x-env',
      'prod',
      'via',
      'mesh',
    ]);
  });

  it('reads iterables of pairs (Headers, Map) and arrays of pairs', () => {
    const expected = ['host', 'a', 'x-env', 'prod', 'via', 'mesh'];
    expect(mutateRequestHeaders(new Map([['host', 'a'], ['x-env', 'old']]), M)).toEqual(expected);
    expect(mutateRequestHeaders(new Headers({ host: 'a', 'x-internal': 's' }), M)).toEqual(expected);
    expect(mutateRequestHeaders([['host', 'a'], ['X-Internal', 's']], M)).toEqual(expected);
  });

  it('treats null and undefined as no headers', () => {
    expect(mutateRequestHeaders(null, M)).toEqual(['x-env', 'prod', 'via', 'mesh']);
    expect(mutateRequestHeaders(undefined, M)).toEqual(['x-env', 'prod', 'via', 'mesh']);
  });
});

describe('mutateResponseHeaders', () => {
  it('removes, sets and appends, turning a single value into a list when adding', () => {
    const input = { 'x-internal': 's', 'x-env': ['a', 'b'], via: 'lb', 'content-type': 'text/plain' };
    expect(mutateResponseHeaders(input, M)).toEqual({ via: ['lb', 'mesh'], 'content-type': 'text/plain', 'x-env': 'prod' });
    expect(input.via).toBe('lb');
  });

  it('copies arrays before appending, leaving the caller’s record alone', () => {
    const cookies = ['a=1'];
    const out = mutateResponseHeaders({ 'set-cookie': cookies }, { set: [], add: [['set-cookie', 'b=2']], remove: [] });
    expect(out['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(cookies).toEqual(['a=1']);
  });

  it('drops undefined values and adds names that were absent', () => {
    expect(mutateResponseHeaders({ gone: undefined }, { set: [], add: [['via', 'mesh']], remove: [] })).toEqual({
      via: 'mesh',
    });
  });
});

describe('mergeMutations', () => {
  const apply = (m: HeaderMutation | undefined, headers: string[]) => (m ? mutateRequestHeaders(headers, m) : headers);

  it('is undefined for nothing, and the one mutation for one', () => {
    expect(mergeMutations(undefined, undefined)).toBeUndefined();
    expect(mergeMutations(undefined, M)).toBe(M);
  });

  it('lets a later set win', () => {
    const later: HeaderMutation = { set: [['x-env', 'canary']], add: [], remove: [] };
    expect(mergeMutations(M, later)?.set).toEqual([['x-env', 'canary']]);
  });

  it('equals applying each mutation in turn', () => {
    const a: HeaderMutation = { set: [['x-a', '1']], add: [['x-b', '2'], ['x-c', '3']], remove: ['x-d'] };
    const b: HeaderMutation = { set: [['x-b', 'B']], add: [['x-a', 'A']], remove: ['x-c'] };
    const headers = ['x-a', '0', 'x-b', '0', 'x-c', '0', 'x-d', '0', 'x-e', '0'];
    const sorted = (h: string[]) => {
      const pairs: string[] = [];
      for (let i = 0; i < h.length; i += 2) pairs.push(`${h[i]}=${h[i + 1]}`);
      return pairs.sort();
    };
    const merged = mergeMutations(a, b);
    expect(sorted(apply(merged, headers))).toEqual(sorted(apply(b, apply(a, headers))));
    expect(sorted(apply(merged, headers))).toEqual(['x-a=1', 'x-a=A', 'x-b=B', 'x-e=0']);
  });
});
