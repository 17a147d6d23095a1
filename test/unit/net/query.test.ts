import { expect, test } from 'vitest';
import { findQueryValue, queryValueEnd } from '../../../src/net/query.js';

function value(path: string, name: string): string | undefined {
  const start = findQueryValue(path, name);
  return start < 0 ? undefined : path.slice(start, queryValueEnd(path, start));
}

test.each([
  ['/a?user=bob', 'user', 'bob'],
  ['/a?x=1&user=bob&user=eve', 'user', 'bob'],
  ['/a?user', 'user', ''],
  ['/a?user&x=1', 'user', ''],
  ['/a?user=', 'user', ''],
  ['/a?user=bob#frag', 'user', 'bob'],
  ['/a?username=bob', 'user', undefined],
  ['/a?x=user', 'user', undefined],
  ['/a#?user=bob', 'user', undefined],
  ['/a', 'user', undefined],
  ['/a?user=b%20b', 'user', 'b%20b'],
])('%s → %s is %s', (path, name, expected) => {
  expect(value(path, name)).toBe(expected);
});
