import { describe, expect, it } from 'vitest';
import { hashString } from '../../../src/balancer/hash.js';
import { compileRequestHash } from '../../../src/balancer/request-hash.js';

describe('compileRequestHash', () => {
  it('returns undefined for every request when there is no hashOn', () => {
    const hash = compileRequestHash(undefined);
    expect(hash('/x?a=1', { 'x-user': 'bob' }, '10.0.0.1')).toBeUndefined();
  });

  describe('header', () => {
    const hash = compileRequestHash({ header: 'X-User' });
    const bob = hashString('bob');

    it('reads a record, whatever the case of its keys', () => {
      expect(hash('/', { 'x-user': 'bob' })).toBe(bob);
      expect(hash('/', { 'X-User': 'bob' })).toBe(bob);
      expect(hash('/', { 'x-user': ['bob', 'alice'] })).toBe(bob);
    });

    it('reads undici flat arrays of strings or Buffers, alike', () => {
      expect(hash('/', ['host', 'a', 'x-user', 'bob'])).toBe(bob);
      expect(hash('/', ['HOST', 'a', 'X-USER', 'bob'])).toBe(bob);
      expect(hash('/', [Buffer.from('x-user'), Buffer.from('bob')])).toBe(bob);
      expect(hash('/', [Buffer.from('x-user'), Buffer.from('zoë')])).toBe(hashString('zoë'));
    });

    it('is undefined when the header is absent or the headers are not there', () => {
      expect(hash('/', { 'x-other': 'bob' })).toBeUndefined();
      expect(hash('/', ['x-use', 'bob', 'x-userr', 'bob'])).toBeUndefined();
      expect(hash('/', undefined)).toBeUndefined();
      expect(hash('/', null)).toBeUndefined();
      expect(hash('/', ['x-user'])).toBeUndefined();
    });

    it('hashes an empty value (the header is present)', () => {
      expect(hash('/', { 'x-user': '' })).toBe(hashString(''));
    });
  });

  describe('cookie', () => {
    const hash = compileRequestHash({ cookie: 'session' });
    const abc = hashString('abc');

    it('finds the named cookie among others', () => {
      expect(hash('/', { cookie: 'session=abc' })).toBe(abc);
      expect(hash('/', { cookie: 'theme=dark; session=abc; lang=en' })).toBe(abc);
      expect(hash('/', { cookie: 'theme=dark;session=abc ' })).toBe(abc);
      expect(hash('/', { Cookie: 'session="abc"' })).toBe(abc);
    });

    it('does not match a cookie whose name merely starts with the name', () => {
      expect(hash('/', { cookie: 'sessionid=zzz; session=abc' })).toBe(abc);
      expect(hash('/', { cookie: 'sessionid=zzz' })).toBeUndefined();
      expect(hash('/', { cookie: 'xsession=zzz' })).toBeUndefined();
    });

    it('looks through every cookie header (HTTP/2 splits them)', () => {
      expect(hash('/', ['cookie', 'a=1', 'cookie', 'session=abc'])).toBe(abc);
      expect(hash('/', { cookie: ['a=1', 'session=abc'] })).toBe(abc);
      expect(hash('/', [Buffer.from('cookie'), Buffer.from('session=abc')])).toBe(abc);
    });

    it('is undefined without the cookie', () => {
      expect(hash('/', {})).toBeUndefined();
      expect(hash('/', { cookie: '' })).toBeUndefined();
      expect(hash('/', { cookie: 'session' })).toBeUndefined();
    });
  });

  describe('query parameter', () => {
    const hash = compileRequestHash({ queryParameter: 'user' });

    it('reads the raw value from the path', () => {
      expect(hash('/a?user=bob', undefined)).toBe(hashString('bob'));
      expect(hash('/a?x=1&user=bob&y=2', undefined)).toBe(hashString('bob'));
      expect(hash('/a?user=b%20b#frag', undefined)).toBe(hashString('b%20b'));
      expect(hash('/a?user', undefined)).toBe(hashString(''));
      expect(hash('/a?user=&x=1', undefined)).toBe(hashString(''));
    });

    it('is undefined when the parameter is absent', () => {
      expect(hash('/a', undefined)).toBeUndefined();
      expect(hash('/a?username=bob', undefined)).toBeUndefined();
      expect(hash('/a?x=user', undefined)).toBeUndefined();
      expect(hash('/a#?user=bob', undefined)).toBeUndefined();
    });
  });

  describe('source IP', () => {
    const hash = compileRequestHash({ sourceIp: true });

    it('hashes the address it is given', () => {
      expect(hash('/', {}, '10.1.2.3')).toBe(hashString('10.1.2.3'));
      expect(hash('/', {}, undefined)).toBeUndefined();
      expect(hash('/', {}, '')).toBeUndefined();
    });
  });
});
