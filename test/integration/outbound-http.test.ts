import { getGlobalDispatcher, setGlobalDispatcher } from 'undici';
import { afterEach, describe, expect, test } from 'vitest';
import { createMesh, isMeshError, type Mesh } from '../../src/index.js';
import { deadPort, type EchoServer, startEcho, startEchos } from '../helpers/echo-server.js';

const meshes: Mesh[] = [];
const servers: EchoServer[] = [];

function mesh(config: Parameters<typeof createMesh>[0]): Mesh {
  const m = createMesh({ env: false, ...config });
  meshes.push(m);
  return m;
}

async function echos(n: number): Promise<EchoServer[]> {
  const s = await startEchos(n);
  servers.push(...s);
  return s;
}

async function nameOf(m: Mesh, url: string | URL): Promise<string> {
  const res = await m.request(url);
  expect(res.statusCode).toBe(200);
  return ((await res.body.json()) as { name: string }).name;
}

afterEach(async () => {
  await Promise.all(meshes.splice(0).map((m) => m.destroy()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('outbound HTTP through the mesh', () => {
  test('the minimum config spreads requests over every endpoint', async () => {
    const [a, b] = await echos(2);
    const m = mesh({ config: { services: { echo: { endpoints: [a!.address, b!.address] } } } });
    await m.ready();
    // Concurrent load, as a service sees it: peak-EWMA weighs latency by
    // in-flight requests, so equal replicas share it.
    const counts = new Map<string, number>();
    for (let round = 0; round < 10; round++) {
      const names = await Promise.all(Array.from({ length: 20 }, () => nameOf(m, 'http://echo/')));
      for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    expect(counts.get('r0')).toBeGreaterThan(40);
    expect(counts.get('r1')).toBeGreaterThan(40);
    expect((counts.get('r0') ?? 0) + (counts.get('r1') ?? 0)).toBe(200);
  });

  test('round-robin alternates exactly between equal endpoints', async () => {
    const [a, b] = await echos(2);
    const m = mesh({
      config: { services: { echo: { endpoints: [a!.address, b!.address], loadBalancer: { policy: 'round-robin' } } } },
    });
    const names: string[] = [];
    for (let i = 0; i < 10; i++) names.push(await nameOf(m, 'http://echo/'));
    for (let i = 2; i < 10; i++) expect(names[i]).toBe(names[i - 2]);
    expect(names[0]).not.toBe(names[1]);
  });

  test('ring-hash on a header keeps each user on one replica; sourceIp keeps this client on one', async () => {
    const eps = await echos(4);
    const m = mesh({
      config: {
        services: {
          'by-user': { endpoints: eps.map((e) => e.address), loadBalancer: { policy: 'ring-hash', hashOn: { header: 'x-user' } } },
          'by-source': { endpoints: eps.map((e) => e.address), loadBalancer: { policy: 'maglev', hashOn: { sourceIp: true } } },
        },
      },
    });
    const replicaOf = new Map<string, Set<string>>();
    for (let i = 0; i < 120; i++) {
      const user = `user-${i % 12}`;
      const res = await m.request('http://by-user/', { headers: { 'x-user': user } });
      const { name } = (await res.body.json()) as { name: string };
      replicaOf.set(user, (replicaOf.get(user) ?? new Set()).add(name));
    }
    for (const names of replicaOf.values()) expect(names.size).toBe(1);
    expect(new Set([...replicaOf.values()].map((s) => [...s][0])).size).toBeGreaterThan(1);
    const seen = new Set<string>();
    for (let i = 0; i < 30; i++) seen.add(await nameOf(m, 'http://by-source/'));
    expect(seen.size).toBe(1);
  });

  test('every logical form of the name reaches the service, and Host stays logical', async () => {
    const [a] = await echos(1);
    const m = mesh({ config: { mesh: { namespace: 'default' }, services: { echo: { endpoints: [a!.address] } } } });
    for (const url of [
      'http://echo/x',
      'http://echo.default/x',
      'http://echo.default.svc/x',
      'http://echo.default.svc.cluster.local:9080/x',
      'http://ECHO.default.svc.cluster.local./x',
    ]) {
      await nameOf(m, url);
    }
    expect(a!.seen.map((s) => s.host)).toEqual([
      'echo',
      'echo.default',
      'echo.default.svc',
      'echo.default.svc.cluster.local:9080',
      'echo.default.svc.cluster.local.',
    ]);
  });

  test('mesh.request sends the path and method undici.request would, on the fast split and the full parse alike', async () => {
    const [a] = await echos(1);
    const m = mesh({ config: { services: { echo: { endpoints: [a!.address] } } } });
    const urls = ['http://echo/users/42?page=2&q=a:b', 'http://ECHO:80/x%41', 'http://echo/a/../b?', 'http://echo/a b#frag', new URL('http://echo/from-url?k=v')];
    for (const url of urls) await nameOf(m, url);
    const res = await m.request('http://echo/upload', { body: 'hello', headers: { 'x-test': '1' } });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    const del = await m.request('http://echo/item', { method: 'DELETE', dispatcher: undefined });
    await del.body.dump();
    expect(a!.seen.map((s) => `${s.method} ${s.path}`)).toEqual([
      'GET /users/42?page=2&q=a:b',
      'GET /x%41',
      'GET /b',
      'GET /a%20b',
      'GET /from-url?k=v',
      'PUT /upload',
      'DELETE /item',
    ]);
  });

  test('a short name only means a service in the caller’s own namespace', async () => {
    const [a] = await echos(1);
    const m = mesh({
      config: { mesh: { namespace: 'shop' }, services: { pay: { namespace: 'billing', endpoints: [a!.address] } } },
    });
    await nameOf(m, 'http://pay.billing/');
    // `pay` alone is not a mesh name from namespace shop, so it passes through to DNS and fails there.
    await expect(m.request('http://pay/')).rejects.toThrow();
    expect(a!.seen).toHaveLength(1);
  });

  test('host aliases name the service too', async () => {
    const [a] = await echos(1);
    const m = mesh({ config: { services: { echo: { hosts: ['echo.internal.example'], endpoints: [a!.address] } } } });
    expect(await nameOf(m, 'http://echo.internal.example/')).toBe('r0');
  });

  test('unknown hosts pass through untouched', async () => {
    const [a, direct] = await echos(2);
    const m = mesh({ config: { services: { echo: { endpoints: [a!.address] } } } });
    expect(await nameOf(m, `http://127.0.0.1:${direct!.port}/p`)).toBe('r1');
    expect(await nameOf(m, `http://localhost:${direct!.port}/q`)).toBe('r1');
    expect(direct!.seen.map((s) => s.host)).toEqual([`127.0.0.1:${direct!.port}`, `localhost:${direct!.port}`]);
    expect(a!.seen).toHaveLength(0);
  });

  test('setGlobalDispatcher(mesh.dispatcher) load-balances plain fetch', async () => {
    const [a, b, c] = await echos(3);
    const m = mesh({ config: { services: { echo: { endpoints: [a!.address, b!.address, c!.address] } } } });
    const before = getGlobalDispatcher();
    setGlobalDispatcher(m.dispatcher);
    try {
      const seen = new Set<string>();
      for (let i = 0; i < 60; i++) {
        const res = await fetch('http://echo/global');
        seen.add(((await res.json()) as { name: string }).name);
      }
      expect(seen).toEqual(new Set(['r0', 'r1', 'r2']));
      // and a non-mesh URL still works through the same global dispatcher
      const res = await fetch(`http://127.0.0.1:${a!.port}/direct`);
      expect(((await res.json()) as { name: string }).name).toBe('r0');
    } finally {
      setGlobalDispatcher(before);
    }
  });

  test('mesh.fetch has fetch’s contract', async () => {
    const [a] = await echos(1);
    const m = mesh({ config: { services: { echo: { endpoints: [a!.address] } } } });
    const res = await m.fetch('http://echo/f?x=1', { method: 'POST', body: 'hi', headers: { 'x-a': 'b' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ name: 'r0', host: 'echo', path: '/f?x=1' });
    expect(a!.seen[0]!.method).toBe('POST');
  });

  test('a service with no endpoints fails fast with MESH_NO_HEALTHY_UPSTREAM', async () => {
    const m = mesh({ config: { services: { echo: { endpoints: [] } } } });
    const err = await m.request('http://echo/').catch((e: unknown) => e);
    expect(isMeshError(err)).toBe(true);
    expect((err as { code: string }).code).toBe('MESH_NO_HEALTHY_UPSTREAM');
    const ferr = await m.fetch('http://echo/').catch((e: unknown) => e);
    expect((ferr as Error).cause).toMatchObject({ code: 'MESH_NO_HEALTHY_UPSTREAM' });
  });

  test('a refused connection is a typed, retryable MESH_CONNECT_FAILURE naming the endpoint', async () => {
    const port = await deadPort();
    const m = mesh({ config: { services: { echo: { endpoints: [`127.0.0.1:${port}`] } } } });
    const err = await m.request('http://echo/').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'MESH_CONNECT_FAILURE', retryable: true, httpStatus: 503 });
    expect((err as Error).message).toContain(`127.0.0.1:${port}`);
    expect(((err as Error).cause as { code: string }).code).toBe('ECONNREFUSED');
  });

  test('a caller abort returns the caller’s own reason and does not charge the endpoint', async () => {
    const [a] = await echos(1);
    const m = mesh({ config: { services: { echo: { endpoints: [a!.address] } } } });
    await nameOf(m, 'http://echo/warm');
    const upstream = m.destinations.get('echo')!.upstreams[0]!;
    const release = a!.hold();
    const controller = new AbortController();
    const mine = new Error('caller gave up');
    const pending = m.request('http://echo/slow', { signal: controller.signal }).catch((e: unknown) => e);
    await expect.poll(() => a!.seen.length).toBe(2);
    controller.abort(mine);
    expect(await pending).toBe(mine);
    const timedOut = await m
      .request('http://echo/slow', { signal: AbortSignal.timeout(50) })
      .catch((e: unknown) => e);
    expect((timedOut as Error).name).toBe('TimeoutError');
    release();
    // A charged failure would have pushed the estimate to 10 s.
    expect(upstream.latencyCost(performance.now())).toBeLessThan(1000);
    expect(upstream.inFlight).toBe(0);
  });

  test('a config update swaps endpoints; a request in flight on a removed endpoint completes', async () => {
    const [a, b] = await echos(2);
    const m = mesh({ config: { services: { echo: { endpoints: [a!.address] } } } });
    await nameOf(m, 'http://echo/');
    const release = a!.hold();
    const inflight = m.request('http://echo/slow');
    await expect.poll(() => a!.seen.length).toBe(2);
    m.config.setLayer('options', { services: { echo: { endpoints: [b!.address] } } }, 'options');
    // Providers deliver asynchronously (static ones on the next microtask).
    await new Promise((r) => setImmediate(r));
    expect(await nameOf(m, 'http://echo/')).toBe('r1');
    release();
    const res = await inflight;
    expect(((await res.body.json()) as { name: string }).name).toBe('r0');
  });

  test('close() lets in-flight requests finish and refuses new ones with MESH_CLOSED', async () => {
    const [a] = await echos(1);
    const m = mesh({ config: { services: { echo: { endpoints: [a!.address] } } } });
    const release = a!.hold();
    const inflight = m.request('http://echo/slow');
    await expect.poll(() => a!.seen.length).toBe(1);
    const closing = m.close();
    const err = await m.request('http://echo/late').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'MESH_CLOSED' });
    release();
    const res = await inflight;
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    await closing;
  });

  test('https origins verify the certificate against the logical name, not the endpoint IP', async () => {
    const { selfSigned } = await import('../helpers/tls.js');
    const good = selfSigned('echo.default.svc.cluster.local');
    const server = await startEcho('tls', { key: good.key, cert: good.cert });
    servers.push(server);
    const m = mesh({
      config: { services: { echo: { endpoints: [server.address] } } },
      pool: { tls: { ca: good.cert } },
    });
    expect(await nameOf(m, 'https://echo.default.svc.cluster.local/tls')).toBe('tls');
    expect(server.seen[0]!.host).toBe('echo.default.svc.cluster.local');
    // The short name is not in the certificate, so verification must fail on it.
    const err = await m.request('https://echo/tls').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'MESH_CONNECT_FAILURE' });
    expect(String(((err as Error).cause as Error).message)).toContain("Host: echo. is not in the cert's altnames");
  });
});
