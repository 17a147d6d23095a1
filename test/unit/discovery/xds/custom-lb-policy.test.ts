/**
 * A custom load-balancer policy over xDS: proxyless's own control plane
 * serves it in the cluster's proxyless metadata (lb_policy says ROUND_ROBIN,
 * for clients that know nothing of it), and the client decodes the name
 * unchanged, for its mesh to check against its own registry.
 */
import { expect, test } from 'vitest';
import { validateConfig } from '../../../../src/config/validate.js';
import { buildSnapshot } from '../../../../src/control/snapshot.js';
import { decodeCluster } from '../../../../src/discovery/xds/decode-cluster.js';
import { TYPE_URL, unpackAny } from '../../../../src/discovery/xds/envoy-protos.js';

test('a custom policy travels in the cluster metadata; lb_policy stays ROUND_ROBIN for other clients', () => {
  const config = validateConfig(
    { services: { reviews: { port: 9080, endpoints: ['10.0.0.1'], loadBalancer: { policy: 'example.com/highest-key', panicThreshold: 20 } } } },
    'test',
  );
  const clusters = [...(buildSnapshot(config, '1').resources.get(TYPE_URL.cluster as never)?.values() ?? [])];
  expect(clusters).toHaveLength(1);
  const any = clusters[0]!.any as { type_url: string; value: Uint8Array };
  const raw = unpackAny(any.type_url, any.value);
  expect(raw.lb_policy).toBe('ROUND_ROBIN');
  const decoded = decodeCluster(raw, () => {});
  expect(decoded.settings.loadBalancer).toMatchObject({ policy: 'example.com/highest-key', panicThreshold: 20 });
});
