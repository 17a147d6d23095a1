/** Two services may claim one host only on different ports; otherwise the config names both and the host. */
import { expect, test } from 'vitest';
import { ConfigError } from '../../../src/config/config-error.js';
import { validateConfig } from '../../../src/config/validate.js';

function problems(services: Record<string, unknown>): string[] {
  try {
    validateConfig({ mesh: { namespace: 'shop' }, services }, 'test');
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
}

test('one Service on two ports: two services, one host, told apart by port', () => {
  expect(
    problems({
      reviews: { port: 9080, endpoints: ['10.0.0.1:9080'] },
      'reviews-grpc': { port: 9090, reportAs: 'reviews', hosts: ['reviews', 'reviews.shop.svc.cluster.local'], endpoints: ['10.0.0.1:9090'] },
    }),
  ).toEqual([]);
});

test('the same host on the same port, or on none for both, is refused where the second claims it', () => {
  expect(
    problems({
      reviews: { port: 9080, endpoints: ['10.0.0.1:9080'] },
      'reviews-copy': { port: 9080, hosts: ['Reviews.'], endpoints: ['10.0.0.2:9080'] },
    }),
  ).toEqual([
    'services.reviews-copy.hosts: claims host "reviews" on port 9080, as service "reviews" does, so a call to it could reach either; give one of them another port, or leave the host out of its hosts',
  ]);
  expect(
    problems({
      api: { endpoints: ['10.0.0.1:80'], hosts: ['api.example.com'] },
      'api-v2': { endpoints: ['10.0.0.2:80'], hosts: ['api.example.com'] },
    }),
  ).toEqual([
    'services.api-v2.hosts: claims host "api.example.com" with no port, as service "api" does, so a call to it could reach either; give one of them another port, or leave the host out of its hosts',
  ]);
  // A service whose own names another one lists: the path is the service, not its hosts.
  expect(
    problems({
      alias: { endpoints: ['10.0.0.1:80'], hosts: ['orders.shop.svc'] },
      orders: { endpoints: ['10.0.0.2:80'] },
    }),
  ).toEqual(['services.orders: claims host "orders.shop.svc" with no port, as service "alias" does, so a call to it could reach either; give one of them another port, or leave the host out of its hosts']);
});
