/**
 * A custom load-balancer policy over xDS from proxyless's own control plane.
 * Every custom name travels in the cluster's proxyless metadata (lb_policy
 * says ROUND_ROBIN, for clients that know nothing of it), and the client
 * decodes the name unchanged, for its mesh to check against its own
 * registry. A dotted, gRPC-style name is also offered in the standard
 * `load_balancing_policy` as a TypedStruct (gRFC A52), which
 * @grpc/grpc-js-xds's own converter reads.
 */
import { createRequire } from 'node:module';
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it, test } from 'vitest';
import { validateConfig } from '../../../../src/config/validate.js';
import { buildSnapshot } from '../../../../src/control/snapshot.js';
import { decodeCluster } from '../../../../src/discovery/xds/decode-cluster.js';
import { TYPE_URL, unpackAny } from '../../../../src/discovery/xds/envoy-protos.js';

type Obj = Record<string, unknown>;

function servedCluster(loadBalancer: Obj): Obj {
  const config = validateConfig({ services: { reviews: { port: 9080, endpoints: ['10.0.0.1'], loadBalancer } } }, 'test');
  const clusters = [...(buildSnapshot(config, '1').resources.get(TYPE_URL.cluster as never)?.values() ?? [])];
  expect(clusters).toHaveLength(1);
  const any = clusters[0]!.any as { type_url: string; value: Uint8Array };
  return unpackAny(any.type_url, any.value);
}

test('a custom policy travels in the cluster metadata; lb_policy stays ROUND_ROBIN for other clients', () => {
  const raw = servedCluster({ policy: 'example.com/highest-key', panicThreshold: 20 });
  expect(raw.lb_policy).toBe('ROUND_ROBIN');
  // A "<prefix>/<name>" name cannot be a TypedStruct's type_url (A52 keeps only what follows the last "/").
  expect(raw.load_balancing_policy).toBeNull();
  const decoded = decodeCluster(raw, () => {});
  expect(decoded.loadBalancers).toEqual([expect.objectContaining({ policy: 'example.com/highest-key', panicThreshold: 20 })]);
});

test.each(['peak-ewma', 'round-robin', 'ring-hash'])('the built-in %s leaves load_balancing_policy unset: gRPC clients read lb_policy as before', (policy) => {
  expect(servedCluster({ policy }).load_balancing_policy).toBeNull();
});

describe('a dotted custom policy', () => {
  const CONFIG = { maxInFlight: 8, zones: ['a', 'b'], tuning: { decay: 0.5, enabled: true } };

  it('is offered as a TypedStruct carrying its config, then RoundRobin; lb_policy stays ROUND_ROBIN', () => {
    const raw = servedCluster({ policy: 'myorg.FewestInFlight', config: CONFIG });
    expect(raw.lb_policy).toBe('ROUND_ROBIN');
    const policies = (raw.load_balancing_policy as { policies: { typed_extension_config: { name: string; typed_config: { type_url: string; value: Uint8Array } } }[] }).policies;
    expect(policies.map((p) => [p.typed_extension_config.name, p.typed_extension_config.typed_config.type_url])).toEqual([
      ['myorg.FewestInFlight', 'type.googleapis.com/xds.type.v3.TypedStruct'],
      ['envoy.load_balancing_policies.round_robin', 'type.googleapis.com/envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin'],
    ]);
    const ts = unpackAny(policies[0]!.typed_extension_config.typed_config.type_url, policies[0]!.typed_extension_config.typed_config.value);
    expect(ts.type_url).toBe('type.googleapis.com/myorg.FewestInFlight');
  });

  it('decodes, through the metadata, to exactly the configured block: a proxyless client without it rejects the update', () => {
    const decoded = decodeCluster(servedCluster({ policy: 'myorg.FewestInFlight', config: CONFIG }), () => {});
    expect(decoded.loadBalancers).toEqual([expect.objectContaining({ policy: 'myorg.FewestInFlight', config: CONFIG })]);
  });

  it('decodes from the standard field alone (as from another control plane) to the policy with its config, then round-robin', () => {
    const raw = servedCluster({ policy: 'myorg.FewestInFlight', config: CONFIG });
    const decoded = decodeCluster({ ...raw, metadata: null }, () => {});
    expect(decoded.loadBalancers).toEqual([{ policy: 'myorg.FewestInFlight', config: CONFIG }, { policy: 'round-robin' }]);
  });

  it('is read by @grpc/grpc-js-xds: the policy with its config once registered in grpc-js, round_robin until then', () => {
    const require = createRequire(import.meta.url);
    const registry = require('@grpc/grpc-js-xds/build/src/lb-policy-registry.js') as { convertToLoadBalancingConfig(policy: unknown): Obj };
    (require('@grpc/grpc-js-xds/build/src/lb-policy-registry/typed-struct.js') as { setup(): void }).setup();
    (require('@grpc/grpc-js-xds/build/src/lb-policy-registry/round-robin.js') as { setup(): void }).setup();
    const policy = servedCluster({ policy: 'myorg.GrpcReads', config: CONFIG }).load_balancing_policy;
    expect(registry.convertToLoadBalancingConfig(policy)).toEqual({ round_robin: {} });

    class Config {
      getLoadBalancerName(): string {
        return 'myorg.GrpcReads';
      }
      toJsonObject(): object {
        return {};
      }
      static createFromJson(): Config {
        return new Config();
      }
    }
    grpc.experimental.registerLoadBalancerType('myorg.GrpcReads', class {} as never, Config as never);
    expect(registry.convertToLoadBalancingConfig(policy)).toEqual({ 'myorg.GrpcReads': CONFIG });
  });

  it("keeps a config with its policy: a subset naming another policy does not inherit the service's config", () => {
    const config = validateConfig(
      {
        services: {
          reviews: {
            port: 9080,
            endpoints: [{ address: '10.0.0.1', labels: { v: '1' } }],
            loadBalancer: { policy: 'myorg.FewestInFlight', config: CONFIG },
            subsets: { v1: { labels: { v: '1' }, loadBalancer: { policy: 'myorg.Other' } } },
          },
        },
      },
      'test',
    );
    const clusters = [...(buildSnapshot(config, '1').resources.get(TYPE_URL.cluster as never)?.values() ?? [])].map((c) => {
      const any = c.any as { type_url: string; value: Uint8Array };
      return decodeCluster(unpackAny(any.type_url, any.value), () => {});
    });
    expect(clusters.map((c) => c.loadBalancers[0])).toEqual([
      expect.objectContaining({ policy: 'myorg.FewestInFlight', config: CONFIG }),
      expect.not.objectContaining({ config: expect.anything() }),
    ]);
    expect(clusters[1]!.loadBalancers[0]!.policy).toBe('myorg.Other');
  });
});
