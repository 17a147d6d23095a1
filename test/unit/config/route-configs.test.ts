/**
 * Routes and resilience settings in a whole config: what a user sees when
 * one is wrong, with its full path, whether the schema or the
 * cross-reference check (unknown service or subset) catches it.
 */
import { expect, test } from 'vitest';
import { ConfigError } from '../../../src/config/config-error.js';
import { validateConfig } from '../../../src/config/validate.js';
import { createMesh } from '../../../src/index.js';

function issuesOf(raw: unknown): Array<{ path: string; message: string }> {
  try {
    validateConfig(raw, 'test');
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => ({ path: i.path, message: i.message }));
    throw err;
  }
  throw new Error('expected the config to be rejected');
}

const base = {
  endpoints: ['10.0.0.1:9080'],
  subsets: { v1: { labels: { version: 'v1' } } },
};

test('a bad duration deep in a route names its full path', () => {
  const issues = issuesOf({
    services: { reviews: { ...base, routes: [{ route: [{ destination: { subset: 'v1' } }], retries: { perTryTimeout: 'fast' } }] } },
  });
  expect(issues).toHaveLength(1);
  expect(issues[0]!.path).toBe('services.reviews.routes[0].retries.perTryTimeout');
  expect(issues[0]!.message).toContain('"fast" is not a duration');
});

test('an unknown retryOn condition lists the allowed ones', () => {
  const issues = issuesOf({ services: { reviews: { ...base, retries: { retryOn: '5xx,gateway-eror' } } } });
  expect(issues[0]!.path).toMatch(/^services\.reviews\.retries\.retryOn/);
  expect(issues[0]!.message).toContain('gateway-error');
});

test('mesh-level defaults are validated too', () => {
  const issues = issuesOf({ mesh: { retryBudget: { ratio: -1 } }, services: {} });
  expect(issues[0]!.path).toBe('mesh.retryBudget.ratio');
});

test('a route to a subset or service that does not exist is rejected with its path, and nothing is applied', () => {
  const good = { services: { reviews: { ...base, routes: [{ route: [{ destination: { subset: 'v1' } }] }] } } };
  const mesh = createMesh({ env: false, config: good });
  try {
    const before = mesh.config.current.version;
    let caught: unknown;
    try {
      mesh.config.setLayer(
        'options',
        {
          services: {
            reviews: {
              ...base,
              routes: [
                { route: [{ destination: { subset: 'v3' } }] },
                { route: [{ destination: { service: 'ratings' } }], mirror: { service: 'shadow' } },
              ],
            },
          },
        },
        'options',
      );
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).issues).toEqual([
      {
        path: 'services.reviews.routes[0].route[0].destination.subset',
        message: 'names subset "v3" of service "reviews", which defines only v1',
      },
      {
        path: 'services.reviews.routes[1].route[0].destination.service',
        message: 'names service "ratings", which is not configured; known services: reviews',
      },
      {
        path: 'services.reviews.routes[1].mirror.service',
        message: 'names service "shadow", which is not configured; known services: reviews',
      },
    ]);
    expect(mesh.config.current.version).toBe(before);
  } finally {
    void mesh.destroy();
  }
});

test('config that would be ignored is refused instead: a lone weight of 0, a redirect with send-on settings, hedging without a delay', () => {
  const zero = issuesOf({
    services: { reviews: { ...base, routes: [{ route: [{ destination: { subset: 'v1' }, weight: 0 }] }] } },
  });
  expect(zero[0]!.path).toBe('services.reviews.routes[0].route');
  expect(zero[0]!.message).toContain('weights add up to 0');

  const redirect = issuesOf({
    services: {
      reviews: { ...base, routes: [{ redirect: { uri: '/new' }, timeout: '1s', mirror: { subset: 'v1' }, rateLimit: { maxTokens: 5 } }] },
    },
  });
  expect(redirect.map((i) => i.path).sort()).toEqual([
    'services.reviews.routes[0].mirror',
    'services.reviews.routes[0].rateLimit',
    'services.reviews.routes[0].timeout',
  ]);
  expect(redirect[0]!.message).toContain('a redirect answers the request itself');

  const hedging = issuesOf({ services: { reviews: { ...base, hedging: { maxRequests: 1 } } } });
  expect(hedging[0]!.path).toBe('services.reviews.hedging.delay');
});

test('mirrors: not beside mirror or mirrorPercentage, at least one, and each percentage a percentage', () => {
  const route = (extra: Record<string, unknown>) => issuesOf({ services: { reviews: { ...base, routes: [{ route: [{ destination: { subset: 'v1' } }], ...extra }] } } });
  expect(route({ mirror: { subset: 'v1' }, mirrors: [{ destination: { subset: 'v1' } }] })).toEqual([
    {
      path: 'services.reviews.routes[0].mirrors',
      message: 'set mirror (one copy, with mirrorPercentage) or mirrors (several, each with its percentage), not both',
    },
  ]);
  expect(route({ mirrorPercentage: 5, mirrors: [{ destination: { subset: 'v1' } }] })[0]!.path).toBe('services.reviews.routes[0].mirrors');
  expect(route({ mirrors: [] })).toEqual([{ path: 'services.reviews.routes[0].mirrors', message: 'must list at least one mirror' }]);
  expect(route({ mirrors: [{ destination: { subset: 'v1' }, percentage: 120 }] })).toEqual([
    { path: 'services.reviews.routes[0].mirrors[0].percentage', message: 'must be a percentage from 0 to 100, got 120' },
  ]);
});
