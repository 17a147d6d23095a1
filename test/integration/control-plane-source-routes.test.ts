/**
 * Routes with source conditions through our own control plane: two meshes
 * that differ only in their node's LABELS and NAMESPACE get different
 * routes for the same listener, as istiod serves its proxyless clients, and
 * real requests land where each workload's routes say.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ControlPlane } from '../../src/control/control-plane.js';
import { createMesh, type Mesh } from '../../src/index.js';
import { stderrLogger } from '../../src/telemetry/logger.js';
import { answersSeen } from '../helpers/answers.js';
import { closeServers, startServer } from '../helpers/versioned-server.js';

const LISTENER = 'ratings.default.svc.cluster.local:9080';
const dir = mkdtempSync(join(tmpdir(), 'proxyless-cp-source-'));
let cp: ControlPlane;
const meshes: Mesh[] = [];

function meshAs(port: number, id: string, namespace: string, labels: Record<string, string>): Mesh {
  const mesh = createMesh({
    env: false,
    xds: {
      bootstrap: JSON.stringify({
        xds_servers: [{ server_uri: `127.0.0.1:${port}`, channel_creds: [{ type: 'insecure' }] }],
        node: { id, metadata: { NAMESPACE: namespace, LABELS: labels } },
      }),
      listeners: [LISTENER],
    },
    logger: { info() {}, warn() {}, error() {} },
  });
  meshes.push(mesh);
  return mesh;
}

beforeAll(async () => {
  const v1 = await startServer('v1');
  const v2 = await startServer('v2');
  const file = join(dir, 'mesh.yaml');
  writeFileSync(
    file,
    `services:
  ratings:
    port: 9080
    endpoints:
      - { address: 127.0.0.1, port: ${v1.port}, labels: { version: v1 } }
      - { address: 127.0.0.1, port: ${v2.port}, labels: { version: v2 } }
    subsets:
      v1: { labels: { version: v1 } }
      v2: { labels: { version: v2 } }
    routes:
      - name: from-reviews-v2
        match: [{ sourceLabels: { app: reviews, version: v2 } }, { sourceNamespace: qa }]
        route: [{ destination: { subset: v2 } }]
      - route: [{ destination: { subset: v1 } }]
`,
  );
  cp = new ControlPlane({ configFile: file, host: '127.0.0.1', port: 0, logger: stderrLogger('silent'), debounceMs: 20 });
  await cp.start();
});

afterAll(async () => {
  await Promise.all(meshes.map((m) => m.destroy()));
  await cp?.close();
  await closeServers();
  rmSync(dir, { recursive: true, force: true });
});

function versionsSeen(mesh: Mesh, n: number): Promise<string[]> {
  return answersSeen(mesh, `http://${LISTENER}/ratings/1`, n);
}

test('each client gets the routes its own workload satisfies, and its requests follow them', async () => {
  const port = cp.port;
  const reviewsV2 = meshAs(port, 'reviews-v2', 'default', { app: 'reviews', version: 'v2' });
  const reviewsV1 = meshAs(port, 'reviews-v1', 'default', { app: 'reviews', version: 'v1' });
  const qa = meshAs(port, 'qa-tester', 'qa', {});
  await Promise.all(meshes.map((m) => m.ready()));
  expect(await versionsSeen(reviewsV2, 10)).toEqual(['200:v2']);
  expect(await versionsSeen(reviewsV1, 10)).toEqual(['200:v1']);
  expect(await versionsSeen(qa, 10)).toEqual(['200:v2']);
  // Every client ACKed the routes it was sent; none was refused.
  for (const id of ['reviews-v2', 'reviews-v1', 'qa-tester']) {
    const client = cp.status().clients.find((c) => c.nodeId === id);
    const rds = client?.subscriptions.find((s) => s.typeUrl.endsWith('RouteConfiguration'));
    expect(rds?.ackedVersion, id).toBe(rds?.sentVersion);
    expect(rds?.lastNack, id).toBeUndefined();
  }
});
