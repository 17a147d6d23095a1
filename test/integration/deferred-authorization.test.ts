/**
 * `deferAuthorization` and its follow-up, `authorizeRequest(req)`: the
 * adapter admits the request without checking it, the route's handler runs
 * the mesh's JWT authentication and authorization itself, and a refusal is
 * answered, counted and published as every other refusal is. Real Express
 * 5 and Fastify 5 apps on their own plaintext servers (port 0), called with
 * real undici.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { request } from 'undici';
import { afterEach, beforeAll, expect, test, vi } from 'vitest';
import {
  authorizeRequest,
  CHANNELS,
  createMesh,
  isMeshError,
  type Mesh,
  type MeshRequestContext,
  type MeshServer,
  meshExpress,
  meshExpressErrors,
  meshFastify,
} from '../../src/index.js';

let jwks: string;
let sign: (claims: Record<string, unknown>) => Promise<string>;
const meshes: Mesh[] = [];
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] });
  sign = (claims) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer('https://issuer.example')
      .setSubject('alice')
      .setAudience('orders')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
});
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
  await Promise.all(meshes.splice(0).map((m) => m.destroy()));
});

/** A plaintext backend: a JWT rule, and a DENY policy on /admin. */
function backend(): Mesh {
  const m = createMesh({
    env: false,
    config: {
      mesh: { namespace: 'shop', serviceName: 'orders', security: { mtls: { mode: 'DISABLE' } } },
      requestAuthentications: [{ name: 'jwt', jwtRules: [{ issuer: 'https://issuer.example', audiences: ['orders'], jwks }] }],
      authorizationPolicies: [{ name: 'no-admin', action: 'DENY', rules: [{ to: [{ paths: ['/admin*'] }] }] }],
    },
  });
  meshes.push(m);
  return m;
}

/** What each app's handler saw: the requests that reached it, and those whose protected part ran. */
interface Seen {
  reached: string[];
  authorized: string[];
}

async function get(port: number, path: string, headers: Record<string, string> = {}) {
  const res = await request(`http://127.0.0.1:${port}${path}`, { headers });
  return { status: res.statusCode, body: await res.body.text() };
}

async function expressApp(m: Mesh, seen: Seen): Promise<number> {
  const app = express();
  app.use(meshExpress(m, { deferAuthorization: true }));
  app.get(['/admin/:item', '/orders/:id'], async (req, res) => {
    seen.reached.push(req.path);
    const path = await authorizeRequest(req);
    seen.authorized.push(path);
    res.json({ path, user: req.mesh?.requestPrincipal ?? null });
  });
  app.use(meshExpressErrors());
  const server = createServer(app);
  closers.push(() => new Promise((resolve) => server.close(resolve)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function fastifyApp(m: Mesh, seen: Seen): Promise<number> {
  const app: FastifyInstance = Fastify();
  closers.push(() => app.close());
  await app.register(meshFastify(m, { deferAuthorization: true }));
  const handler = async (req: FastifyRequest) => {
    seen.reached.push(req.url);
    const path = await authorizeRequest(req);
    seen.authorized.push(path);
    return { path, user: (req as { mesh?: MeshRequestContext }).mesh?.requestPrincipal ?? null };
  };
  app.get('/admin/:item', handler);
  app.get('/orders/:id', handler);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return (app.server.address() as AddressInfo).port;
}

const apps = { Express: expressApp, Fastify: fastifyApp };

for (const [name, start] of Object.entries(apps)) {
  test(`${name}: with deferAuthorization the handler runs first, and authorizeRequest refuses a denied request before its protected part`, async () => {
    const seen: Seen = { reached: [], authorized: [] };
    const port = await start(backend(), seen);
    const denied = await get(port, '/admin/keys');
    expect(denied.status).toBe(403);
    expect(denied.body).toContain('denied by policy shop/no-admin');
    expect(seen).toEqual({ reached: ['/admin/keys'], authorized: [] });
  });

  test(`${name}: authorizeRequest resolves with the judged path when the policies allow, and the verified JWT is then readable`, async () => {
    const seen: Seen = { reached: [], authorized: [] };
    const port = await start(backend(), seen);
    const token = await sign({});
    const allowed = await get(port, '/orders/7', { authorization: `Bearer ${token}` });
    expect(allowed.status).toBe(200);
    expect(JSON.parse(allowed.body)).toEqual({ path: '/orders/7', user: 'https://issuer.example/alice' });
    // A bad token: 401, and the protected part does not run.
    const forged = await get(port, '/orders/8', { authorization: 'Bearer not.a.jwt' });
    expect(forged.status).toBe(401);
    expect(seen).toEqual({ reached: ['/orders/7', '/orders/8'], authorized: ['/orders/7'] });
  });

  test(`${name}: a refusal by authorizeRequest is published on proxyless:denied and counted in proxyless_inbound_denials_total`, async () => {
    const denials: unknown[] = [];
    const onDenied = (msg: unknown) => denials.push(msg);
    subscribe(CHANNELS.denied, onDenied);
    try {
      const m = backend();
      const port = await start(m, { reached: [], authorized: [] });
      expect((await get(port, '/admin/keys')).status).toBe(403);
      expect((await get(port, '/orders/1', { authorization: 'Bearer not.a.jwt' })).status).toBe(401);
      expect((await get(port, '/orders/2')).status).toBe(200);
      expect(denials).toEqual([
        { code: 'MESH_PERMISSION_DENIED', policy: 'shop/no-admin' },
        { code: 'MESH_UNAUTHENTICATED', policy: undefined },
      ]);
      const lines = (await m.metricsRegistry!.metrics()).split('\n').filter((l) => l.startsWith('proxyless_inbound_denials_total{'));
      expect(lines.sort()).toEqual([
        'proxyless_inbound_denials_total{code="MESH_PERMISSION_DENIED",policy="shop/no-admin"} 1',
        'proxyless_inbound_denials_total{code="MESH_UNAUTHENTICATED",policy="-"} 1',
      ]);
      // Istio's request metrics record the refusal with the status the app answered.
      await vi.waitFor(async () => {
        expect(await m.metricsRegistry!.metrics()).toMatch(/istio_requests_total\{reporter="destination",[^}]*response_code="403"[^}]*\} 1/);
      });
    } finally {
      unsubscribe(CHANNELS.denied, onDenied);
    }
  });
}

test('mesh.createServer: authorizeRequest resolves at once with the path the server judged, without a second check', async () => {
  const denials: unknown[] = [];
  const onDenied = (msg: unknown) => denials.push(msg);
  subscribe(CHANNELS.denied, onDenied);
  try {
    const m = backend();
    const paths: string[] = [];
    const server: MeshServer = m.createServer((req, res) => {
      authorizeRequest(req).then((path) => {
        paths.push(path);
        res.end(path);
      });
    });
    closers.push(() => server.close(100));
    const { port } = await server.listen(0, '127.0.0.1');
    // The server normalized the path (merged slashes) before the policies and the handler saw it.
    expect(await get(port, '/orders//3')).toEqual({ status: 200, body: '/orders/3' });
    // Denied by the server itself: the handler never runs.
    expect((await get(port, '/admin')).status).toBe(403);
    expect(paths).toEqual(['/orders/3']);
    expect(denials).toEqual([{ code: 'MESH_PERMISSION_DENIED', policy: 'shop/no-admin' }]);
  } finally {
    unsubscribe(CHANNELS.denied, onDenied);
  }
});

test('mesh.createServer with deferAuthorization: the handler runs first, and authorizeRequest refuses a denied request before its protected part', async () => {
  const denials: unknown[] = [];
  const onDenied = (msg: unknown) => denials.push(msg);
  subscribe(CHANNELS.denied, onDenied);
  try {
    const m = backend();
    const seen: Seen = { reached: [], authorized: [] };
    const server: MeshServer = m.createServer(
      (req, res) => {
        seen.reached.push(req.url ?? '');
        authorizeRequest(req).then(
          (path) => {
            seen.authorized.push(path);
            res.end(path);
          },
          (err: unknown) => {
            res.statusCode = isMeshError(err) ? err.httpStatus : 500;
            res.end(isMeshError(err) ? err.code : 'not a mesh error');
          },
        );
      },
      { deferAuthorization: true },
    );
    closers.push(() => server.close(100));
    const { port } = await server.listen(0, '127.0.0.1');
    expect(await get(port, '/admin/keys')).toEqual({ status: 403, body: 'MESH_PERMISSION_DENIED' });
    expect(await get(port, '/orders/9', { authorization: 'Bearer not.a.jwt' })).toEqual({ status: 401, body: 'MESH_UNAUTHENTICATED' });
    const token = await sign({});
    expect(await get(port, '/orders//7', { authorization: `Bearer ${token}` })).toEqual({ status: 200, body: '/orders/7' });
    // The handler saw every request as sent (routing comes first); only the allowed one got past the check.
    expect(seen).toEqual({ reached: ['/admin/keys', '/orders/9', '/orders//7'], authorized: ['/orders/7'] });
    expect(denials).toEqual([
      { code: 'MESH_PERMISSION_DENIED', policy: 'shop/no-admin' },
      { code: 'MESH_UNAUTHENTICATED', policy: undefined },
    ]);
  } finally {
    unsubscribe(CHANNELS.denied, onDenied);
  }
});

test('authorizeRequest refuses a request the mesh did not see, rather than let it through', async () => {
  let failure: unknown;
  const server: Server = createServer((req, res) => {
    authorizeRequest(req).then(
      () => res.end('let through'),
      (err: unknown) => {
        failure = err;
        res.statusCode = 500;
        res.end();
      },
    );
  });
  closers.push(() => new Promise((resolve) => server.close(resolve)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  expect((await get((server.address() as AddressInfo).port, '/orders/1')).status).toBe(500);
  expect(isMeshError(failure) && failure.code).toBe('MESH_INVALID_ARGUMENT');
});
