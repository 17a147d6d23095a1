/**
 * Slow start end to end: real servers on port 0, real undici, the mesh's
 * round-robin. A replica that becomes ready after the others starts at 10%
 * of its weight and reaches all of it when its window ends; the clock is
 * faked, the sockets are not.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterEach, expect, test, vi } from 'vitest';
import { createMesh, type Endpoint, type Mesh, makeEndpoint } from '../../src/index.js';
import { pushedDiscovery } from '../helpers/pushed-discovery.js';

const servers: Server[] = [];
let mesh: Mesh | undefined;

async function replica(name: string): Promise<number> {
  const server = createServer((_req, res) => res.end(name));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  return (server.address() as AddressInfo).port;
}

/** One request at a time, so round-robin's order alone decides who serves. */
async function serve(m: Mesh, total: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let i = 0; i < total; i++) {
    const res = await m.request('http://echo/');
    const name = await res.body.text();
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

afterEach(async () => {
  vi.useRealTimers();
  await mesh?.destroy();
  mesh = undefined;
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});

test('a replica that becomes ready later ramps from 10% of its weight to all of it over the window', async () => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  const ports = await Promise.all(['r0', 'r1', 'r2', 'new'].map(replica));
  const ep = (port: number, health: Endpoint['health'] = 'healthy') => makeEndpoint({ address: '127.0.0.1', port, health });
  const source = pushedDiscovery();
  // Kubernetes lists a new pod before it is ready: the window starts at readiness.
  source.push([ep(ports[0]!), ep(ports[1]!), ep(ports[2]!), ep(ports[3]!, 'unhealthy')]);
  mesh = createMesh({
    env: false,
    discoveryProviders: [source],
    admin: { port: 0, host: '127.0.0.1' },
    config: { services: { echo: { discovery: 'test:echo', loadBalancer: { policy: 'round-robin', warmup: { duration: '10s' } } } } },
  });
  const admin = await mesh.adminAddress();
  const clusters = async () => (await request(`http://127.0.0.1:${admin!.port}/clusters?format=text`)).body.text();
  await mesh.ready();
  let counts = await serve(mesh, 90);
  expect(counts.get('new')).toBeUndefined();
  // The three that were there when the mesh started are not new to anyone: no ramp for them.
  expect([counts.get('r0'), counts.get('r1'), counts.get('r2')]).toEqual([30, 30, 30]);

  vi.advanceTimersByTime(30_000);
  source.push(ports.map((p) => ep(p)));
  await new Promise((r) => setImmediate(r));
  // Weight 0.1 against 3 × 1: one pick in 31.
  counts = await serve(mesh, 310);
  expect(counts.get('new')).toBeGreaterThanOrEqual(9);
  expect(counts.get('new')).toBeLessThanOrEqual(11);
  expect(await clusters()).toContain(`echo::127.0.0.1:${ports[3]}::warmup_percent::10\n`);

  // Halfway: weight 0.5, one pick in 7.
  vi.advanceTimersByTime(5_000);
  counts = await serve(mesh, 350);
  expect(counts.get('new')).toBeGreaterThanOrEqual(49);
  expect(counts.get('new')).toBeLessThanOrEqual(51);

  // The window is over: an equal share, and the ramp's timer is gone.
  vi.advanceTimersByTime(5_000);
  counts = await serve(mesh, 400);
  expect([...counts.values()]).toEqual([100, 100, 100, 100]);
  expect(await clusters()).not.toContain('warmup_percent');
});

test('a replica that leaves and comes back (a restarted pod on the same address) ramps again', async () => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  const ports = await Promise.all(['r0', 'r1', 'back'].map(replica));
  const eps = (list: number[]) => list.map((port) => makeEndpoint({ address: '127.0.0.1', port }));
  const source = pushedDiscovery();
  source.push(eps(ports));
  mesh = createMesh({
    env: false,
    discoveryProviders: [source],
    config: {
      mesh: { loadBalancer: { warmup: { duration: '20s', minimumPercent: 20 } } },
      services: { echo: { discovery: 'test:echo', loadBalancer: { policy: 'round-robin' } } },
    },
  });
  await mesh.ready();
  expect([...(await serve(mesh, 30)).values()]).toEqual([10, 10, 10]);

  source.push(eps([ports[0]!, ports[1]!]));
  await new Promise((r) => setImmediate(r));
  vi.advanceTimersByTime(1_000);
  source.push(eps(ports));
  await new Promise((r) => setImmediate(r));
  // The mesh-wide warmup's floor: 20% of the weight, one pick in 11.
  const counts = await serve(mesh, 110);
  expect(counts.get('back')).toBeGreaterThanOrEqual(9);
  expect(counts.get('back')).toBeLessThanOrEqual(11);
});
