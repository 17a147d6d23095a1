/**
 * The balancing acceptance checks, end to end: real servers on port 0, real
 * undici, the mesh's own pickers. (The same properties are checked exhaustively,
 * without sockets, in test/unit/balancer.)
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import { createMesh, type Endpoint, type Mesh, makeEndpoint } from '../../src/index.js';
import { pushedDiscovery } from '../helpers/pushed-discovery.js';

interface Replica {
  name: string;
  port: number;
  server: Server;
}

const replicas: Replica[] = [];
const meshes: Mesh[] = [];

/** A replica that answers its name after `delayMs` (simulated service time). */
async function replica(name: string, delayMs = 0): Promise<Replica> {
  const server = createServer((_req, res) => {
    const answer = () => res.end(name);
    if (delayMs > 0) setTimeout(answer, delayMs);
    else answer();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const r = { name, port: (server.address() as AddressInfo).port, server };
  replicas.push(r);
  return r;
}

function mesh(options: Parameters<typeof createMesh>[0]): Mesh {
  const m = createMesh({ env: false, ...options });
  meshes.push(m);
  return m;
}

async function load(m: Mesh, url: string, total: number, concurrency: number, headers?: (i: number) => Record<string, string>) {
  const counts = new Map<string, number>();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const res = await m.request(url, headers ? { headers: headers(i) } : undefined);
        const name = await res.body.text();
        counts.set(name, (counts.get(name) ?? 0) + 1);
      }
    }),
  );
  return counts;
}

afterEach(async () => {
  await Promise.all(meshes.splice(0).map((m) => m.destroy()));
  for (const r of replicas.splice(0)) {
    r.server.closeAllConnections();
    r.server.close();
  }
});

// Peak-EWMA is left out on purpose: there latency dominates and weight only
// scales the cost, so real-socket jitter decides the order of shares.
test.each(['round-robin', 'random', 'least-request'] as const)(
  '%s honours endpoint weights within ±5 points over 10,000 requests',
  async (policy) => {
    const rs = await Promise.all(['w1', 'w3', 'w6'].map((n) => replica(n)));
    const weights = [1, 3, 6];
    const m = mesh({
      config: {
        services: {
          echo: {
            endpoints: rs.map((r, i) => ({ address: '127.0.0.1', port: r.port, weight: weights[i]! })),
            loadBalancer: { policy },
          },
        },
      },
    });
    const counts = await load(m, 'http://echo/', 10_000, 50);
    weights.forEach((w, i) => {
      expect(Math.abs((counts.get(rs[i]!.name) ?? 0) / 10_000 - w / 10)).toBeLessThanOrEqual(0.05);
    });
  },
);

test.each(['peak-ewma', 'least-request'] as const)(
  '%s sends at least 80 percent of traffic to the fast replicas when one of three is 10× slower',
  async (policy) => {
    const rs = [await replica('fast-1', 2), await replica('fast-2', 2), await replica('slow', 20)];
    const m = mesh({
      config: {
        services: { echo: { endpoints: rs.map((r) => `127.0.0.1:${r.port}`), loadBalancer: { policy } } },
      },
    });
    const counts = await load(m, 'http://echo/', 600, 10);
    const fast = (counts.get('fast-1') ?? 0) + (counts.get('fast-2') ?? 0);
    expect(fast / 600).toBeGreaterThanOrEqual(0.8);
  },
);

test('ring-hash: adding 1 endpoint to 10 remaps at most 15% of keys', async () => {
  const rs = await Promise.all(Array.from({ length: 11 }, (_, i) => replica(`r${i}`)));
  const endpoints = (n: number) => rs.slice(0, n).map((r) => `127.0.0.1:${r.port}`);
  const config = (n: number) => ({
    services: { echo: { endpoints: endpoints(n), loadBalancer: { policy: 'ring-hash' as const, hashOn: { header: 'x-key' } } } },
  });
  const m = mesh({ config: config(10) });
  const keys = Array.from({ length: 1000 }, (_, i) => `key-${i}`);
  const where = async () => {
    const out = new Map<string, string>();
    for (const key of keys) {
      const res = await m.request('http://echo/', { headers: { 'x-key': key } });
      out.set(key, await res.body.text());
    }
    return out;
  };
  const before = await where();
  m.config.setLayer('options', config(11), 'options');
  await new Promise((r) => setImmediate(r));
  const after = await where();
  const moved = keys.filter((k) => before.get(k) !== after.get(k));
  expect(moved.length / keys.length).toBeLessThanOrEqual(0.15);
  // Keys only move to the new endpoint.
  for (const k of moved) expect(after.get(k)).toBe('r10');
});

test('locality: traffic stays in the local zone, and fails over when it has no healthy endpoint', async () => {
  const [a1, a2, b1, c1] = await Promise.all(['a1', 'a2', 'b1', 'c1'].map((n) => replica(n)));
  const source = pushedDiscovery();
  const ep = (r: Replica, zone: string, health: Endpoint['health'] = 'healthy') =>
    makeEndpoint({ address: '127.0.0.1', port: r.port, region: 'eu', zone, health });
  source.push([ep(a1!, 'eu-a'), ep(a2!, 'eu-a'), ep(b1!, 'eu-b'), ep(c1!, 'eu-c')]);
  const m = mesh({
    discoveryProviders: [source],
    config: { mesh: { region: 'eu', zone: 'eu-a' }, services: { echo: { discovery: 'test:echo' } } },
  });
  await m.ready();
  let counts = await load(m, 'http://echo/', 200, 5);
  expect((counts.get('a1') ?? 0) + (counts.get('a2') ?? 0)).toBe(200);

  // Local zone down: everything moves to the other zones of the region.
  source.push([ep(a1!, 'eu-a', 'unhealthy'), ep(a2!, 'eu-a', 'unhealthy'), ep(b1!, 'eu-b'), ep(c1!, 'eu-c')]);
  await new Promise((r) => setImmediate(r));
  counts = await load(m, 'http://echo/', 200, 5);
  expect(counts.get('a1') ?? 0).toBe(0);
  expect(counts.get('a2') ?? 0).toBe(0);
  expect((counts.get('b1') ?? 0) + (counts.get('c1') ?? 0)).toBe(200);
});

test("locality failover: a region that is down fails over to the region Istio's failover names, not to any region", async () => {
  const [eu, us, ap] = await Promise.all(['eu1', 'us1', 'ap1'].map((n) => replica(n)));
  const source = pushedDiscovery();
  const ep = (r: Replica, region: string, health: Endpoint['health'] = 'healthy') =>
    makeEndpoint({ address: '127.0.0.1', port: r.port, region, zone: `${region}-a`, health });
  source.push([ep(eu!, 'eu'), ep(us!, 'us'), ep(ap!, 'ap')]);
  const m = mesh({
    discoveryProviders: [source],
    config: {
      mesh: { region: 'eu', zone: 'eu-a' },
      services: { echo: { discovery: 'test:echo', loadBalancer: { failover: [{ from: 'eu', to: 'ap' }], panicThreshold: 0 } } },
    },
  });
  await m.ready();
  expect([...(await load(m, 'http://echo/', 50, 5)).keys()]).toEqual(['eu1']);

  source.push([ep(eu!, 'eu', 'unhealthy'), ep(us!, 'us'), ep(ap!, 'ap')]);
  await new Promise((r) => setImmediate(r));
  expect([...(await load(m, 'http://echo/', 100, 5)).entries()]).toEqual([['ap1', 100]]);

  // The failover region down too: then anywhere.
  source.push([ep(eu!, 'eu', 'unhealthy'), ep(us!, 'us'), ep(ap!, 'ap', 'unhealthy')]);
  await new Promise((r) => setImmediate(r));
  expect([...(await load(m, 'http://echo/', 50, 5)).entries()]).toEqual([['us1', 50]]);
});

test("locality distribute: Istio's written split sends each named locality its share, scaled by health, and the rest nothing", async () => {
  const [a, b, c] = await Promise.all(['eu-a1', 'eu-b1', 'us-a1'].map((n) => replica(n)));
  const source = pushedDiscovery();
  const ep = (r: Replica, region: string, zone: string, health: Endpoint['health'] = 'healthy') =>
    makeEndpoint({ address: '127.0.0.1', port: r.port, region, zone, health });
  source.push([ep(a!, 'eu', 'eu-a'), ep(b!, 'eu', 'eu-b'), ep(c!, 'us', 'us-a')]);
  const distribute = [{ from: 'eu/eu-a', to: { 'eu/eu-a': 75, 'eu/eu-b': 25 } }];
  const m = mesh({
    discoveryProviders: [source],
    config: {
      mesh: { region: 'eu', zone: 'eu-a' },
      services: { echo: { discovery: 'test:echo', loadBalancer: { policy: 'round-robin', distribute, panicThreshold: 0 } } },
    },
  });
  await m.ready();
  const counts = await load(m, 'http://echo/', 400, 8);
  // 75% of 400 is 300 (sd 8.7); us is named by no entry and never gets a request.
  expect([...counts.keys()].sort()).toEqual(['eu-a1', 'eu-b1']);
  expect(counts.get('eu-a1')).toBeGreaterThan(260);
  expect(counts.get('eu-a1')).toBeLessThan(340);

  // eu-a down: its share goes to eu-b, still not to us.
  source.push([ep(a!, 'eu', 'eu-a', 'unhealthy'), ep(b!, 'eu', 'eu-b'), ep(c!, 'us', 'us-a')]);
  await new Promise((r) => setImmediate(r));
  expect([...(await load(m, 'http://echo/', 100, 5)).entries()]).toEqual([['eu-b1', 100]]);
});

test('panic threshold: below it (and with no tier able to take the load) health is ignored', async () => {
  const rs = await Promise.all(['p0', 'p1', 'p2', 'p3'].map((n) => replica(n)));
  const source = pushedDiscovery();
  const push = (healthy: number) =>
    source.push(
      rs.map((r, i) => makeEndpoint({ address: '127.0.0.1', port: r.port, health: i < healthy ? 'healthy' : 'unhealthy' })),
    );
  push(2); // 50%: not below the default threshold of 50
  const m = mesh({
    discoveryProviders: [source],
    config: { services: { echo: { discovery: 'test:echo', loadBalancer: { policy: 'round-robin' } } } },
  });
  await m.ready();
  let counts = await load(m, 'http://echo/', 100, 1);
  expect([...counts.keys()].sort()).toEqual(['p0', 'p1']);

  push(1); // 25% < 50%: panic, all four share the traffic (the "unhealthy" ones still answer here)
  await new Promise((r) => setImmediate(r));
  counts = await load(m, 'http://echo/', 100, 1);
  expect([...counts.keys()].sort()).toEqual(['p0', 'p1', 'p2', 'p3']);

  // With panicThreshold 0 the mesh never panics: only the healthy endpoint serves.
  m.config.setLayer(
    'options',
    { services: { echo: { discovery: 'test:echo', loadBalancer: { policy: 'round-robin', panicThreshold: 0 } } } },
    'options',
  );
  counts = await load(m, 'http://echo/', 50, 1);
  expect([...counts.keys()]).toEqual(['p0']);
});
