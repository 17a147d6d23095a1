/** Which service a host and port name: Kubernetes DNS forms, aliases, and several services on one host told apart by port. */
import { expect, test } from 'vitest';
import { HostIndex } from '../../../src/routing/host-index.js';

const index = (entries: [Parameters<typeof claim>[0], string][]) =>
  new HostIndex(
    entries.map(([s, v]) => [claim(s), v] as const),
    'shop',
    'cluster.local.',
  );
function claim(s: { name: string; namespace?: string; hosts?: string[]; port?: number }) {
  return { namespace: 'shop', ...s };
}

test('a service claims its Kubernetes names (the bare one only in its own namespace) and its aliases, case and trailing dot aside', () => {
  const hosts = index([
    [{ name: 'reviews', hosts: ['Reviews.Example.com.'] }, 'reviews'],
    [{ name: 'ratings', namespace: 'data' }, 'ratings'],
  ]);
  for (const h of ['reviews', 'reviews.shop', 'reviews.shop.svc', 'REVIEWS.shop.svc.cluster.local.', 'reviews.example.com']) expect(hosts.lookup(h)).toBe('reviews');
  expect(hosts.lookup('ratings')).toBeUndefined();
  expect(hosts.lookup('ratings.data.svc.cluster.local')).toBe('ratings');
  expect(hosts.lookup('unknown')).toBeUndefined();
});

test('a host one service claims names it on every port', () => {
  const hosts = index([[{ name: 'reviews', port: 9080 }, 'reviews']]);
  expect(hosts.lookup('reviews', 9080)).toBe('reviews');
  expect(hosts.lookup('reviews', 80)).toBe('reviews');
  expect(hosts.lookup('reviews')).toBe('reviews');
});

test('a host several services claim goes by port: the one on it, else the one with no port, else none', () => {
  const twoPorts = index([
    [{ name: 'reviews', port: 9080 }, 'http'],
    [{ name: 'reviews-grpc', port: 9090, hosts: ['reviews', 'reviews.shop.svc.cluster.local'] }, 'grpc'],
  ]);
  expect(twoPorts.lookup('reviews', 9080)).toBe('http');
  expect(twoPorts.lookup('reviews', 9090)).toBe('grpc');
  expect(twoPorts.lookup('reviews.shop.svc.cluster.local', 9090)).toBe('grpc');
  // A port neither has: no service, so the call passes through, as past a sidecar with no listener on it.
  expect(twoPorts.lookup('reviews', 80)).toBeUndefined();
  // A name only one of them claims still names it on every port.
  expect(twoPorts.lookup('reviews.shop', 9090)).toBe('http');
  const withDefault = index([
    [{ name: 'reviews' }, 'any'],
    [{ name: 'reviews-grpc', port: 9090, hosts: ['reviews'] }, 'grpc'],
  ]);
  expect(withDefault.lookup('reviews', 9090)).toBe('grpc');
  expect(withDefault.lookup('reviews', 80)).toBe('any');
});
