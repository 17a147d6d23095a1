import { expect, test } from 'vitest';
import { normalizePath } from '../../../src/net/normalize-path.js';

test.each([
  ['/admin', '/admin'],
  ['/admin?x=1', '/admin?x=1'],
  ['/%61dmin', '/admin'],
  ['//admin', '/admin'],
  ['/./admin', '/admin'],
  ['/x/../admin', '/admin'],
  ['/x/..', '/'],
  ['/a//b///c', '/a/b/c'],
  ['/a/b/', '/a/b/'],
  ['/a/./', '/a/'],
  ['/../../admin', '/admin'],
  ['/a%2Fb', '/a%2Fb'],
  ['/a%2fb', '/a%2Fb'],
  ['/caf%C3%A9', '/caf%C3%A9'],
  ['/a%7Eb', '/a~b'],
  ['/%2e%2e/admin', '/admin'],
  ['/a?q=/../x', '/a?q=/../x'],
])('%s → %s', (input, expected) => {
  expect(normalizePath(input)).toBe(expected);
});

test.each([['/bad%zz'], ['/bad%4'], ['admin'], ['*']])('%s is not a usable path', (input) => {
  expect(normalizePath(input)).toBeUndefined();
});

/** Every path over `/`, `.`, `a` and `%41` up to `max` pieces, each with and without a query holding the same pieces. */
function paths(max: number): string[] {
  const pieces = ['/', '.', 'a', '%41'];
  let level = ['/'];
  const all = [...level];
  for (let len = 1; len < max; len++) {
    level = level.flatMap((p) => pieces.map((c) => p + c));
    all.push(...level);
  }
  return all.flatMap((p) => [p, `${p}?/./..//`]);
}

test('a path is returned unchanged exactly when the original regex found nothing to normalize', () => {
  // The clean-path check is a char-code scan; this is the regex it replaced, as the reference.
  const needsWork = /%|\/\/|\/\.\.?(\/|$)/;
  const all = paths(7);
  expect(all.length).toBeGreaterThan(5000);
  for (const url of all) {
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const unchanged = normalizePath(url) === url;
    expect(unchanged, url).toBe(!needsWork.test(path));
  }
});
