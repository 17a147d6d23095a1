/** Valid configs: what the defaults are and what the compact forms turn into. */
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../src/config/validate.js';

describe('valid configs', () => {
  it('fills every mesh default from an empty config', () => {
    const config = validateConfig({}, 'test');
    expect(config).toEqual({
      mesh: {
        namespace: 'default',
        clusterDomain: 'cluster.local',
        region: '',
        zone: '',
        dnsRefreshInterval: 5000,
        loadBalancer: { policy: 'peak-ewma' },
      },
      services: {},
      authorizationPolicies: [],
      requestAuthentications: [],
    });
  });

  it('treats an empty YAML document (null or undefined) as an empty config', () => {
    expect(validateConfig(null, 'test')).toEqual(validateConfig({}, 'test'));
    expect(validateConfig(undefined, 'test')).toEqual(validateConfig({}, 'test'));
  });

  it('fills mesh defaults around the fields that are set', () => {
    const config = validateConfig({ mesh: { serviceName: 'productpage', zone: 'us-east-1a' } }, 'test');
    expect(config.mesh).toEqual({
      serviceName: 'productpage',
      namespace: 'default',
      clusterDomain: 'cluster.local',
      region: '',
      zone: 'us-east-1a',
      dnsRefreshInterval: 5000,
      loadBalancer: { policy: 'peak-ewma' },
    });
  });

  it('parses endpoint strings into address and port', () => {
    const config = validateConfig(
      { services: { reviews: { endpoints: ['10.0.0.1:9080', 'reviews-2.internal:9081'] } } },
      'test',
    );
    const endpoints = config.services.reviews?.endpoints;
    expect(endpoints).toHaveLength(2);
    expect(endpoints?.[0]).toMatchObject({ address: '10.0.0.1', port: 9080 });
    expect(endpoints?.[1]).toMatchObject({ address: 'reviews-2.internal', port: 9081 });
  });

  it('parses bracketed IPv6 endpoint strings', () => {
    const config = validateConfig({ services: { reviews: { endpoints: ['[::1]:8080', '[fd00::2]:8081'] } } }, 'test');
    const endpoints = config.services.reviews?.endpoints;
    expect(endpoints?.[0]).toMatchObject({ address: '::1', port: 8080 });
    expect(endpoints?.[1]).toMatchObject({ address: 'fd00::2', port: 8081 });
  });

  it('accepts endpoints without a port when the service sets one', () => {
    const config = validateConfig(
      { services: { reviews: { port: 9080, endpoints: ['reviews-1', '[::1]', '::2', { address: '10.0.0.3' }] } } },
      'test',
    );
    const endpoints = config.services.reviews?.endpoints ?? [];
    expect(endpoints.map((e) => e.address)).toEqual(['reviews-1', '::1', '::2', '10.0.0.3']);
    expect(endpoints.map((e) => e.port)).toEqual([undefined, undefined, undefined, undefined]);
    expect(config.services.reviews?.port).toBe(9080);
  });

  it('keeps endpoint maps as written', () => {
    const endpoint = {
      address: '10.0.0.1',
      port: 9080,
      weight: 3,
      region: 'us-east-1',
      zone: 'us-east-1a',
      priority: 1,
      labels: { version: 'v2', 'app.kubernetes.io/name': 'reviews' },
    };
    const config = validateConfig({ services: { reviews: { endpoints: [endpoint] } } }, 'test');
    expect(config.services.reviews?.endpoints?.[0]).toEqual(endpoint);
  });

  it('turns duration strings into milliseconds', () => {
    expect(validateConfig({ mesh: { dnsRefreshInterval: '1m30s' } }, 'test').mesh.dnsRefreshInterval).toBe(90_000);
    expect(validateConfig({ mesh: { dnsRefreshInterval: '250ms' } }, 'test').mesh.dnsRefreshInterval).toBe(250);
    expect(validateConfig({ mesh: { dnsRefreshInterval: 1500 } }, 'test').mesh.dnsRefreshInterval).toBe(1500);
    expect(validateConfig({ mesh: { dnsRefreshInterval: 0 } }, 'test').mesh.dnsRefreshInterval).toBe(0);
  });

  it('accepts a service with discovery instead of endpoints', () => {
    const config = validateConfig({ services: { ratings: { discovery: 'dns:ratings.internal:9080' } } }, 'test');
    expect(config.services.ratings).toEqual({ discovery: 'dns:ratings.internal:9080' });
  });

  it('leaves policy unset in a service load balancer that names none', () => {
    const config = validateConfig(
      { services: { reviews: { endpoints: ['a:1'], loadBalancer: { panicThreshold: 50 } } } },
      'test',
    );
    expect(config.services.reviews?.loadBalancer).toEqual({ panicThreshold: 50 });
  });

  it('defaults ring size bounds and lowercases a hashOn header', () => {
    const config = validateConfig(
      {
        services: {
          reviews: {
            endpoints: ['a:1'],
            loadBalancer: { policy: 'ring-hash', hashOn: { header: 'X-User-Id' }, ringSize: {} },
          },
        },
      },
      'test',
    );
    expect(config.services.reviews?.loadBalancer).toEqual({
      policy: 'ring-hash',
      hashOn: { header: 'x-user-id' },
      ringSize: { min: 1024, max: 8_388_608 },
    });
  });

  it('accepts each hashOn key on its own', () => {
    for (const hashOn of [{ cookie: 'session' }, { sourceIp: true }, { queryParameter: 'user' }]) {
      const config = validateConfig(
        { services: { reviews: { endpoints: ['a:1'], loadBalancer: { policy: 'maglev', hashOn } } } },
        'test',
      );
      expect(config.services.reviews?.loadBalancer?.hashOn).toEqual(hashOn);
    }
  });

  it('accepts a prime maglev table size and subsets with their own policy', () => {
    const config = validateConfig(
      {
        services: {
          reviews: {
            endpoints: ['a:1'],
            loadBalancer: { policy: 'maglev', maglevTableSize: 65_537 },
            subsets: { v2: { labels: { version: 'v2' }, loadBalancer: { policy: 'round-robin' } } },
          },
        },
      },
      'test',
    );
    expect(config.services.reviews?.loadBalancer?.maglevTableSize).toBe(65_537);
    expect(config.services.reviews?.subsets?.v2).toEqual({
      labels: { version: 'v2' },
      loadBalancer: { policy: 'round-robin' },
    });
  });
});
