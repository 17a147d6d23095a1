/**
 * `loadBalancer.config`, a custom policy's own settings: which configs the
 * schema takes (a JSON map, beside a custom policy only, including the one a
 * level inherits), and what each level ends up with when the mesh, a service
 * and a subset all have a say.
 */
import { describe, expect, it } from 'vitest';
import { effectiveLoadBalancer } from '../../../src/config/lb-levels.js';
import { mergeLayers } from '../../../src/config/merge.js';
import type { LoadBalancerConfig } from '../../../src/config/schema.js';
import { validateConfig } from '../../../src/config/validate.js';
import { configIssuesOf } from '../../helpers/rejections.js';

const service = (loadBalancer: unknown, extra: Record<string, unknown> = {}) => ({
  services: { reviews: { endpoints: ['10.0.0.1:9080'], loadBalancer, ...extra } },
});

const BUILTIN_TAIL = 'is built in and is set by the other loadBalancer fields (hashOn, ringSize, maglevTableSize, localityAware, failover, failoverPriority, distribute, panicThreshold, warmup)';

describe('loadBalancer.config', () => {
  it('is kept as written beside a custom policy, nested lists and maps included', () => {
    const config = { maxInFlight: 8, weights: [1, 2.5, null], zones: { a: 'near', b: { fallback: true } } };
    const parsed = validateConfig(service({ policy: 'myorg.FewestInFlight', config }), 'test');
    expect(parsed.services.reviews!.loadBalancer).toEqual({ policy: 'myorg.FewestInFlight', config });
    expect(validateConfig(service({ policy: 'example.com/fewest', config: {} }), 'test').services.reviews!.loadBalancer!.config).toEqual({});
  });

  it.each(['round-robin', 'peak-ewma', 'ring-hash'])('is rejected beside the built-in %s, naming the field', (policy) => {
    expect(configIssuesOf(service({ policy, config: { a: 1 } }))).toEqual([
      { path: 'services.reviews.loadBalancer.config', message: `only a custom policy takes a config; "${policy}" ${BUILTIN_TAIL}` },
    ]);
  });

  it('is rejected at a subset that names a built-in', () => {
    const raw = service({ policy: 'myorg.Fewest' }, { subsets: { v1: { labels: { v: '1' }, loadBalancer: { policy: 'maglev', config: {} } } } });
    expect(configIssuesOf(raw)).toEqual([
      { path: 'services.reviews.subsets.v1.loadBalancer.config', message: `only a custom policy takes a config; "maglev" ${BUILTIN_TAIL}` },
    ]);
  });

  it('is rejected where a level names no policy and inherits a built-in, saying where from', () => {
    expect(configIssuesOf(service({ config: { a: 1 } }))).toEqual([
      {
        path: 'services.reviews.loadBalancer.config',
        message:
          'only a custom policy takes a config; this level names no policy and inherits "peak-ewma" from the mesh, which is built in; name the custom policy here, or remove config',
      },
    ]);
    expect(configIssuesOf({ mesh: { loadBalancer: { policy: 'random' } }, ...service({ config: { a: 1 } }) })[0]!.message).toContain('inherits "random" from the mesh,');
    expect(configIssuesOf({ mesh: { loadBalancer: { config: { a: 1 } } } })).toEqual([
      {
        path: 'mesh.loadBalancer.config',
        message:
          'only a custom policy takes a config; this level names no policy and inherits "peak-ewma" from the default, which is built in; name the custom policy here, or remove config',
      },
    ]);
    const subset = service({ policy: 'least-request' }, { subsets: { v1: { labels: { v: '1' }, loadBalancer: { config: {} } } } });
    expect(configIssuesOf(subset).map((i) => [i.path, i.message.includes('inherits "least-request" from service "reviews"')])).toEqual([
      ['services.reviews.subsets.v1.loadBalancer.config', true],
    ]);
  });

  it('is accepted where a level inherits a custom policy', () => {
    const raw = {
      mesh: { loadBalancer: { policy: 'myorg.Fewest' } },
      ...service({ config: { a: 1 } }, { subsets: { v1: { labels: { v: '1' }, loadBalancer: { config: { a: 2 } } } } }),
    };
    expect(configIssuesOf(raw)).toEqual([]);
  });

  it('must be a map of JSON values; a bad value is named by its path, however deep', () => {
    expect(configIssuesOf(service({ policy: 'myorg.Fewest', config: [1] }))).toEqual([
      { path: 'services.reviews.loadBalancer.config', message: "must be a map of the custom policy's settings, got a list" },
    ]);
    expect(configIssuesOf(service({ policy: 'myorg.Fewest', config: 'fast' }))).toEqual([
      { path: 'services.reviews.loadBalancer.config', message: 'must be a map of the custom policy\'s settings, got string "fast"' },
    ]);
    const json = 'must be a JSON value (a string, a finite number, true or false, null, a list or a map), got';
    expect(configIssuesOf(service({ policy: 'myorg.Fewest', config: { pick: () => 1 } }))).toEqual([
      { path: 'services.reviews.loadBalancer.config.pick', message: `${json} a function` },
    ]);
    expect(configIssuesOf(service({ policy: 'myorg.Fewest', config: { zones: [{ weight: Number.NaN }] } }))).toEqual([
      { path: 'services.reviews.loadBalancer.config.zones[0].weight', message: `${json} number NaN` },
    ]);
    expect(configIssuesOf(service({ policy: 'myorg.Fewest', config: { since: new Date(0) } }))).toEqual([
      { path: 'services.reviews.loadBalancer.config.since', message: `${json} a Date` },
    ]);
  });
});

describe('effectiveLoadBalancer', () => {
  it('overrides field by field; a config is replaced whole and inherited while the policy stays', () => {
    expect(effectiveLoadBalancer<LoadBalancerConfig>([{ policy: 'myorg.A', config: { a: 1, b: 2 }, panicThreshold: 10 }, { config: { b: 3 } }, undefined])).toEqual({
      policy: 'myorg.A',
      config: { b: 3 },
      panicThreshold: 10,
    });
    expect(effectiveLoadBalancer<LoadBalancerConfig>([{ policy: 'myorg.A', config: { a: 1 } }, { policy: 'myorg.A', panicThreshold: 5 }])).toEqual({
      policy: 'myorg.A',
      config: { a: 1 },
      panicThreshold: 5,
    });
  });

  it("drops the inherited config where a level names another policy: policy B never gets policy A's settings", () => {
    expect(effectiveLoadBalancer<LoadBalancerConfig>([{ policy: 'myorg.A', config: { a: 1 }, panicThreshold: 10 }, { policy: 'myorg.B' }])).toEqual({
      policy: 'myorg.B',
      panicThreshold: 10,
    });
    expect(effectiveLoadBalancer<LoadBalancerConfig>([{ policy: 'myorg.A', config: { a: 1 } }, undefined, { policy: 'round-robin' }])).toEqual({ policy: 'round-robin' });
  });

  it('defaults the policy to peak-ewma', () => {
    expect(effectiveLoadBalancer<LoadBalancerConfig>([undefined, { panicThreshold: 20 }])).toEqual({ policy: 'peak-ewma', panicThreshold: 20 });
  });
});

describe('config layers (file, xds, env, options)', () => {
  const layer = (loadBalancer: Record<string, unknown>) => service(loadBalancer);
  const merged = (...layers: Record<string, unknown>[]) => validateConfig(mergeLayers(layers.map(layer)), 'test').services.reviews!.loadBalancer;

  it("drop a lower layer's config where a higher one names another policy, as levels do", () => {
    expect(merged({ policy: 'myorg.A', config: { a: 1 } }, { policy: 'myorg.B' })).toEqual({ policy: 'myorg.B' });
    // Kept, it would be rejected beside a built-in.
    expect(merged({ policy: 'myorg.A', config: { a: 1 } }, { policy: 'round-robin' })).toEqual({ policy: 'round-robin' });
  });

  it('merge a config key by key, like any map, while the policy stays', () => {
    expect(merged({ policy: 'myorg.A', config: { a: 1, b: 2 } }, { policy: 'myorg.A', config: { b: 3 } })).toEqual({ policy: 'myorg.A', config: { a: 1, b: 3 } });
    expect(merged({ policy: 'myorg.A', config: { a: 1 } }, { panicThreshold: 5 })).toEqual({ policy: 'myorg.A', config: { a: 1 }, panicThreshold: 5 });
  });
});
