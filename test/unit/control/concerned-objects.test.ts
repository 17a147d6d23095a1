import { expect, test } from 'vitest';
import { concernedObjects } from '../../../src/control/kubernetes/concerned-objects.js';

const docs = new Map<string, Record<string, unknown>>([
  ['VirtualService shop/reviews', { metadata: { namespace: 'shop' }, spec: { hosts: ['reviews'] } }],
  ['VirtualService other/reviews', { metadata: { namespace: 'other' }, spec: { hosts: ['reviews'] } }],
  ['DestinationRule default/reviews', { metadata: { namespace: 'default' }, spec: { host: 'reviews.shop.svc.cluster.local' } }],
  ['HTTPRoute frontend/to-reviews', { metadata: { namespace: 'frontend' }, spec: { parentRefs: [{ kind: 'Service', name: 'reviews', namespace: 'shop' }] } }],
  ['HTTPRoute shop/edge', { metadata: { namespace: 'shop' }, spec: { parentRefs: [{ name: 'reviews' }] } }],
  ['GRPCRoute shop/ratings', { metadata: { namespace: 'shop' }, spec: { parentRefs: [{ kind: 'Service', name: 'ratings' }] } }],
]);
const services = {
  reviews: { namespace: 'shop' },
  'reviews-admin': { namespace: 'shop', reportAs: 'reviews' },
  ratings: { namespace: 'shop' },
};

test("names the objects for the problem's Service in its namespace, a port's entry counting as its Service", () => {
  const ids = [...docs.keys()];
  const issue = (path: string) => [{ path, message: 'names subset "v9"' }];
  expect(concernedObjects(issue('services.reviews-admin.routes[0].route[0].destination.subset'), ids, docs, services, 'default')).toEqual([
    'VirtualService shop/reviews',
    'DestinationRule default/reviews',
    'HTTPRoute frontend/to-reviews',
  ]);
  expect(concernedObjects(issue('services.ratings.routes[1].match[0].uri.regex'), ids, docs, services, 'default')).toEqual(['GRPCRoute shop/ratings']);
  expect(concernedObjects(issue('mesh.loadBalancer'), ids, docs, services, 'default')).toEqual([]);
});
