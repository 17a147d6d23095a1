/**
 * Our own xDS client against our own control plane: a mesh pointed at it
 * with MESH_XDS_SERVER routes real HTTP requests to real upstreams as the
 * YAML file says, and follows an edit of the file.
 */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ControlPlane } from '../../src/control/control-plane.js';
import { TYPE_URL } from '../../src/discovery/xds/envoy-protos.js';
import { createMesh, isMeshError, type Mesh } from '../../src/index.js';
import { stderrLogger } from '../../src/telemetry/logger.js';
import { closeServers, startServer, type TestServer } from '../helpers/versioned-server.js';

const LISTENER = 'reviews.default.svc.cluster.local:9080';
const dir = mkdtempSync(join(tmpdir(), 'proxyless-cp-mesh-'));
const file = join(dir, 'mesh.yaml');
let v1: TestServer;
let v2: TestServer;
let cp: ControlPlane;
let mesh: Mesh;

function write(defaultSubset: string): void {
  writeFileSync(
    `${file}.tmp`,
    `services:
  reviews:
    port: 9080
    endpoints:
      - { address: 127.0.0.1, port: ${v1.port}, labels: { version: v1 } }
      - { address: 127.0.0.1, port: ${v2.port}, labels: { version: v2 } }
    subsets:
      v1: { labels: { version: v1 } }
      v2: { labels: { version: v2 } }
    routes:
      - match: [{ headers: { x-canary: { exact: "yes" } } }]
        route: [{ destination: { subset: v2 } }]
      - route: [{ destination: { subset: ${defaultSubset} } }]
`,
  );
  renameSync(`${file}.tmp`, file);
}

async function body(url: string, headers?: Record<string, string>): Promise<string> {
  try {
    const res = await mesh.request(url, headers ? { headers } : undefined);
    return `${res.statusCode}:${await res.body.text()}`;
  } catch (err) {
    return isMeshError(err) ? `${err.code}:${err.message}` : `error:${String(err)}`;
  }
}

async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  v1 = await startServer('v1');
  v2 = await startServer('v2');
  write('v1');
  cp = new ControlPlane({ configFile: file, host: '127.0.0.1', port: 0, logger: stderrLogger('silent'), debounceMs: 20 });
  const port = await cp.start();
  mesh = createMesh({
    env: { MESH_XDS_SERVER: `127.0.0.1:${port}`, MESH_XDS_LISTENERS: LISTENER, MESH_XDS_NODE_ID: 'mesh-e2e' },
    logger: { info() {}, warn() {}, error() {} },
  });
  await mesh.ready();
});

afterAll(async () => {
  await mesh?.destroy();
  await cp?.close();
  await closeServers();
  rmSync(dir, { recursive: true, force: true });
});

test('routes real requests as the YAML says: header match to v2, the rest to v1; every type ACKed', async () => {
  await until(async () => (await body('http://reviews:9080/x')).startsWith('200:'), 'the first routed request');
  for (let i = 0; i < 10; i++) {
    expect(await body('http://reviews:9080/x')).toContain('v1');
    expect(await body('http://reviews.default.svc.cluster.local:9080/x', { 'x-canary': 'yes' })).toContain('v2');
  }
  const me = cp.status().clients.find((c) => c.nodeId === 'mesh-e2e');
  expect(me).toBeDefined();
  for (const type of [TYPE_URL.listener, TYPE_URL.routeConfiguration, TYPE_URL.cluster, TYPE_URL.clusterLoadAssignment]) {
    const sub = me!.subscriptions.find((s) => s.typeUrl === type);
    expect(sub, type).toBeDefined();
    expect(sub!.lastNack, type).toBeUndefined();
    expect(sub!.ackedVersion, type).toBe(sub!.sentVersion);
  }
});

test('follows an edit of the YAML file without failing a request', async () => {
  let failures = 0;
  let stop = false;
  const traffic = (async () => {
    while (!stop) if (!(await body('http://reviews:9080/x')).startsWith('200:')) failures++;
  })();
  write('v2');
  await until(async () => (await body('http://reviews:9080/x')).includes('v2'), 'the default route to move to v2');
  stop = true;
  await traffic;
  expect(failures).toBe(0);
  for (let i = 0; i < 10; i++) expect(await body('http://reviews:9080/x')).toContain('v2');
});
