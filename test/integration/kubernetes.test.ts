/**
 * Kubernetes discovery end to end: a mesh with `discovery: k8s:...`, the
 * fake API server, real replicas on loopback addresses, and slices changed
 * through the real kubectl, as the EndpointSlice controller would during a
 * scale or a rolling update.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createMesh, type Mesh } from '../../src/index.js';
import {
  endpointSlice,
  FakeKubeApiServer,
  kubectl,
  type SliceEndpointSpec,
  service,
  until,
  writeKubeconfig,
} from '../helpers/kube-apiserver/index.js';

interface Replica {
  readonly ip: string;
  readonly seen: () => number;
  hold(): () => void;
  close(): Promise<void>;
}

/** A replica answering its IP, on `ip:port` (port 0 picks one); hold() stalls requests for /held. */
async function replica(ip: string, port: number): Promise<Replica & { port: number }> {
  let count = 0;
  let gate: Promise<void> | undefined;
  const server: Server = createServer(async (req, res) => {
    count++;
    // Only the test's marked request waits, so the load keeps flowing meanwhile.
    if (gate && req.url === '/held') await gate;
    res.end(ip);
  });
  server.listen(port, ip);
  await once(server, 'listening');
  return {
    ip,
    port: (server.address() as AddressInfo).port,
    seen: () => count,
    hold() {
      let release!: () => void;
      gate = new Promise((r) => {
        release = r;
      });
      return () => {
        gate = undefined;
        release();
      };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

let api: FakeKubeApiServer;
let kc: ReturnType<typeof writeKubeconfig>;
let replicas: Replica[] = [];
let port: number;
let mesh: Mesh | undefined;

beforeAll(async () => {
  api = await FakeKubeApiServer.start();
  kc = writeKubeconfig(api);
  const svcYaml = stringify(service('reviews', [{ name: 'http', port: 80, targetPort: 'web' }]));
  const created = await kubectl(kc.path, ['create', '-f', '-'], svcYaml);
  expect(created.stderr).toBe('');
});

afterAll(async () => {
  await api.close();
  kc.dispose();
});

afterEach(async () => {
  await mesh?.close();
  mesh = undefined;
  await Promise.all(replicas.map((r) => r.close()));
  replicas = [];
  await kubectl(kc.path, ['delete', 'endpointslice', '--all', '--wait=false']);
});

async function startReplicas(n: number): Promise<void> {
  const first = await replica('127.0.0.11', 0);
  port = first.port;
  replicas = [first];
  for (let i = 2; i <= n; i++) replicas.push(await replica(`127.0.0.${10 + i}`, port));
}

/** Apply the reviews slice through kubectl, as the EndpointSlice controller would write it. */
async function applySlice(endpoints: readonly (string | SliceEndpointSpec)[]): Promise<void> {
  const yaml = stringify(endpointSlice('reviews-x1', 'reviews', endpoints, [{ name: 'http', port }]));
  const r = await kubectl(kc.path, ['apply', '-f', '-'], yaml);
  expect(r.code, r.stderr).toBe(0);
}

function upstreamKeys(): string[] {
  return (mesh?.destinations.get('reviews')?.upstreams ?? []).map((u) => u.key).sort();
}

function startMesh(): Mesh {
  mesh = createMesh({
    env: { KUBECONFIG: kc.path },
    // Round-robin, so a handful of requests reach every replica.
    config: { services: { reviews: { discovery: 'k8s:reviews.default:80', loadBalancer: { policy: 'round-robin' } } } },
  });
  return mesh;
}

async function hitCounts(m: Mesh, n: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const res = await m.request('http://reviews/');
    const ip = await res.body.text();
    counts.set(ip, (counts.get(ip) ?? 0) + 1);
  }
  return counts;
}

describe('k8s: discovery through the mesh', () => {
  it('follows a Deployment scaled up and down (slices written by kubectl)', async () => {
    await startReplicas(4);
    await applySlice(['127.0.0.11', '127.0.0.12']);
    const m = startMesh();
    await m.ready();
    expect(upstreamKeys()).toEqual([`127.0.0.11:${port}`, `127.0.0.12:${port}`]);
    expect([...(await hitCounts(m, 20)).keys()].sort()).toEqual(['127.0.0.11', '127.0.0.12']);

    await applySlice(['127.0.0.11', '127.0.0.12', '127.0.0.13', '127.0.0.14']);
    await until(() => upstreamKeys().length === 4, 'the scale-up to reach the mesh');
    expect([...(await hitCounts(m, 60)).keys()].sort()).toEqual(['127.0.0.11', '127.0.0.12', '127.0.0.13', '127.0.0.14']);

    await applySlice(['127.0.0.13']);
    await until(() => upstreamKeys().length === 1, 'the scale-down to reach the mesh');
    expect([...(await hitCounts(m, 10)).keys()]).toEqual(['127.0.0.13']);
  });

  it('loses no request in a rolling update: terminating replicas finish in-flight work and get no new requests', async () => {
    await startReplicas(4);
    const [a, b] = replicas as [Replica, Replica, Replica, Replica];
    await applySlice(['127.0.0.11', '127.0.0.12']);
    const m = startMesh();
    await m.ready();

    let failures = 0;
    let done = 0;
    let stop = false;
    const load = Promise.all(
      Array.from({ length: 4 }, async () => {
        while (!stop) {
          try {
            const res = await m.request('http://reviews/');
            await res.body.text();
            if (res.statusCode !== 200) failures++;
          } catch {
            failures++;
          }
          done++;
        }
      }),
    );

    /** Wait until 20 more requests completed elsewhere. */
    const settle = () => {
      const from = done;
      return until(() => done >= from + 20, '20 more requests');
    };

    // A request held on replica A across the moment A starts terminating.
    const releaseA = a.hold();
    const held = (async () => {
      for (;;) {
        const res = await m.request('http://reviews/held');
        const ip = await res.body.text();
        if (ip === a.ip) return ip;
      }
    })();
    await until(() => a.seen() > 0, 'a request on replica A');

    // Surge: C comes up; A terminates (still serving what it has).
    await applySlice(['127.0.0.12', '127.0.0.13', { ip: '127.0.0.11', ready: false, serving: true, terminating: true }]);
    await until(() => !upstreamKeys().includes(`127.0.0.11:${port}`), 'A to leave the picker');
    // Requests picked just before the update may still be on their way to A; let them land.
    await settle();
    const seenA = a.seen();
    releaseA();
    expect(await held).toBe(a.ip);

    // Next step: D up, B terminating; A is gone from the slice and its process exits.
    await applySlice([
      '127.0.0.13',
      '127.0.0.14',
      { ip: '127.0.0.12', ready: false, serving: true, terminating: true },
    ]);
    await until(() => !upstreamKeys().includes(`127.0.0.12:${port}`), 'B to leave the picker');
    await settle();
    const seenB = b.seen();
    await a.close();
    const before = done;
    await until(() => done > before + 40, 'more traffic after the update');
    await applySlice(['127.0.0.13', '127.0.0.14']);
    await b.close();
    const after = done;
    await until(() => done > after + 40, 'traffic on the new replicas only');
    stop = true;
    await load;

    expect(failures).toBe(0);
    // Terminating replicas got nothing new once the mesh saw them terminating.
    expect(a.seen()).toBe(seenA);
    expect(b.seen()).toBe(seenB);
    expect(upstreamKeys()).toEqual([`127.0.0.13:${port}`, `127.0.0.14:${port}`]);
  });

  it('keeps sending to serving terminating replicas when none is ready (the last resort)', async () => {
    await startReplicas(2);
    await applySlice(['127.0.0.11']);
    const m = startMesh();
    await m.ready();
    await applySlice([
      { ip: '127.0.0.11', ready: false, serving: true, terminating: true },
      { ip: '127.0.0.12', ready: false, serving: false, terminating: false },
    ]);
    await until(
      () => m.destinations.get('reviews')?.upstreams.some((u) => u.endpoint.health === 'draining') === true,
      'the draining endpoint to reach the mesh',
    );
    expect(upstreamKeys()).toEqual([`127.0.0.11:${port}`]);
    expect([...(await hitCounts(m, 5)).keys()]).toEqual(['127.0.0.11']);
  });

  it('keeps serving the last good endpoints while the API server forbids the watch', async () => {
    await startReplicas(2);
    await applySlice(['127.0.0.11', '127.0.0.12']);
    const m = startMesh();
    await m.ready();
    await until(() => api.watchCount > 0, 'the watch');
    api.tokens.set('admin-token', 'forbidden');
    try {
      api.dropWatches();
      await until(() => m.destinations.get('reviews')?.lastError?.code === 'MESH_DISCOVERY_FORBIDDEN', 'the 403 to be reported');
      expect([...(await hitCounts(m, 20)).keys()].sort()).toEqual(['127.0.0.11', '127.0.0.12']);
    } finally {
      api.tokens.set('admin-token', 'admin');
    }
  });
});
