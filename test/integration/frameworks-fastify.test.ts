/**
 * Fastify with the mesh: `app.register(meshFastify(mesh))` on a real
 * Fastify 5 app, served over STRICT mTLS by mesh.createServer(app.routing),
 * called by another mesh with its own certificate.
 */
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, expect, test, vi } from 'vitest';
import { currentDeadline, MeshError, type MeshRequestContext, type MeshServer, meshFastify } from '../../src/index.js';
import { call, expectDenied, expectIdentityAndClaims, type Fixture, frameworkFixture, routeLines } from './frameworks-fixture.js';

let fx: Fixture;
const servers: MeshServer[] = [];
const apps: FastifyInstance[] = [];
beforeAll(async () => {
  fx = await frameworkFixture();
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close(100)));
  await Promise.all(apps.splice(0).map((a) => a.close()));
});
afterAll(() => fx.close());

type MeshRequest = { mesh?: MeshRequestContext | null };

async function start() {
  const backend = await fx.backend();
  const app = Fastify();
  apps.push(app);
  await app.register(meshFastify(backend));
  app.get<{ Params: { id: string } }>('/users/:id', async (req) => {
    const mesh = (req as MeshRequest).mesh;
    return { id: req.params.id, peer: mesh?.peer.principal ?? null, user: mesh?.requestPrincipal ?? null, role: mesh?.claims?.role ?? null };
  });
  app.post('/echo', async (req) => ({ body: req.body, deadline: currentDeadline() !== undefined }));
  app.get('/secret', async () => 'never');
  app.get('/fails', async () => {
    throw new MeshError('MESH_CIRCUIT_OPEN', 'circuit open for inventory');
  });
  await app.ready();
  const server = backend.createServer(app.routing);
  servers.push(server);
  const { port } = await server.listen(0, '127.0.0.1');
  return { backend, caller: await fx.caller(port) };
}

test('Fastify: the handler reads the mTLS peer and the JWT claims from request.mesh', async () => {
  const { caller } = await start();
  await expectIdentityAndClaims(fx, caller);
});

test('Fastify: a denied request gets 403 with the deciding policy; a thrown mesh error gets its status and code', async () => {
  const { caller } = await start();
  await expectDenied(caller);
  const failed = await call(caller, '/fails');
  expect(failed.status).toBe(503);
  expect(JSON.parse(failed.body)).toMatchObject({ code: 'MESH_CIRCUIT_OPEN', message: 'circuit open for inventory' });
});

test("Fastify: after the body is read, the handler still runs in the request's deadline", async () => {
  const { caller } = await start();
  const res = await caller.request('http://users/echo', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-mesh-timeout-ms': '5000' },
    body: JSON.stringify({ a: 1 }),
  });
  expect(await res.body.json()).toEqual({ body: { a: 1 }, deadline: true });
});

test("Fastify: a body that arrives after the headers still reaches a handler in the request's deadline", async () => {
  const backend = await fx.backend();
  const app = Fastify();
  apps.push(app);
  await app.register(meshFastify(backend));
  let headersSeen!: () => void;
  const seen = new Promise<void>((resolve) => {
    headersSeen = resolve;
  });
  app.addHook('onRequest', (_req, _reply, done) => {
    headersSeen();
    done();
  });
  app.post('/late', async (req) => ({ body: req.body, deadline: currentDeadline() !== undefined }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  // The body is read from later socket events, outside the context the request's hooks ran in.
  const socket = connect(port, '127.0.0.1');
  const body = JSON.stringify({ late: true });
  socket.write(`POST /late HTTP/1.1\r\nhost: users\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nx-mesh-timeout-ms: 5000\r\nconnection: close\r\n\r\n`);
  await seen;
  socket.end(body);
  let raw = '';
  for await (const chunk of socket) raw += String(chunk);
  expect(raw.startsWith('HTTP/1.1 200')).toBe(true);
  expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4))).toEqual({ body: { late: true }, deadline: true });
});

test('Fastify: metrics are labelled by routeOptions.url, never the raw path', async () => {
  const { backend, caller } = await start();
  for (const id of ['1', '2']) expect((await call(caller, `/users/${id}`)).status).toBe(200);
  expect((await call(caller, '/nowhere/7')).status).toBe(404);
  await vi.waitFor(async () => {
    const lines = await routeLines(backend);
    expect(lines).toContain('proxyless_inbound_requests_total{route="/users/:id",method="GET",response_code="200"} 2');
    expect(lines).toContain('proxyless_inbound_requests_total{route="unmatched",method="GET",response_code="404"} 1');
  });
  expect(await backend.metricsRegistry!.metrics()).not.toContain('/users/1');
});

test('Fastify: registered inside an encapsulated plugin, the mesh covers that plugin only', async () => {
  const m = await fx.backend();
  const app = Fastify();
  apps.push(app);
  await app.register(async (api) => {
    await api.register(meshFastify(m));
    api.get('/api/who', async (req) => ({ meshed: (req as MeshRequest).mesh != null }));
  });
  app.get('/health', async (req) => ({ meshed: (req as MeshRequest).mesh != null }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  const get = async (path: string) => (await request(`http://127.0.0.1:${port}${path}`)).body.json();
  expect(await get('/api/who')).toEqual({ meshed: true });
  expect(await get('/health')).toEqual({ meshed: false });
  await vi.waitFor(async () => {
    expect(await routeLines(m)).toEqual(['proxyless_inbound_requests_total{route="/api/who",method="GET",response_code="200"} 1']);
  });
});

test("Fastify: on its own listener, the plugin's hook refuses with the mesh's reason through Fastify's reply", async () => {
  const m = await fx.backend();
  const app = Fastify();
  apps.push(app);
  let onSendRan = false;
  app.addHook('onSend', async (_req, _reply, payload) => {
    onSendRan = true;
    return payload;
  });
  await app.register(meshFastify(m));
  app.get('/secret', async () => 'never');
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  const res = await request(`http://127.0.0.1:${port}/secret`);
  expect(res.statusCode).toBe(403);
  expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
  expect(await res.body.text()).toContain('shop/no-secrets');
  // The refusal went out through reply.send, so the app's own hooks saw it.
  expect(onSendRan).toBe(true);
});
