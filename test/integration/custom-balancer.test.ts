/**
 * A custom load-balancer policy, end to end: registered in code, selected by
 * name from config, and a config naming one that is not registered rejected
 * whole while the mesh keeps serving. Real servers on port 0, real undici.
 */
import { afterEach, expect, test } from 'vitest';
import { ConfigError, createMesh, type Mesh, type PickerFactory, type PickerOptions } from '../../src/index.js';
import { type EchoServer, startEchos } from '../helpers/echo-server.js';

const servers: EchoServer[] = [];
const meshes: Mesh[] = [];

afterEach(async () => {
  await Promise.all(meshes.splice(0).map((m) => m.destroy()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function echos(count: number): Promise<EchoServer[]> {
  const list = await startEchos(count);
  servers.push(...list);
  return list;
}

function mesh(options: Parameters<typeof createMesh>[0]): Mesh {
  const m = createMesh({ env: false, ...options });
  meshes.push(m);
  return m;
}

async function nameOf(m: Mesh, url: string): Promise<string> {
  const res = await m.request(url);
  return ((await res.body.json()) as { name: string }).name;
}

/** Always the endpoint with the greatest key: unlike any built-in, so where traffic goes shows which policy ran. */
function highestKey(seen: PickerOptions[] = []): PickerFactory {
  return (endpoints, options) => {
    seen.push(options);
    const chosen = endpoints.reduce<(typeof endpoints)[number] | undefined>((best, e) => (best === undefined || e.key > best.key ? e : best), undefined);
    return { size: endpoints.length, pick: () => chosen };
  };
}

const POLICY = 'example.com/highest-key';

function highestOf(list: EchoServer[]): EchoServer {
  return [...list].sort((a, b) => (a.address < b.address ? 1 : -1))[0]!;
}

test('a policy registered with createMesh({ balancers }) is selected by name from config and gets the per-policy options', async () => {
  const list = await echos(3);
  const seen: PickerOptions[] = [];
  const m = mesh({
    balancers: { [POLICY]: highestKey(seen) },
    config: {
      services: { echo: { endpoints: list.map((s) => s.address), loadBalancer: { policy: POLICY, ringSize: { min: 16, max: 64 } } } },
    },
  });
  const names = new Set<string>();
  for (let i = 0; i < 12; i++) names.add(await nameOf(m, 'http://echo/'));
  expect(names).toEqual(new Set([highestOf(list).name]));
  expect(m.destinations.get('echo')!.loadBalancerPolicy).toBe(POLICY);
  expect(seen.length).toBeGreaterThan(0);
  expect(seen.at(-1)).toMatchObject({ ringMin: 16, ringMax: 64 });
});

test('createMesh throws a typed ConfigError naming the service and the unregistered policy', async () => {
  const [a] = await echos(1);
  let err: unknown;
  try {
    mesh({ config: { services: { echo: { endpoints: [a!.address], loadBalancer: { policy: 'example.com/missing' } } } } });
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ConfigError);
  expect(err).toMatchObject({ code: 'MESH_CONFIG_INVALID', source: 'options' });
  const issues = (err as ConfigError).issues;
  expect(issues).toHaveLength(1);
  expect(issues[0]!.path).toBe('services.echo.loadBalancer.policy');
  expect(issues[0]!.message).toMatch(/^service "echo" names load-balancer policy "example\.com\/missing", which is not registered in this mesh/);
});

test('an update naming an unregistered policy is rejected whole: the request in flight completes, the last good config keeps serving, and the same update applies once the policy is registered', async () => {
  const list = await echos(2);
  const [a, b] = list;
  const endpoints = list.map((s) => s.address);
  const m = mesh({ config: { services: { echo: { endpoints, loadBalancer: { policy: 'round-robin' } } } } });
  const before = new Set<string>();
  for (let i = 0; i < 4; i++) before.add(await nameOf(m, 'http://echo/'));
  expect(before).toEqual(new Set([a!.name, b!.name]));
  const version = m.config.current.version;

  const releaseA = a!.hold();
  const releaseB = b!.hold();
  const inflight = m.request('http://echo/slow');
  await expect.poll(() => a!.seen.length + b!.seen.length).toBe(5);

  const update = { services: { echo: { endpoints, loadBalancer: { policy: POLICY } } } };
  expect(() => m.config.setLayer('options', update, 'options')).toThrow(ConfigError);
  expect(m.config.current.version).toBe(version);
  expect(m.config.lastRejection?.error.issues.map((i) => i.path)).toEqual(['services.echo.loadBalancer.policy']);
  expect(m.destinations.get('echo')!.loadBalancerPolicy).toBe('round-robin');

  releaseA();
  releaseB();
  expect((await inflight).statusCode).toBe(200);
  const still = new Set<string>();
  for (let i = 0; i < 4; i++) still.add(await nameOf(m, 'http://echo/'));
  expect(still).toEqual(new Set([a!.name, b!.name]));

  // Registering does not re-apply the rejected update; applying it again does.
  m.balancers.register(POLICY, highestKey());
  expect(m.config.current.version).toBe(version);
  m.config.setLayer('options', update, 'options');
  const after = new Set<string>();
  for (let i = 0; i < 6; i++) after.add(await nameOf(m, 'http://echo/'));
  expect(after).toEqual(new Set([highestOf(list).name]));
});

test('createMesh({ balancers }) refuses a name that config could never select', () => {
  expect(() => mesh({ balancers: { fastest: highestKey() } })).toThrow(
    expect.objectContaining({ code: 'MESH_INVALID_ARGUMENT', message: expect.stringContaining('"fastest"') }),
  );
});

test('a custom factory that throws does not take the service down: its endpoints are served round-robin and the error is logged naming service and policy', async () => {
  const list = await echos(3);
  const logged: Array<{ message: string; fields?: Record<string, unknown> }> = [];
  const log = (message: string, fields?: Record<string, unknown>) => logged.push({ message, fields });
  const m = mesh({
    logger: { info: () => {}, warn: log, error: log },
    balancers: {
      [POLICY]: () => {
        throw new Error('picker bug');
      },
    },
    config: { services: { echo: { endpoints: list.map((s) => s.address), loadBalancer: { policy: POLICY } } } },
  });
  const names = new Set<string>();
  for (let i = 0; i < 6; i++) names.add(await nameOf(m, 'http://echo/'));
  // Round-robin over all three: the fallback serves the same endpoint set.
  expect(names.size).toBe(3);
  expect(logged).toContainEqual({
    message: expect.stringContaining('load-balancer policy failed'),
    fields: expect.objectContaining({ service: 'echo', policy: POLICY, error: 'picker bug' }),
  });
});

test('the fallback is the built-in round-robin, even when round-robin itself was replaced by the factory that throws', async () => {
  const list = await echos(2);
  const broken: PickerFactory = () => {
    throw new Error('picker bug');
  };
  const m = mesh({
    logger: { info: () => {}, warn: () => {}, error: () => {} },
    balancers: { 'round-robin': broken },
    config: { services: { echo: { endpoints: list.map((s) => s.address), loadBalancer: { policy: 'round-robin' } } } },
  });
  const names = new Set<string>();
  for (let i = 0; i < 4; i++) names.add(await nameOf(m, 'http://echo/'));
  expect(names.size).toBe(2);
});

test('a custom policy configured with hashOn is handed each request\'s hash; the same key hashes alike', async () => {
  const list = await echos(2);
  const hashes: Array<number | undefined> = [];
  const recording: PickerFactory = (endpoints) => ({
    size: endpoints.length,
    pick: (hash) => {
      hashes.push(hash);
      return endpoints[0];
    },
  });
  const m = mesh({
    balancers: { [POLICY]: recording },
    config: {
      services: { echo: { endpoints: list.map((s) => s.address), loadBalancer: { policy: POLICY, hashOn: { header: 'x-user' } } } },
    },
  });
  for (const user of ['ada', 'ada', 'grace']) {
    const res = await m.request('http://echo/', { headers: { 'x-user': user } });
    await res.body.dump();
  }
  expect(hashes).toHaveLength(3);
  expect(hashes.every((h) => typeof h === 'number')).toBe(true);
  expect(hashes[0]).toBe(hashes[1]);
  expect(hashes[2]).not.toBe(hashes[0]);
});

test('loadBalancer.config reaches the factory of a dotted gRPC-style policy, and an update that changes only the config rebuilds the picker', async () => {
  const list = await echos(3);
  const seen: PickerOptions[] = [];
  // Sends everything to the endpoint its config names.
  const byConfig: PickerFactory = (endpoints, options) => {
    seen.push(options);
    const chosen = endpoints.find((e) => e.key === (options.config as { endpoint?: string } | undefined)?.endpoint) ?? endpoints[0];
    return { size: endpoints.length, pick: () => chosen };
  };
  const endpoints = list.map((s) => s.address);
  const service = (endpoint: string) => ({
    services: { echo: { endpoints, loadBalancer: { policy: 'myorg.ByConfig', config: { endpoint, options: { sticky: true } } } } },
  });
  const m = mesh({ balancers: { 'myorg.ByConfig': byConfig }, config: service(list[1]!.address) });
  const first = new Set<string>();
  for (let i = 0; i < 6; i++) first.add(await nameOf(m, 'http://echo/'));
  expect(first).toEqual(new Set([list[1]!.name]));
  expect(seen.at(-1)?.config).toEqual({ endpoint: list[1]!.address, options: { sticky: true } });

  m.config.setLayer('options', service(list[2]!.address), 'options');
  const second = new Set<string>();
  for (let i = 0; i < 6; i++) second.add(await nameOf(m, 'http://echo/'));
  expect(second).toEqual(new Set([list[2]!.name]));
  expect(seen.at(-1)?.config).toEqual({ endpoint: list[2]!.address, options: { sticky: true } });
});

test("a subset naming another policy builds its picker without the service's config", async () => {
  const list = await echos(2);
  const seen: Record<string, PickerOptions[]> = { 'myorg.A': [], 'myorg.B': [] };
  const m = mesh({
    balancers: { 'myorg.A': highestKey(seen['myorg.A']), 'myorg.B': highestKey(seen['myorg.B']) },
    config: {
      services: {
        echo: {
          endpoints: list.map((s) => ({ address: '127.0.0.1', port: s.port, labels: { v: '1' } })),
          loadBalancer: { policy: 'myorg.A', config: { weight: 3 } },
          subsets: { v1: { labels: { v: '1' }, loadBalancer: { policy: 'myorg.B' } } },
          routes: [{ route: [{ destination: { subset: 'v1' } }] }],
        },
      },
    },
  });
  expect(await nameOf(m, 'http://echo/')).toBe(highestOf(list).name);
  expect(seen['myorg.A']!.at(-1)?.config).toEqual({ weight: 3 });
  // Policy B was written without a config: it gets none, not policy A's.
  expect(seen['myorg.B']!.length).toBeGreaterThan(0);
  expect(seen['myorg.B']!.map((o) => o.config)).toEqual(seen['myorg.B']!.map(() => undefined));
});
