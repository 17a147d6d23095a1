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
