import { describe, expect, test } from 'vitest';
import { RequestTargets } from '../../../src/client/request-target.js';
import { seededRandom } from '../../helpers/seeded-random.js';

/** What undici's request(url) dispatches on: the full parse. */
function parsed(url: string): { origin: string; path: string } {
  const u = new URL(url);
  return { origin: u.origin, path: u.search ? `${u.pathname}${u.search}` : u.pathname };
}


const PREFIXES = ['http://echo', 'https://echo', 'HTTP://Echo.Default', 'http://echo:80', 'https://echo:443', 'http://echo:9080', 'http://[::1]:8', 'http://10.0.0.1', 'http://échо', 'http://a@b', 'ftp://echo', 'http:/echo', 'http://echo.'];
/** Pieces the parser keeps as they are, and pieces it may rewrite (mixed in one time in eight). */
const PLAIN = ['/', '/', 'a', 'users', '42', 'a.b', '%41', '%', '%2', '?', '&', '=', '~', '@', ':', ';', ',', '+', '$', '!', '*', '(', ')', '[', ']', '-', '_'];
const ODD = ['.', '..', '/.', '/..', '%2e', '%2E', '/%2e', '#', ' ', '\t', '"', "'", '<', '>', '\\', '^', '`', '{', '}', '|', 'é', '\u0000', '\n'];

describe('RequestTargets.split', () => {
  test('plain URLs take the fast path and give what the URL parser gives', () => {
    const targets = new RequestTargets();
    for (const url of ['http://echo/', 'http://echo/users/42?page=2&x=a:b', 'HTTP://ECHO.default.svc.cluster.local:80/a/b', 'https://echo:443/p~q@r', 'http://echo./x%41?y=%zz', 'http://10.0.0.1:9080/a.b/c.']) {
      const target = targets.split(url);
      expect(target, url).toEqual(parsed(url));
    }
  });

  test('what the parser would rewrite falls back to the full parse', () => {
    const targets = new RequestTargets();
    for (const url of ['http://echo/a/../b', 'http://echo/./a', 'http://echo/a/%2e%2E/b', 'http://echo/a#frag', 'http://echo/a b', 'http://echo/a\\b', 'http://echo/é', 'http://user@echo/a', 'http://echo?x', 'http://echo', 'ftp://echo/a', 'http://echo:99999/a', 'ws://echo/a']) {
      expect(targets.split(url), url).toBeUndefined();
    }
  });

  test('it never disagrees with the URL parser (20,000 generated URLs)', () => {
    const next = seededRandom(42);
    const targets = new RequestTargets();
    let fast = 0;
    for (let i = 0; i < 20_000; i++) {
      let url = PREFIXES[Math.floor(next() * PREFIXES.length)]! + (next() < 0.9 ? '/' : '');
      const pieces = Math.floor(next() * 8);
      for (let k = 0; k < pieces; k++) {
        const from = next() < 0.125 ? ODD : PLAIN;
        url += from[Math.floor(next() * from.length)]!;
      }
      const target = targets.split(url);
      if (target === undefined) continue;
      fast++;
      expect(target, url).toEqual(parsed(url));
    }
    // The generator must exercise the fast path, or this test proves nothing.
    expect(fast).toBeGreaterThan(2_000);
  });

  test('origins are remembered up to a bound, then forgotten, never grown without limit', () => {
    const targets = new RequestTargets();
    for (let i = 0; i < 1_000; i++) expect(targets.split(`http://svc-${i}/a`)).toEqual({ origin: `http://svc-${i}`, path: '/a' });
    expect(targets.size).toBeLessThanOrEqual(256);
  });
});
