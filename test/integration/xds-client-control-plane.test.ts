/**
 * Our xDS client against our own control plane (src/control), both real,
 * on port 0: a weighted split from the YAML file, an edit followed while
 * traffic flows, and a control-plane restart during traffic, all without a
 * failed request.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { ControlPlane } from '../../src/control/control-plane.js';
import { createMesh, type Mesh } from '../../src/index.js';
import { closeServers, startServer, type TestServer } from '../helpers/versioned-server.js';

const quiet = { info() {}, warn() {}, error() {} };
let mesh: Mesh | undefined;
const planes: ControlPlane[] = [];

afterEach(async () => {
  await mesh?.destroy();
  await Promise.all(planes.splice(0).map((p) => p.close()));
  await closeServers();
});

function yaml(v1: TestServer, v2: TestServer, w1: number, w2: number): string {
  return `services:
  reviews:
    port: 9080
    endpoints:
      - { address: 127.0.0.1, port: ${v1.port}, labels: { version: v1 } }
      - { address: 127.0.0.1, port: ${v2.port}, labels: { version: v2 } }
    subsets:
      v1: { labels: { version: v1 } }
      v2: { labels: { version: v2 } }
    routes:
      - route:
          - { destination: { subset: v1 }, weight: ${w1} }
          - { destination: { subset: v2 }, weight: ${w2} }
`;
}

async function plane(file: string, port = 0): Promise<ControlPlane> {
  const cp = new ControlPlane({ configFile: file, host: '127.0.0.1', port, logger: quiet, debounceMs: 10 });
  planes.push(cp);
  await cp.start();
  return cp;
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + 15_000;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('split, edit and restart: the client follows the control plane and no request fails', async () => {
  const v1 = await startServer('v1');
  const v2 = await startServer('v2');
  const dir = mkdtempSync(path.join(tmpdir(), 'xds-cp-'));
  const file = path.join(dir, 'mesh.yaml');
  writeFileSync(file, yaml(v1, v2, 100, 0));
  const cp = await plane(file);
  mesh = createMesh({
    env: false,
    logger: quiet,
    xds: {
      bootstrap: JSON.stringify({ xds_servers: [{ server_uri: `127.0.0.1:${cp.port}`, channel_creds: [{ type: 'insecure' }] }], node: { id: 'client-1' } }),
      listeners: ['reviews:9080'],
      backoff: { baseMs: 50, maxMs: 200 },
    },
  });
  const m = mesh;
  await m.ready();

  const seen = { v1: 0, v2: 0, failed: 0 };
  let stop = false;
  const traffic = (async () => {
    while (!stop) {
      try {
        const res = await m.request('http://reviews:9080/');
        const text = await res.body.text();
        if (res.statusCode === 200 && (text === 'v1' || text === 'v2')) seen[text]++;
        else seen.failed++;
      } catch {
        seen.failed++;
      }
    }
  })();

  await until(() => seen.v1 > 20, 'traffic to v1');
  expect(seen.v2).toBe(0);
  writeFileSync(file, yaml(v1, v2, 50, 50));
  await until(() => seen.v2 > 20, 'the edit to reach the client');

  // Restart the control plane on the same port while requests flow.
  const port = cp.port;
  const streamsBefore = m.xdsStatus()!.streamsOpened;
  await cp.close();
  planes.splice(planes.indexOf(cp), 1);
  await until(() => m.xdsStatus()?.state === 'reconnecting', 'the client to notice');
  const during = seen.v1 + seen.v2;
  await until(() => seen.v1 + seen.v2 > during + 20, 'traffic while the control plane is away');
  await plane(file, port);
  await until(() => m.xdsStatus()?.state === 'connected' && m.xdsStatus()!.streamsOpened > streamsBefore, 'reconnection');

  writeFileSync(file, yaml(v1, v2, 0, 100));
  const v2Before = seen.v2;
  await until(async () => {
    const res = await m.request('http://reviews:9080/');
    return (await res.body.text()) === 'v2' && seen.v2 > v2Before;
  }, 'the edit after the restart');
  stop = true;
  await traffic;
  expect(seen.failed).toBe(0);
  expect(m.xdsStatus()?.types.cluster.lastNack).toBeNull();
  expect(m.xdsStatus()?.types.route.lastNack).toBeNull();
}, 60_000);
