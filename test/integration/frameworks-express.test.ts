/**
 * Express with the mesh: `app.use(meshExpress(mesh))` on a real Express 5
 * app, served over STRICT mTLS by mesh.createServer(app), called by another
 * mesh with its own certificate.
 */
import express from 'express';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { MeshError, type MeshServer, meshExpress, meshExpressErrors } from '../../src/index.js';
import { call, expectDenied, expectIdentityAndClaims, type Fixture, frameworkFixture, routeLines } from './frameworks-fixture.js';

let fx: Fixture;
const servers: MeshServer[] = [];
beforeAll(async () => {
  fx = await frameworkFixture();
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close(100)));
  await fx.close();
});

async function start() {
  const backend = await fx.backend();
  const app = express();
  app.use(meshExpress(backend));
  const users = express.Router();
  users.get('/:id', (req, res) => {
    res.json({
      id: req.params.id,
      peer: req.mesh?.peer.principal ?? null,
      user: req.mesh?.requestPrincipal ?? null,
      role: req.mesh?.claims?.role ?? null,
    });
  });
  app.use('/users', users);
  app.get('/secret', (_req, res) => {
    res.send('never');
  });
  app.get('/fails', () => {
    throw new MeshError('MESH_CIRCUIT_OPEN', 'circuit open for inventory');
  });
  app.use(meshExpressErrors());
  const server = backend.createServer(app);
  servers.push(server);
  const { port } = await server.listen(0, '127.0.0.1');
  return { backend, caller: await fx.caller(port) };
}

test('Express: the handler reads the mTLS peer and the JWT claims from req.mesh', async () => {
  const { caller } = await start();
  await expectIdentityAndClaims(fx, caller);
});

test('Express: a denied request gets 403 with the deciding policy; a mesh error from a handler gets its status', async () => {
  const { caller } = await start();
  await expectDenied(caller);
  const failed = await call(caller, '/fails');
  expect(failed.status).toBe(503);
  expect(failed.body).toBe('circuit open for inventory\n');
});

test('Express: metrics are labelled by the route template (baseUrl + route), never the raw path', async () => {
  const { backend, caller } = await start();
  for (const id of ['1', '2', '3']) expect((await call(caller, `/users/${id}`)).status).toBe(200);
  expect((await call(caller, '/nowhere/7')).status).toBe(404);
  // A request is recorded when its response closes on the server, which may be just after the client has it.
  await vi.waitFor(async () => {
    const lines = await routeLines(backend);
    expect(lines).toContain('proxyless_inbound_requests_total{route="/users/:id",method="GET",response_code="200"} 3');
    expect(lines).toContain('proxyless_inbound_requests_total{route="unmatched",method="GET",response_code="404"} 1');
  });
  const text = await backend.metricsRegistry!.metrics();
  expect(text).not.toContain('/users/1');
  expect(text).not.toContain('/nowhere');
  // Istio's own metrics still count every request, reporter="destination".
  expect(text).toMatch(/istio_requests_total\{reporter="destination",[^}]*response_code="200"[^}]*\} 3/);
});
