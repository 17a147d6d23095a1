/**
 * Custom load-balancing policies in a Cluster's typed `load_balancing_policy`,
 * as gRPC reads them (gRFC A52): a TypedStruct names the policy by its own
 * type_url and carries its config as a Struct. The decoder lists the
 * candidates in order; translation takes the first one the mesh has, and
 * rejects the update only when it has none. Resources are real protobuf bytes.
 */
import { describe, expect, it } from 'vitest';
import { builtinPolicies } from '../../../../src/balancer/policies.js';
import { roundRobinPicker } from '../../../../src/balancer/round-robin.js';
import type { PickerFactory } from '../../../../src/balancer/types.js';
import { validateConfig } from '../../../../src/config/validate.js';
import { decodeCluster, type XdsCluster } from '../../../../src/discovery/xds/decode-cluster.js';
import { decodeRouteConfiguration } from '../../../../src/discovery/xds/decode-route.js';
import { packAny, TYPE_URL, unpackAny } from '../../../../src/discovery/xds/envoy-protos.js';
import { selectVirtualHosts, translate } from '../../../../src/discovery/xds/translate.js';
import { Registry } from '../../../../src/registry.js';
import { rejectionMessage } from '../../../helpers/rejections.js';

type Any = { type_url: string; value: Buffer };

const ROUND_ROBIN = 'type.googleapis.com/envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin';
const LEAST_REQUEST = 'type.googleapis.com/envoy.extensions.load_balancing_policies.least_request.v3.LeastRequest';
const WRR_LOCALITY = 'type.googleapis.com/envoy.extensions.load_balancing_policies.wrr_locality.v3.WrrLocality';

/** A Struct as protobufjs's bundled struct.proto spells it (camelCase Value fields). */
function struct(obj: Record<string, unknown>): Record<string, unknown> {
  const value = (v: unknown): Record<string, unknown> => {
    if (v === null) return { nullValue: 'NULL_VALUE' };
    if (typeof v === 'number') return { numberValue: v };
    if (typeof v === 'string') return { stringValue: v };
    if (typeof v === 'boolean') return { boolValue: v };
    if (Array.isArray(v)) return { listValue: { values: v.map(value) } };
    return { structValue: struct(v as Record<string, unknown>) };
  };
  return { fields: Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, value(v)])) };
}

function typedStruct(typeUrl: string, config: Record<string, unknown> = {}, kind = 'xds.type.v3.TypedStruct'): Any {
  return packAny(`type.googleapis.com/${kind}`, { type_url: typeUrl, value: struct(config) });
}

const entry = (typedConfig: Any, name = 'policy') => ({ typed_extension_config: { name, typed_config: typedConfig } });
const wrrLocality = (...entries: unknown[]): Any => packAny(WRR_LOCALITY, { endpoint_picking_policy: { policies: entries } });

function cluster(policies: unknown[], extra: Record<string, unknown> = {}, warn: (p: string, m: string) => void = () => {}): XdsCluster {
  const any = packAny(TYPE_URL.cluster, {
    name: 'reviews',
    type: 'EDS',
    eds_cluster_config: { eds_config: { ads: {} } },
    load_balancing_policy: { policies },
    ...extra,
  });
  return decodeCluster(unpackAny(any.type_url, any.value), warn);
}

describe('decoding a TypedStruct policy', () => {
  it('names the custom policy by the last segment of its type_url, with its Struct as config', () => {
    // Nulls too, in maps and lists alike: the config arrives as it was written, as gRPC reads it.
    const config = { maxInFlight: 8, ratio: 0.5, zones: ['a', 'b', null], fallback: { enabled: true, name: 'rr', limit: null }, unset: null };
    const c = cluster([entry(typedStruct('type.googleapis.com/myorg.FewestInFlight', config))]);
    expect(c.loadBalancers).toEqual([{ policy: 'myorg.FewestInFlight', config }]);
  });

  it('reads the older udpa.type.v1.TypedStruct the same way', () => {
    const c = cluster([entry(typedStruct('type.googleapis.com/myorg.Legacy', { n: 1 }, 'udpa.type.v1.TypedStruct'))]);
    expect(c.loadBalancers).toEqual([{ policy: 'myorg.Legacy', config: { n: 1 } }]);
  });

  it('finds it inside WrrLocality, as gRPC control planes wrap it', () => {
    const c = cluster([entry(wrrLocality(entry(typedStruct('type.googleapis.com/myorg.FewestInFlight', { n: 2 })), entry(packAny(ROUND_ROBIN, {}))))]);
    expect(c.loadBalancers).toEqual([{ policy: 'myorg.FewestInFlight', config: { n: 2 } }, { policy: 'round-robin' }]);
  });

  it('lists every candidate in order up to the first built-in, with the cluster-wide settings on each', () => {
    const c = cluster(
      [
        entry(typedStruct('type.googleapis.com/myorg.First')),
        entry(wrrLocality(entry(typedStruct('type.googleapis.com/myorg.Second')))),
        entry(packAny(LEAST_REQUEST, {})),
        entry(typedStruct('type.googleapis.com/myorg.NeverReached')),
      ],
      { common_lb_config: { healthy_panic_threshold: { value: 30 } } },
    );
    expect(c.loadBalancers).toEqual([
      { policy: 'myorg.First', config: {}, panicThreshold: 30 },
      { policy: 'myorg.Second', config: {}, panicThreshold: 30 },
      { policy: 'least-request', panicThreshold: 30 },
    ]);
  });

  it('skips, with a warning, a TypedStruct whose name config could not select, as for an unknown Envoy type', () => {
    const warnings: string[] = [];
    const c = cluster(
      [entry(typedStruct('type.googleapis.com/round_robin')), entry(typedStruct('example.com/fancy-lb')), entry(packAny(ROUND_ROBIN, {}))],
      {},
      (p, m) => warnings.push(`${p}: ${m}`),
    );
    expect(c.loadBalancers).toEqual([{ policy: 'round-robin' }]);
    expect(warnings).toEqual([
      'load_balancing_policy.policies[0].typed_extension_config.typed_config.type_url: TypedStruct names policy "round_robin" (from "type.googleapis.com/round_robin"), which is not a custom policy name (such as "myorg.FewestInFlight"); trying the next one',
      'load_balancing_policy.policies[1].typed_extension_config.typed_config.type_url: TypedStruct names policy "fancy-lb" (from "example.com/fancy-lb"), which is not a custom policy name (such as "myorg.FewestInFlight"); trying the next one',
    ]);
  });

  it('rejects a list left with no candidate, naming the custom form among the supported ones', () => {
    expect(rejectionMessage(() => cluster([entry(typedStruct('type.googleapis.com/not-dotted'))]))).toBe(
      'load_balancing_policy.policies: lists no policy the mesh supports (round_robin, least_request, ring_hash, maglev, random, wrr_locality, or a custom policy in a TypedStruct)',
    );
  });

  it('takes policies nested 16 WrrLocality levels deep, and rejects a 17th level, as gRPC does', () => {
    const nested = (levels: number) => {
      let inner = entry(typedStruct('type.googleapis.com/myorg.Deep'));
      for (let i = 0; i < levels; i++) inner = entry(wrrLocality(inner));
      return [inner];
    };
    expect(cluster(nested(16)).loadBalancers).toEqual([{ policy: 'myorg.Deep', config: {} }]);
    const message = rejectionMessage(() => cluster(nested(17)));
    expect(message).toMatch(/^load_balancing_policy\.policies\[0\]\.typed_extension_config\.typed_config(\.endpoint_picking_policy\.policies\[0\]\.typed_extension_config\.typed_config){16}\.endpoint_picking_policy\.policies: /);
    expect(message).toMatch(/: load-balancing policies nest more than 16 levels deep \(through WrrLocality\); gRPC rejects that too \(gRFC A52\)$/);
  });
});

describe('choosing among the candidates when the cluster is translated', () => {
  const CLUSTER = 'outbound|9080||reviews.default.svc.cluster.local';

  function translated(c: XdsCluster, registered: Registry<PickerFactory>, warn: (p: string, m: string) => void = () => {}) {
    const rc = decodeRouteConfiguration(
      {
        name: 'r',
        virtual_hosts: [
          { name: 'vh', domains: ['*'], routes: [{ match: { prefix: '/', path_specifier: 'prefix' }, action: 'route', route: { cluster_specifier: 'cluster', cluster: CLUSTER } }] },
        ],
      },
      () => {},
    );
    const res = {
      listenerNames: ['reviews.default.svc.cluster.local:9080'],
      listeners: new Map([['reviews.default.svc.cluster.local:9080', { name: 'l', rdsName: 'r', inlineRoutes: undefined, fault: undefined, maxStreamDurationMs: undefined }]]),
      routes: new Map([['r', rc]]),
      clusters: new Map([[CLUSTER, { ...c, name: CLUSTER }]]),
    };
    return translate(res, selectVirtualHosts(res), warn, registered);
  }

  const registry = (...names: string[]) => {
    const r = new Registry<PickerFactory>('load-balancer policy', builtinPolicies());
    for (const n of names) r.register(n, roundRobinPicker);
    return r;
  };

  const serviceOf = (t: ReturnType<typeof translated>) => validateConfig(t.config, 'xds').services[t.clusterServices.get(CLUSTER)!]!;

  it('skips a policy this mesh has not registered, with a warning, and takes the next registered one with its config', () => {
    const warnings: string[] = [];
    const c = cluster([
      entry(typedStruct('type.googleapis.com/myorg.Missing', { a: 1 })),
      entry(typedStruct('type.googleapis.com/myorg.Present', { weight: 3 })),
      entry(packAny(ROUND_ROBIN, {})),
    ]);
    const t = translated(c, registry('myorg.Present'), (p, m) => warnings.push(`${p}: ${m}`));
    expect(t.issues).toEqual([]);
    expect(serviceOf(t).loadBalancer).toEqual({ policy: 'myorg.Present', config: { weight: 3 } });
    expect(warnings).toEqual([`Cluster "${CLUSTER}": load-balancing policy "myorg.Missing" not registered in this mesh; using "myorg.Present", the next one listed`]);
  });

  it('falls back to the built-in at the end of the list when no custom policy is registered, saying which it skipped', () => {
    const warnings: string[] = [];
    const c = cluster([entry(typedStruct('type.googleapis.com/myorg.Missing', { a: 1 })), entry(typedStruct('type.googleapis.com/myorg.Gone')), entry(packAny(ROUND_ROBIN, {}))]);
    expect(serviceOf(translated(c, registry(), (p, m) => warnings.push(`${p}: ${m}`))).loadBalancer).toEqual({ policy: 'round-robin' });
    expect(warnings).toEqual([
      `Cluster "${CLUSTER}": load-balancing policies "myorg.Missing", "myorg.Gone" not registered in this mesh; using "round-robin", the next one listed`,
    ]);
  });

  it('is an issue naming the cluster and every policy tried when none is usable, and the service gets no policy', () => {
    const c = cluster([entry(typedStruct('type.googleapis.com/myorg.A')), entry(wrrLocality(entry(typedStruct('type.googleapis.com/myorg.B'))))]);
    const t = translated(c, registry('example.com/other'));
    const service = t.clusterServices.get(CLUSTER)!;
    expect(t.issues).toEqual([
      {
        path: `services.${service}.loadBalancer.policy`,
        message: `Cluster "${CLUSTER}" lists load-balancing policies "myorg.A", "myorg.B", and none is registered in this mesh (registered: peak-ewma, least-request, round-robin, random, ring-hash, maglev, example.com/other); register one with createMesh({ balancers }) or mesh.balancers.register()`,
      },
    ]);
    expect(t.config.services[service]!.loadBalancer).toBeUndefined();
  });
});
