import { expect, test } from 'vitest';
import { PeerLabelCache } from '../../../src/telemetry/workload-labels.js';

test('a peer gets the same labels object on every request, and each peer its own', () => {
  const peers = new PeerLabelCache();
  const anonymous = peers.get(undefined, undefined);
  expect(peers.get(undefined, undefined)).toBe(anonymous);
  const a = peers.get('cluster.local/ns/shop/sa/cart', 'shop');
  expect(a.principal).toBe('spiffe://cluster.local/ns/shop/sa/cart');
  expect(a.namespace).toBe('shop');
  expect(peers.get(undefined, undefined)).toBe(anonymous);
  expect(peers.get('cluster.local/ns/shop/sa/cart', 'shop')).toBe(a);
  expect(anonymous.principal).toBe('unknown');
  expect(anonymous.namespace).toBe('unknown');
});
