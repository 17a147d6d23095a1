/**
 * Routes end to end: real servers on port 0, real undici, the mesh's
 * compiled route tables choosing subsets, rewriting, mirroring and faulting.
 */
import { afterEach, expect, test, vi } from 'vitest';
import { createMesh, isMeshError, type Mesh, type MeshConfigInput } from '../../src/index.js';
import { closeServers, startServer, type TestServer } from '../helpers/versioned-server.js';

const meshes: Mesh[] = [];

function mesh(config: MeshConfigInput): Mesh {
  const m = createMesh({ env: false, config });
  meshes.push(m);
  return m;
}

afterEach(async () => {
  await Promise.all(meshes.splice(0).map((m) => m.destroy()));
  await closeServers();
});

async function versions(): Promise<{ v1: TestServer; v2: TestServer }> {
  return { v1: await startServer('v1'), v2: await startServer('v2') };
}

function reviews(v1: TestServer, v2: TestServer, routes: NonNullable<MeshConfigInput['services']>[string]['routes']) {
  return {
    services: {
      reviews: {
        endpoints: [v1.endpoint({ version: 'v1' }), v2.endpoint({ version: 'v2' })],
        subsets: { v1: { labels: { version: 'v1' } }, v2: { labels: { version: 'v2' } } },
        routes,
      },
    },
  } satisfies MeshConfigInput;
}

async function drive(m: Mesh, url: string, total: number, concurrency: number, headers?: Record<string, string>) {
  const counts = new Map<string, number>();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        const res = await m.request(url, headers ? { headers } : undefined);
        const text = await res.body.text();
        const key = `${res.statusCode}:${text}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }),
  );
  return counts;
}

test('a 90/10 canary split lands within ±3% over 10,000 requests', async () => {
  const { v1, v2 } = await versions();
  const m = mesh(
    reviews(v1, v2, [
      {
        route: [
          { destination: { subset: 'v1' }, weight: 90 },
          { destination: { subset: 'v2' }, weight: 10 },
        ],
      },
    ]),
  );
  const counts = await drive(m, 'http://reviews/r', 10_000, 50);
  const share = (counts.get('200:v2') ?? 0) / 10_000;
  expect(counts.get('200:v1')! + counts.get('200:v2')!).toBe(10_000);
  expect(Math.abs(share - 0.1)).toBeLessThanOrEqual(0.03);
});

test('sourceLabels and sourceNamespace send each workload its own way, and a label change re-routes it', async () => {
  const { v1, v2 } = await versions();
  const config = (labels: Record<string, string>, namespace: string) => ({
    mesh: { labels, namespace },
    ...reviews(v1, v2, [
      { match: [{ sourceLabels: { app: 'productpage', track: 'canary' } }, { sourceNamespace: 'qa' }], route: [{ destination: { subset: 'v2' } }] },
      { route: [{ destination: { subset: 'v1' } }] },
    ]),
  });
  const canary = mesh(config({ app: 'productpage', track: 'canary' }, 'shop'));
  const stable = mesh(config({ app: 'productpage', track: 'stable' }, 'shop'));
  const qa = mesh(config({ app: 'productpage' }, 'qa'));
  expect(await drive(canary, 'http://reviews/r', 20, 4)).toEqual(new Map([['200:v2', 20]]));
  expect(await drive(stable, 'http://reviews/r', 20, 4)).toEqual(new Map([['200:v1', 20]]));
  expect(await drive(qa, 'http://reviews/r', 20, 4)).toEqual(new Map([['200:v2', 20]]));
  // Settled when the routes are built: a new mesh.labels rebuilds them.
  stable.config.setLayer('options', config({ app: 'productpage', track: 'canary' }, 'shop'), 'options');
  expect(await drive(stable, 'http://reviews/r', 20, 4)).toEqual(new Map([['200:v2', 20]]));
});

test('a header match sends x-user: jason to v2 only; everyone else stays on v1', async () => {
  const { v1, v2 } = await versions();
  const m = mesh(
    reviews(v1, v2, [
      { match: [{ headers: { 'x-user': { exact: 'jason' } } }], route: [{ destination: { subset: 'v2' } }] },
      { route: [{ destination: { subset: 'v1' } }] },
    ]),
  );
  const jason = await drive(m, 'http://reviews/r', 200, 10, { 'x-user': 'jason' });
  const others = await drive(m, 'http://reviews/r', 200, 10, { 'x-user': 'json' });
  expect(jason).toEqual(new Map([['200:v2', 200]]));
  expect(others).toEqual(new Map([['200:v1', 200]]));
});

test('routes match on path, method and query; first match wins; no match is MESH_NO_ROUTE', async () => {
  const { v1, v2 } = await versions();
  const m = mesh(
    reviews(v1, v2, [
      { match: [{ uri: { exact: '/exact' } }], route: [{ destination: { subset: 'v2' } }] },
      { match: [{ uri: { prefix: '/api/' }, method: { exact: 'POST' } }], route: [{ destination: { subset: 'v2' } }] },
      { match: [{ uri: { regex: '^/u/[0-9]+$' }, queryParams: { debug: { present: true } } }], route: [{ destination: { subset: 'v2' } }] },
      { match: [{ uri: { prefix: '/' } }], route: [{ destination: { subset: 'v1' } }] },
    ]),
  );
  const who = async (path: string, method = 'GET') => (await (await m.request(`http://reviews${path}`, { method })).body.text());
  expect(await who('/exact')).toBe('v2');
  expect(await who('/exact/more')).toBe('v1');
  expect(await who('/api/x', 'POST')).toBe('v2');
  expect(await who('/api/x', 'GET')).toBe('v1');
  expect(await who('/u/42?debug')).toBe('v2');
  expect(await who('/u/42')).toBe('v1');

  const strict = mesh(reviews(v1, v2, [{ match: [{ uri: { prefix: '/only/' } }], route: [{ destination: { subset: 'v1' } }] }]));
  const err = await strict.request('http://reviews/elsewhere').catch((e: unknown) => e);
  expect(isMeshError(err) && err.code).toBe('MESH_NO_ROUTE');
});

test('authority matches the Host the caller set, else the host of the URL it called', async () => {
  const { v1, v2 } = await versions();
  const m = mesh(
    reviews(v1, v2, [
      { match: [{ authority: { prefix: 'canary.' } }], route: [{ destination: { subset: 'v2' } }] },
      { route: [{ destination: { subset: 'v1' } }] },
    ]),
  );
  const who = async (headers?: Record<string, string>) => (await m.request('http://reviews/a', headers ? { headers } : undefined)).body.text();
  expect(await who()).toBe('v1');
  expect(await who({ host: 'canary.reviews' })).toBe('v2');
  expect(await who({ host: 'reviews' })).toBe('v1');
});

test('header mutation, prefix rewrite, authority rewrite and redirects reach the wire', async () => {
  const { v1, v2 } = await versions();
  const m = mesh(
    reviews(v1, v2, [
      { match: [{ uri: { prefix: '/old/' } }], redirect: { uri: '/new/place', redirectCode: 302 } },
      {
        match: [{ uri: { prefix: '/v1api/' } }],
        rewrite: { uri: '/api/', authority: 'reviews.internal' },
        headers: { request: { set: { 'x-route': 'rewritten' }, remove: ['x-secret'] }, response: { add: { 'x-mesh': 'yes' } } },
        route: [{ destination: { subset: 'v1' }, headers: { request: { add: { 'x-backend': 'v1' } } } }],
      },
    ]),
  );
  const res = await m.request('http://reviews/v1api/items?q=1', { headers: { 'x-secret': 's', 'x-keep': 'k' } });
  expect(await res.body.text()).toBe('v1');
  expect(res.headers['x-mesh']).toBe('yes');
  const seen = v1.seen.at(-1)!;
  expect(seen.path).toBe('/api/items?q=1');
  expect(seen.headers.host).toBe('reviews.internal');
  expect(seen.headers['x-route']).toBe('rewritten');
  expect(seen.headers['x-backend']).toBe('v1');
  expect(seen.headers['x-keep']).toBe('k');
  expect(seen.headers['x-secret']).toBeUndefined();
  // fetch builds its Headers from the raw list; the route's changes must be there too.
  const page = await m.fetch('http://reviews/v1api/items');
  expect(page.headers.get('x-mesh')).toBe('yes');
  await page.text();

  const regex = mesh(
    reviews(v1, v2, [
      { rewrite: { uriRegexRewrite: { match: '^/users/([0-9]+)/(.*)$', rewrite: '/\\2/by-user/\\1' } }, route: [{ destination: { subset: 'v1' } }] },
    ]),
  );
  await (await regex.request('http://reviews/users/42/orders?page=2')).body.text();
  expect(v1.seen.at(-1)!.path).toBe('/orders/by-user/42?page=2');

  const before = v1.seen.length + v2.seen.length;
  const redirect = await m.request('http://reviews/old/thing');
  expect(redirect.statusCode).toBe(302);
  // An absolute Location: the authority the caller addressed, with its scheme.
  expect(redirect.headers.location).toBe('http://reviews/new/place');
  await redirect.body.dump();
  expect(v1.seen.length + v2.seen.length).toBe(before);
});

test('mirroring copies traffic to the mirror without delaying or failing the primary', async () => {
  const { v1, v2 } = await versions();
  // The mirror answers nothing until released, then fails: if the primary
  // waited for its mirror, no primary request could finish below.
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  let mirrorAnswered = 0;
  v2.behave(async (_req, res) => {
    await gate;
    mirrorAnswered++;
    res.writeHead(500);
    res.end('mirror broke');
  });
  const m = mesh(
    reviews(v1, v2, [{ route: [{ destination: { subset: 'v1' } }], mirror: { subset: 'v2' }, mirrorPercentage: 100 }]),
  );
  const counts = await drive(m, 'http://reviews/m', 50, 5);
  expect(counts).toEqual(new Map([['200:v1', 50]]));
  expect(mirrorAnswered).toBe(0);
  await expect.poll(() => v2.seen.length, { timeout: 5_000 }).toBe(50);
  expect(v2.seen[0]!.headers.host).toBe('reviews-shadow');
  release();
  await expect.poll(() => mirrorAnswered, { timeout: 5_000 }).toBe(50);
  // The mirror's failures never reached a caller, and the primary is still fine.
  expect(await (await m.request('http://reviews/m')).body.text()).toBe('v1');
});

test('mirrors: each gets its own share of copies, and the primary gets every request', async () => {
  const { v1, v2 } = await versions();
  const shadow = await startServer('shadow');
  const config = reviews(v1, v2, [
    {
      route: [{ destination: { subset: 'v1' } }],
      mirrors: [{ destination: { subset: 'v2' } }, { destination: { service: 'shadow' }, percentage: { value: 20 } }],
    },
  ]);
  const m = mesh({ services: { ...config.services, shadow: { endpoints: [shadow.endpoint()] } } });
  const counts = await drive(m, 'http://reviews/m', 1_000, 10);
  expect(counts).toEqual(new Map([['200:v1', 1_000]]));
  await expect.poll(() => v2.seen.length, { timeout: 5_000 }).toBe(1_000);
  // 20% of 1,000: binomial, sd 12.6; ±5 sd.
  await expect.poll(() => shadow.seen.length, { timeout: 5_000 }).toBeGreaterThanOrEqual(137);
  expect(shadow.seen.length).toBeLessThanOrEqual(263);
  expect(shadow.seen[0]!.headers.host).toBe('reviews-shadow');
});

test('fault abort at 5% aborts 5% ± 1% of 10,000 requests with the configured status', async () => {
  const { v1, v2 } = await versions();
  const m = mesh(
    reviews(v1, v2, [{ fault: { abort: { percentage: 5, httpStatus: 503 } }, route: [{ destination: { subset: 'v1' } }] }]),
  );
  const counts = await drive(m, 'http://reviews/f', 10_000, 50);
  const aborted = counts.get('503:fault filter abort') ?? 0;
  expect(aborted + (counts.get('200:v1') ?? 0)).toBe(10_000);
  expect(Math.abs(aborted / 10_000 - 0.05)).toBeLessThanOrEqual(0.01);
  // Aborted requests never reached the upstream.
  expect(v1.seen.length).toBe(10_000 - aborted);
});

test('a direct response answers matching requests itself; the others go on to the service', async () => {
  const { v1, v2 } = await versions();
  const m = mesh(
    reviews(v1, v2, [
      { match: [{ uri: { prefix: '/admin' } }], directResponse: { status: 403, body: 'not from here' } },
      { match: [{ uri: { exact: '/gone' } }], directResponse: { status: 410 } },
      { route: [{ destination: { subset: 'v1' } }] },
    ]),
  );
  const admin = await m.request('http://reviews/admin/users');
  expect([admin.statusCode, admin.headers['content-type'], await admin.body.text()]).toEqual([403, 'text/plain', 'not from here']);
  const gone = await m.request('http://reviews/gone');
  expect([gone.statusCode, await gone.body.text()]).toEqual([410, '']);
  expect(await (await m.fetch('http://reviews/r')).text()).toBe('v1');
  expect(v1.seen.length + v2.seen.length).toBe(1);
});

test("a fault abort with a gRPC status answers as Envoy's fault filter does: 200, trailers-only, nothing sent", async () => {
  const { v1, v2 } = await versions();
  const m = mesh(reviews(v1, v2, [{ fault: { abort: { percentage: 100, grpcStatus: 'UNAVAILABLE' } }, route: [{ destination: { subset: 'v1' } }] }]));
  const res = await m.request('http://reviews/g');
  expect(res.statusCode).toBe(200);
  expect(res.headers).toMatchObject({ 'content-type': 'application/grpc', 'grpc-status': '14', 'grpc-message': 'fault filter abort' });
  expect(await res.body.text()).toBe('');
  expect(v1.seen.length).toBe(0);
});

test('fault delay holds the request for the configured time before it is sent', async () => {
  const { v1, v2 } = await versions();
  const m = mesh(
    reviews(v1, v2, [
      { fault: { delay: { percentage: 100, fixedDelay: '5s' } }, route: [{ destination: { subset: 'v1' } }] },
    ]),
  );
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  try {
    const pending = m.request('http://reviews/d');
    await vi.advanceTimersByTimeAsync(4_900);
    expect(v1.seen.length).toBe(0);
    await vi.advanceTimersByTimeAsync(200);
    vi.useRealTimers();
    const res = await pending;
    expect(await res.body.text()).toBe('v1');
    expect(v1.seen.length).toBe(1);
  } finally {
    vi.useRealTimers();
  }
});

test('the mirror gets the request as the route transformed it: rewritten path, route headers, shadow of the new authority', async () => {
  const { v1, v2 } = await versions();
  const m = mesh(
    reviews(v1, v2, [
      {
        match: [{ uri: { prefix: '/old/' } }],
        rewrite: { uri: '/new/', authority: 'reviews.internal' },
        headers: { request: { set: { 'x-route': 'r1' } } },
        route: [{ destination: { subset: 'v1' } }],
        mirror: { subset: 'v2' },
      },
    ]),
  );
  expect(await (await m.request('http://reviews/old/a?q=1')).body.text()).toBe('v1');
  await expect.poll(() => v2.seen.length, { timeout: 5_000 }).toBe(1);
  const copy = v2.seen[0]!;
  expect(copy.path).toBe('/new/a?q=1');
  expect(copy.headers['x-route']).toBe('r1');
  expect(copy.headers.host).toBe('reviews.internal-shadow');
});

test('a call picked for both a fault delay and an abort is aborted after the delay, as Envoy orders them', async () => {
  const { v1, v2 } = await versions();
  const m = mesh(
    reviews(v1, v2, [
      {
        fault: { delay: { percentage: 100, fixedDelay: '2s' }, abort: { percentage: 100, httpStatus: 418 } },
        route: [{ destination: { subset: 'v1' } }],
      },
    ]),
  );
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  try {
    let settled = false;
    const pending = m.request('http://reviews/d').then((r) => {
      settled = true;
      return r;
    });
    await vi.advanceTimersByTimeAsync(1_900);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(200);
    vi.useRealTimers();
    const res = await pending;
    expect(res.statusCode).toBe(418);
    await res.body.dump();
    expect(v1.seen.length).toBe(0);
  } finally {
    vi.useRealTimers();
  }
});
