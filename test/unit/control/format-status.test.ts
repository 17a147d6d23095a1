/** `proxyless control-plane status`: one line per client, with where it is when it said, then one per type. */
import { expect, test } from 'vitest';
import { formatStatus } from '../../../src/control/cli.js';
import type { ControlPlaneStatus } from '../../../src/control/control-plane.js';
import type { ClientStatus } from '../../../src/control/xds-stream.js';

const client = (nodeId: string, locality: { region: string; zone: string }): ClientStatus => ({
  stream: 1,
  nodeId,
  cluster: '',
  userAgent: 'grpc-node-js 1.12',
  locality,
  labels: {},
  peer: '127.0.0.1:4000',
  service: 'ads',
  connectedAt: '2026-12-02T00:00:00.000Z',
  subscriptions: [
    {
      typeUrl: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
      wildcard: false,
      names: ['outbound|9080||reviews.default.svc.cluster.local'],
      sentVersion: '3',
      sentNonce: '7',
      ackedVersion: '3',
      lastNack: undefined,
      sent: ['outbound|9080||reviews.default.svc.cluster.local'],
    },
  ],
  ignoredTypes: [],
});

test('each client line says where the client is, when its node gave a locality', () => {
  const status: ControlPlaneStatus = {
    identifier: 'cp',
    configFile: 'mesh.yaml',
    version: '3',
    versionCreatedAt: '2026-12-02T00:00:00.000Z',
    typeVersions: {},
    resources: { 'type.googleapis.com/envoy.config.cluster.v3.Cluster': ['outbound|9080||reviews.default.svc.cluster.local'] },
    notCarried: [],
    inboundWarnings: {},
    lastRejectedConfig: undefined,
    clients: [client('east-client', { region: 'us-east', zone: 'us-east-1a' }), client('nowhere', { region: '', zone: '' })],
  };
  const text = formatStatus(status);
  expect(text).toContain('  east-client (127.0.0.1:4000, grpc-node-js 1.12, via ads, in us-east/us-east-1a)\n');
  expect(text).toContain('  nowhere (127.0.0.1:4000, grpc-node-js 1.12, via ads)\n');
  expect(text).toContain('    CDS  ACKED v3  [outbound|9080||reviews.default.svc.cluster.local]\n');
});
