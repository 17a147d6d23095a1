/**
 * Custom load-balancer policy names: which names config accepts (the schema),
 * whether a named policy is registered in the mesh (the per-mesh check), and
 * which names `createMesh({ balancers })` takes.
 */
import { describe, expect, it } from 'vitest';
import { builtinPolicies } from '../../../src/balancer/policies.js';
import { registerPolicies } from '../../../src/balancer/register-policies.js';
import { roundRobinPicker } from '../../../src/balancer/round-robin.js';
import type { PickerFactory } from '../../../src/balancer/types.js';
import { checkLbPolicies } from '../../../src/config/lb-policy-check.js';
import { validateConfig } from '../../../src/config/validate.js';
import { isMeshError } from '../../../src/errors.js';
import { Registry } from '../../../src/registry.js';
import { configIssuesOf } from '../../helpers/rejections.js';

const NAME_RULE =
  'must be one of "peak-ewma", "least-request", "round-robin", "random", "ring-hash", "maglev", or a custom policy registered in code under a qualified name: "<prefix>/<name>" (lowercase letters, digits, "-" and ".", each part starting and ending with a letter or digit), such as "example.com/fastest", or gRPC\'s dotted form (identifiers of letters, digits and "_", not starting with a digit, joined by at least one "."), such as "myorg.FewestInFlight"';

function withPolicy(policy: unknown): unknown {
  return { services: { reviews: { endpoints: ['10.0.0.1:9080'], loadBalancer: { policy } } } };
}

function registry(): Registry<PickerFactory> {
  return new Registry<PickerFactory>('load-balancer policy', builtinPolicies());
}

describe('loadBalancer.policy names', () => {
  it.each(['example.com/fastest', 'acme/zone-aware', 'a/b', 'lb.acme.io/v2.weighted', 'acme/round-robin'])(
    'accepts the qualified custom name %s',
    (policy) => {
      const config = validateConfig(withPolicy(policy), 'test');
      expect(config.services.reviews!.loadBalancer!.policy).toBe(policy);
    },
  );

  // gRPC's form (gRFC A52 names a custom policy by a TypedStruct's type_url, such as myorg.MyCustomLeastRequestPolicy).
  it.each(['myorg.FewestInFlight', 'a.b', '_x.Y_2', 'com.example.lb.v1.Fancy', `a.${'x'.repeat(251)}`])(
    'accepts the dotted custom name %s',
    (policy) => {
      const config = validateConfig(withPolicy(policy), 'test');
      expect(config.services.reviews!.loadBalancer!.policy).toBe(policy);
    },
  );

  it('accepts custom names at the mesh and subset levels too', () => {
    const config = validateConfig(
      {
        mesh: { loadBalancer: { policy: 'acme/default' } },
        services: { reviews: { endpoints: ['a:1'], subsets: { v1: { labels: { v: '1' }, loadBalancer: { policy: 'acme/v1' } } } } },
      },
      'test',
    );
    expect(config.mesh.loadBalancer.policy).toBe('acme/default');
    expect(config.services.reviews!.subsets!.v1!.loadBalancer!.policy).toBe('acme/v1');
  });

  // An unqualified unknown name is a misspelt built-in as far as the schema can tell.
  it.each([
    ['fastest', '"fastest"'],
    ['RANDOM', '"RANDOM"'],
    ['round_robin', '"round_robin"'],
    ['Acme/fast', '"Acme/fast"'],
    ['acme/', '"acme/"'],
    ['/fast', '"/fast"'],
    ['acme/lb/fast', '"acme/lb/fast"'],
    ['acme_corp/fast', '"acme_corp/fast"'],
    ['acme/-fast', '"acme/-fast"'],
    [`acme/${'x'.repeat(64)}`, `"acme/${'x'.repeat(64)}"`],
    // Dotted names: identifiers only, at least one dot, at most 253 characters.
    ['round.', '"round."'],
    ['.Fancy', '".Fancy"'],
    ['myorg..Fancy', '"myorg..Fancy"'],
    ['my-org.Fancy', '"my-org.Fancy"'],
    ['1org.Fancy', '"1org.Fancy"'],
    ['myorg.9fancy', '"myorg.9fancy"'],
    ['myorg.Fancy/v2', '"myorg.Fancy/v2"'],
    [`a.${'x'.repeat(252)}`, `"a.${'x'.repeat(252)}"`],
  ])('rejects %s with the rule', (policy, shown) => {
    expect(configIssuesOf(withPolicy(policy))).toEqual([{ path: 'services.reviews.loadBalancer.policy', message: `${NAME_RULE}; got ${shown}` }]);
  });

  it('still says what type it wants for a non-string', () => {
    expect(configIssuesOf(withPolicy(3))).toEqual([{ path: 'services.reviews.loadBalancer.policy', message: 'must be a string, got number 3' }]);
  });
});

describe('checkLbPolicies', () => {
  it('passes built-in and registered custom policies at every level', () => {
    const policies = registry().register('acme/sticky', roundRobinPicker);
    const config = validateConfig(
      {
        mesh: { loadBalancer: { policy: 'acme/sticky' } },
        services: {
          reviews: {
            endpoints: ['a:1'],
            loadBalancer: { policy: 'maglev' },
            subsets: { v1: { labels: { v: '1' }, loadBalancer: { policy: 'acme/sticky' } } },
          },
        },
      },
      'test',
    );
    expect(checkLbPolicies(config, policies)).toEqual([]);
  });

  it('checks dotted names against the registry like prefixed ones', () => {
    const config = validateConfig(
      {
        services: {
          reviews: { endpoints: ['a:1'], loadBalancer: { policy: 'myorg.Sticky' } },
          ratings: { endpoints: ['b:1'], loadBalancer: { policy: 'myorg.Missing' } },
        },
      },
      'test',
    );
    const issues = checkLbPolicies(config, registry().register('myorg.Sticky', roundRobinPicker));
    expect(issues.map((i) => i.path)).toEqual(['services.ratings.loadBalancer.policy']);
    expect(issues[0]!.message).toMatch(/^service "ratings" names load-balancer policy "myorg\.Missing", which is not registered/);
  });

  it('names the service, the subset or the mesh default, and the unregistered policy, at its path', () => {
    const config = validateConfig(
      {
        mesh: { loadBalancer: { policy: 'acme/default' } },
        services: {
          reviews: {
            endpoints: ['a:1'],
            loadBalancer: { policy: 'acme/missing' },
            subsets: { 'v1.2': { labels: { v: '1' }, loadBalancer: { policy: 'acme/canary' } } },
          },
          ratings: { endpoints: ['b:1'] },
        },
      },
      'test',
    );
    const tail =
      'which is not registered in this mesh (registered: peak-ewma, least-request, round-robin, random, ring-hash, maglev); register it with createMesh({ balancers }) or mesh.balancers.register() before applying this config';
    expect(checkLbPolicies(config, registry())).toEqual([
      { path: 'mesh.loadBalancer.policy', message: `the mesh default names load-balancer policy "acme/default", ${tail}` },
      { path: 'services.reviews.loadBalancer.policy', message: `service "reviews" names load-balancer policy "acme/missing", ${tail}` },
      {
        path: 'services.reviews.subsets["v1.2"].loadBalancer.policy',
        message: `subset "v1.2" of service "reviews" names load-balancer policy "acme/canary", ${tail}`,
      },
    ]);
  });
});

describe('registerPolicies (createMesh({ balancers }))', () => {
  it('adds custom policies and replaces built-ins by name', () => {
    const policies = registry();
    const mine: PickerFactory = (endpoints) => ({ size: endpoints.length, pick: () => endpoints[0] });
    registerPolicies(policies, { 'acme/first': mine, 'round-robin': mine });
    expect(policies.get('acme/first')).toBe(mine);
    expect(policies.get('round-robin')).toBe(mine);
  });

  it('refuses a name config could never select, with a typed error', () => {
    const policies = registry();
    let err: unknown;
    try {
      registerPolicies(policies, { fastest: roundRobinPicker });
    } catch (e) {
      err = e;
    }
    expect(isMeshError(err)).toBe(true);
    expect(err).toMatchObject({ code: 'MESH_INVALID_ARGUMENT', details: { policy: 'fastest' } });
    expect((err as Error).message).toContain('config could never select a policy named "fastest"');
    expect(policies.has('fastest')).toBe(false);
  });

  it('takes a dotted gRPC-style name, and names both forms when it refuses one', () => {
    const policies = registry();
    registerPolicies(policies, { 'myorg.FewestInFlight': roundRobinPicker });
    expect(policies.get('myorg.FewestInFlight')).toBe(roundRobinPicker);
    expect(() => registerPolicies(policies, { 'myorg.': roundRobinPicker })).toThrow(
      expect.objectContaining({ code: 'MESH_INVALID_ARGUMENT', message: expect.stringMatching(/"myorg\.".*"example\.com\/fastest".*"myorg\.FewestInFlight"/) }),
    );
  });

  it('refuses something that is not a factory', () => {
    expect(() => registerPolicies(registry(), { 'acme/x': 'round-robin' as unknown as PickerFactory })).toThrow(
      /"acme\/x" must be a picker factory \(a function\), got string/,
    );
  });
});
