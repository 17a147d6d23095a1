/**
 * Endpoints ordered per client through our own control plane: each client's
 * ClusterLoadAssignment carries priorities from its node's locality, as
 * istiod writes them, and a proxyless client sends its own mesh.region,
 * mesh.zone and mesh.labels as that locality and LABELS when its bootstrap
 * has none. A client whose own config knows no locality at all still keeps
 * its traffic in its zone and fails over where `failover` says, on the
 * priorities alone, as an Envoy or gRPC client would.
 */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ControlPlane } from '../../src/control/control-plane.js';
import { createMesh, type Mesh } from '../../src/index.js';
import { stderrLogger } from '../../src/telemetry/logger.js';
import { answersSeen } from '../helpers/answers.js';
import { closeServers, startServer, type TestServer } from '../helpers/versioned-server.js';

const LISTENER = 'reviews.default.svc.cluster.local:9080';
const dir = mkdtempSync(join(tmpdir(), 'proxyless-cp-locality-'));
const file = join(dir, 'mesh.yaml');
const quiet = { info() {}, warn() {}, error() {} };
let cp: ControlPlane;
const meshes: Mesh[] = [];
const servers: Record<string, TestServer> = {};

function write(places: readonly string[]): void {
  const endpoints = places.map((p) => {
    const [region, zone] = p.split('/');
    return `      - { address: 127.0.0.1, port: ${servers[p]!.port}, region: ${region}, zone: ${zone} }`;
  });
  writeFileSync(
    `${file}.tmp`,
    `services:
  reviews:
    port: 9080
    loadBalancer: { policy: round-robin, failover: [{ from: east, to: north }] }
    endpoints:
${endpoints.join('\n')}
`,
  );
  renameSync(`${file}.tmp`, file);
}

beforeAll(async () => {
  for (const place of ['east/east-a', 'east/east-b', 'west/west-a', 'north/north-a']) servers[place] = await startServer(place);
  write(Object.keys(servers));
  cp = new ControlPlane({ configFile: file, host: '127.0.0.1', port: 0, logger: stderrLogger('silent'), debounceMs: 20 });
  await cp.start();
});

afterAll(async () => {
  await Promise.all(meshes.map((m) => m.destroy()));
  await cp?.close();
  await closeServers();
  rmSync(dir, { recursive: true, force: true });
});

function seen(mesh: Mesh, n: number): Promise<string[]> {
  return answersSeen(mesh, `http://${LISTENER}/x`, n);
}

async function until(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a proxyless client over MESH_XDS_SERVER sends its mesh.region, mesh.zone and mesh.labels as its node locality and LABELS', async () => {
  const mesh = createMesh({
    env: {
      MESH_XDS_SERVER: `127.0.0.1:${cp.port}`,
      MESH_XDS_LISTENERS: LISTENER,
      MESH_XDS_NODE_ID: 'configured',
      MESH_REGION: 'east',
      MESH_ZONE: 'east-a',
    },
    config: { mesh: { labels: { app: 'frontend', net: 'n1' } } },
    logger: quiet,
  });
  meshes.push(mesh);
  await mesh.ready();
  const client = cp.status().clients.find((c) => c.nodeId === 'configured');
  expect(client?.locality).toEqual({ region: 'east', zone: 'east-a' });
  expect(client?.labels).toEqual({ app: 'frontend', net: 'n1' });
  expect(await seen(mesh, 20)).toEqual(['200:east/east-a']);
});

test('a client that knows its locality only from its bootstrap keeps to its zone, then fails over as `failover` says, by priorities alone', async () => {
  const mesh = createMesh({
    env: false,
    xds: {
      bootstrap: JSON.stringify({
        xds_servers: [{ server_uri: `127.0.0.1:${cp.port}`, channel_creds: [{ type: 'insecure' }] }],
        node: { id: 'bootstrap-only', locality: { region: 'east', zone: 'east-b' } },
      }),
      listeners: [LISTENER],
    },
    logger: quiet,
  });
  meshes.push(mesh);
  await mesh.ready();
  // Its own config has no region or zone: every tier it builds comes from the priorities it was sent.
  expect(mesh.config.current.config.mesh.region).toBe('');
  expect(cp.status().clients.find((c) => c.nodeId === 'bootstrap-only')?.locality).toEqual({ region: 'east', zone: 'east-b' });
  expect(await seen(mesh, 20)).toEqual(['200:east/east-b']);

  // Its zone goes away: the rest of its region.
  write(['east/east-a', 'west/west-a', 'north/north-a']);
  await until(async () => (await seen(mesh, 1))[0] === '200:east/east-a', 'the rest of the region to take over');
  expect(await seen(mesh, 20)).toEqual(['200:east/east-a']);

  // Its region goes away: north, which `failover` names for east, before west.
  write(['west/west-a', 'north/north-a']);
  await until(async () => (await seen(mesh, 1))[0] === '200:north/north-a', 'the failover region to take over');
  expect(await seen(mesh, 20)).toEqual(['200:north/north-a']);
});
