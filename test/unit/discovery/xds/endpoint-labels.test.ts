/**
 * An EDS endpoint's labels, over the wire: proxyless's control plane's
 * `io.proxyless` labels and istiod's `istio.workload` string, for Istio's
 * destination_version and destination_app.
 */
import { expect, test } from 'vitest';
import { structOf } from '../../../../src/control/envoy-values.js';
import { decodeEndpoints } from '../../../../src/discovery/xds/decode-endpoints.js';
import { packAny, TYPE_URL, unpackAny } from '../../../../src/discovery/xds/envoy-protos.js';
import { rejectionMessage } from '../../../helpers/rejections.js';

const warnings: string[] = [];
const warn = (p: string, m: string) => warnings.push(`${p}: ${m}`);

function endpointsWith(metadata: Record<string, Record<string, unknown>> | undefined) {
  const filterMetadata = metadata === undefined ? undefined : Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, structOf(v)]));
  const msg = {
    cluster_name: 'c',
    endpoints: [
      {
        lb_endpoints: [
          {
            endpoint: { address: { socket_address: { address: '10.0.0.1', port_value: 80 } } },
            ...(filterMetadata !== undefined ? { metadata: { filter_metadata: filterMetadata } } : {}),
          },
        ],
      },
    ],
  };
  const any = packAny(TYPE_URL.clusterLoadAssignment, msg);
  return decodeEndpoints(unpackAny(any.type_url, any.value) as Record<string, unknown>, warn);
}

test("proxyless's control plane's labels arrive as the endpoint's labels", () => {
  const eds = endpointsWith({ 'io.proxyless': { labels: { app: 'reviews', version: 'v2', 'topology.kubernetes.io/zone': 'a' } } });
  expect(eds.endpoints[0]!.labels).toEqual({ app: 'reviews', version: 'v2', 'topology.kubernetes.io/zone': 'a' });
});

test("istiod's workload string gives app (canonical service) and version (canonical revision)", () => {
  warnings.length = 0;
  const eds = endpointsWith({ istio: { workload: 'reviews-v2;shop;reviews;v2;Kubernetes' } });
  expect(eds.endpoints[0]!.labels).toEqual({ app: 'reviews', version: 'v2' });
  // Empty parts say nothing; a shape that is not istiod's is skipped with a warning, the endpoint kept.
  expect(endpointsWith({ istio: { workload: 'w;shop;;;c' } }).endpoints[0]!.labels).toEqual({});
  expect(endpointsWith({ istio: { workload: 'just-a-name' } }).endpoints[0]!.labels).toBeUndefined();
  expect(warnings).toEqual([
    'endpoints[0].lb_endpoints[0].metadata.filter_metadata.istio.workload: is not "<workload>;<namespace>;<canonical service>;<canonical revision>;…"; the endpoint\'s app and version are unknown',
  ]);
});

test('no metadata, no labels; labels that are not labels are refused where they are', () => {
  expect(endpointsWith(undefined).endpoints[0]!.labels).toBeUndefined();
  expect(endpointsWith({ 'io.proxyless': {} }).endpoints[0]!.labels).toBeUndefined();
  expect(rejectionMessage(() => endpointsWith({ 'io.proxyless': { labels: { version: 2 } } }))).toBe(
    'endpoints[0].lb_endpoints[0].metadata.filter_metadata.io.proxyless.labels: version: must be a string, got number 2',
  );
});
