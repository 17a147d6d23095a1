/**
 * Per-client endpoint order: the priorities the control plane writes into
 * each client's ClusterLoadAssignment from its node's locality and LABELS,
 * matching istiod's tiers and the data plane's own ranking.
 */
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config/file-source.js';
import { validateConfig } from '../../../src/config/validate.js';
import type { ClientNode } from '../../../src/control/local-endpoints.js';
import { ClusterBridge } from '../../../src/control/make-before-break.js';
import { buildSnapshot, type Snapshot, type SnapshotOptions } from '../../../src/control/snapshot.js';
import { TYPE_URL, unpackAny } from '../../../src/discovery/xds/envoy-protos.js';

function snapshotOf(yaml: string, previous?: Snapshot, options: SnapshotOptions = {}): Snapshot {
  return buildSnapshot(validateConfig(parseConfigText(yaml, 'test'), 'test'), previous ? String(Number(previous.version) + 1) : '1', previous, options);
}

interface Group {
  locality: { region: string; zone: string };
  priority: number;
  lb_endpoints: { endpoint: { address: { socket_address: { address: string } } } }[];
}

/** address → priority, as the client `node` receives the cluster. */
function priorities(s: Snapshot, cluster: string, node: ClientNode): Record<string, number> {
  const r = s.localEndpoints.resource(cluster, node) ?? s.resources.get(TYPE_URL.clusterLoadAssignment)!.get(cluster)!;
  expect(r.name).toBe(cluster);
  const cla = unpackAny(r.any.type_url, r.any.value) as { endpoints: Group[] };
  const out: Record<string, number> = {};
  for (const g of cla.endpoints) for (const e of g.lb_endpoints) out[e.endpoint.address.socket_address.address] = g.priority;
  return out;
}

const node = (region: string, zone = '', labels?: Record<string, string>): ClientNode => ({
  id: 'n',
  locality: { region, zone },
  ...(labels !== undefined ? { metadata: { fields: { LABELS: { structValue: { fields: Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, { stringValue: v }])) } } } } } : {}),
});

const REVIEWS = 'outbound|9080||reviews.default.svc.cluster.local';
const V1 = 'outbound|9080|v1|reviews.default.svc.cluster.local';

const regions = (lb = '') => `
services:
  reviews:
    port: 9080
${lb}
    endpoints:
      - { address: 10.0.1.1, region: east, zone: east-a, labels: { version: v1, net: n1 } }
      - { address: 10.0.1.2, region: east, zone: east-b, labels: { version: v1, net: n2 } }
      - { address: 10.0.2.1, region: west, zone: west-a, labels: { version: v1, net: n1 } }
      - { address: 10.0.3.1, region: north, zone: north-a, labels: { version: v1, net: n1 } }
      - { address: 10.0.4.1, region: east, zone: east-a, priority: 1, labels: { version: v2, net: n1 } }
    subsets:
      v1: { labels: { version: v1 } }
`;

describe('endpoints ordered for the client that asks', () => {
  it('ranks by the client locality: its zone, its region, every other region; written priority first', () => {
    const s = snapshotOf(regions());
    expect(priorities(s, REVIEWS, node('east', 'east-a'))).toEqual({
      '10.0.1.1': 0,
      '10.0.1.2': 1,
      '10.0.2.1': 2,
      '10.0.3.1': 2,
      '10.0.4.1': 3,
    });
    expect(priorities(s, REVIEWS, node('west', 'west-a'))).toEqual({
      '10.0.2.1': 0,
      '10.0.1.1': 1,
      '10.0.1.2': 1,
      '10.0.3.1': 1,
      '10.0.4.1': 2,
    });
    // Each subset is ranked the same way, over its own endpoints.
    expect(priorities(s, V1, node('east', 'east-b'))).toEqual({ '10.0.1.2': 0, '10.0.1.1': 1, '10.0.2.1': 2, '10.0.3.1': 2 });
  });

  it('failover: the regions named for the client region come next, in order, before the rest', () => {
    const s = snapshotOf(regions('    loadBalancer: { failover: [{ from: east, to: north }, { from: east, to: west }] }'));
    expect(priorities(s, REVIEWS, node('east', 'east-a'))).toEqual({
      '10.0.1.1': 0,
      '10.0.1.2': 1,
      '10.0.3.1': 2,
      '10.0.2.1': 3,
      '10.0.4.1': 4,
    });
    // The list is for clients in east: one in west is not affected by it.
    expect(priorities(s, REVIEWS, node('west', 'west-a'))['10.0.3.1']).toBe(1);
  });

  it('failoverPriority: by how many listed labels the endpoint shares with the client, read from LABELS and locality', () => {
    const s = snapshotOf(regions('    loadBalancer: { failoverPriority: [net, topology.kubernetes.io/region] }'));
    expect(priorities(s, REVIEWS, node('east', 'east-b', { net: 'n1' }))).toEqual({
      '10.0.1.1': 0,
      '10.0.2.1': 1,
      '10.0.3.1': 1,
      '10.0.1.2': 2,
      '10.0.4.1': 3,
    });
    // Without a region, labels alone still order.
    expect(priorities(s, REVIEWS, node('', '', { net: 'n2' }))).toEqual({ '10.0.1.2': 0, '10.0.1.1': 1, '10.0.2.1': 1, '10.0.3.1': 1, '10.0.4.1': 2 });
  });

  it('distribute: the client rule sets each locality weight, and the localities it gives nothing are left out', () => {
    const s = snapshotOf(regions("    loadBalancer: { distribute: [{ from: east/east-a, to: { 'east/east-a': 80, west: 20 } }] }"));
    const r = s.localEndpoints.resource(REVIEWS, node('east', 'east-a'))!;
    const cla = unpackAny(r.any.type_url, r.any.value) as { endpoints: (Group & { load_balancing_weight: { value: number } })[] };
    expect(cla.endpoints.map((g) => [g.locality.zone, g.priority, g.load_balancing_weight.value])).toEqual([
      ['east-a', 0, 80],
      ['west-a', 0, 20],
      ['east-a', 1, 80],
    ]);
    // A client no rule names gets no locality order at all, as from istiod: only the written priorities.
    expect(priorities(s, REVIEWS, node('north', 'north-a'))).toEqual({ '10.0.1.1': 0, '10.0.1.2': 0, '10.0.2.1': 0, '10.0.3.1': 0, '10.0.4.1': 1 });
  });

  it('a client with no region, or a service with localityAware off, gets the shared resource', () => {
    const s = snapshotOf(regions());
    expect(s.localEndpoints.resource(REVIEWS, node(''))).toBeUndefined();
    expect(s.localEndpoints.resource(REVIEWS, { id: 'no-locality' })).toBeUndefined();
    const off = snapshotOf(regions('    loadBalancer: { localityAware: false }'));
    expect(off.localEndpoints.resource(REVIEWS, node('east', 'east-a'))).toBeUndefined();
    expect(priorities(off, REVIEWS, node('east', 'east-a'))).toEqual({ '10.0.1.1': 0, '10.0.1.2': 0, '10.0.2.1': 0, '10.0.3.1': 0, '10.0.4.1': 1 });
  });

  it('endpoints without a region lie in the client region under oneRegion (the Kubernetes input), and are never local otherwise', () => {
    const zonesOnly = `
services:
  reviews:
    port: 9080
    endpoints:
      - { address: 10.0.1.1, zone: a }
      - { address: 10.0.1.2, zone: b }
`;
    expect(priorities(snapshotOf(zonesOnly, undefined, { oneRegion: true }), REVIEWS, node('east', 'a'))).toEqual({ '10.0.1.1': 0, '10.0.1.2': 1 });
    expect(priorities(snapshotOf(zonesOnly), REVIEWS, node('east', 'a'))).toEqual({ '10.0.1.1': 0, '10.0.1.2': 0 });
  });

  it('a change of failover settings alone is a new endpoint version, and a push sends it', () => {
    const before = snapshotOf(regions());
    const after = snapshotOf(regions('    loadBalancer: { failover: [{ from: east, to: north }] }'), before);
    expect(after.typeVersions.get(TYPE_URL.clusterLoadAssignment)).not.toBe(before.typeVersions.get(TYPE_URL.clusterLoadAssignment));
    const same = snapshotOf(regions('    loadBalancer: { failover: [{ from: east, to: north }] }'), after);
    expect(same.typeVersions.get(TYPE_URL.clusterLoadAssignment)).toBe(after.typeVersions.get(TYPE_URL.clusterLoadAssignment));
  });

  it('the make-before-break bridge keeps a removed cluster ordered for each client as before', () => {
    const before = snapshotOf(regions());
    const after = snapshotOf(regions().replace('    subsets:\n      v1: { labels: { version: v1 } }\n', ''), before);
    const bridge = new ClusterBridge();
    expect(bridge.begin(before, after)).toBe(true);
    const served = bridge.snapshotFor(TYPE_URL.clusterLoadAssignment, after);
    const east = node('east', 'east-a');
    expect(served.localEndpoints.resource(V1, east)).toBe(before.localEndpoints.resource(V1, east));
    expect(served.localEndpoints.resource(REVIEWS, east)).toBe(after.localEndpoints.resource(REVIEWS, east));
  });
});
