/** A response's resources: Resource envelopes unwrapped, every problem named by resource, nothing thrown. */
import { expect, test } from 'vitest';
import { decodeResources, decoderFor } from '../../../../src/discovery/xds/decode-response.js';
import { packAny, TYPE_URL } from '../../../../src/discovery/xds/envoy-protos.js';

const cluster = (name: string, extra: Record<string, unknown> = {}) =>
  packAny(TYPE_URL.cluster, { name, type: 'EDS', eds_cluster_config: { eds_config: { ads: {} } }, ...extra });

test('resources in a Resource envelope decode like bare ones', () => {
  const wrapped = packAny('type.googleapis.com/envoy.service.discovery.v3.Resource', { name: 'b', resource: cluster('b') });
  const out = decodeResources(TYPE_URL.cluster, [cluster('a'), wrapped], decoderFor('cluster'), () => {});
  expect(out.errors).toEqual([]);
  expect([...out.received.keys()]).toEqual(['a', 'b']);
});

test('every bad resource is reported with its kind, name and field', () => {
  const out = decodeResources(
    TYPE_URL.cluster,
    [cluster('a'), cluster('a'), cluster('b', { lb_policy: 'CLUSTER_PROVIDED' }), cluster('')],
    decoderFor('cluster'),
    () => {},
  );
  expect(out.errors).toEqual([
    'Cluster "a": name: appears twice in one response',
    'Cluster "b": lb_policy: CLUSTER_PROVIDED is not supported; use ROUND_ROBIN, LEAST_REQUEST, RING_HASH, MAGLEV or RANDOM',
    'Cluster resources[3]: name: is required',
  ]);
});
