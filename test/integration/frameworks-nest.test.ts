/**
 * NestJS with the mesh: `MeshModule.forRoot(mesh)` in a real Nest app on
 * Express, served over STRICT mTLS by mesh.createServer(), called by another
 * mesh with its own certificate. Decorators are applied as calls: this
 * repository compiles TC39 decorators, and Nest's are the legacy kind.
 */
import 'reflect-metadata';
import { Controller, Get, type INestApplication, Module, Param } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, expect, test, vi } from 'vitest';
import { type Mesh, MeshError, type MeshRequestContext, type MeshServer } from '../../src/index.js';
import { MeshContext, MeshModule } from '../../src/nest.js';
import { call, expectDenied, expectIdentityAndClaims, type Fixture, frameworkFixture, routeLines } from './frameworks-fixture.js';

let fx: Fixture;
const servers: MeshServer[] = [];
const apps: INestApplication[] = [];
beforeAll(async () => {
  fx = await frameworkFixture();
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close(100)));
  await Promise.all(apps.splice(0).map((a) => a.close()));
});
afterAll(() => fx.close());

function method(target: object, name: string, ...decorators: MethodDecorator[]): void {
  Reflect.decorate(decorators, target, name, Object.getOwnPropertyDescriptor(target, name));
}

async function nestApp(mesh: Mesh): Promise<INestApplication> {
  class UsersController {
    get(id: string, caller: MeshRequestContext) {
      return { id, peer: caller.peer.principal ?? null, user: caller.requestPrincipal ?? null, role: caller.claims?.role ?? null };
    }
    fails() {
      throw new MeshError('MESH_CIRCUIT_OPEN', 'circuit open for inventory');
    }
  }
  Reflect.decorate([Controller('users')], UsersController);
  method(UsersController.prototype, 'get', Get(':id'));
  Param('id')(UsersController.prototype, 'get', 0);
  MeshContext()(UsersController.prototype, 'get', 1);
  method(UsersController.prototype, 'fails', Get(':id/fails'));

  class SecretController {
    read() {
      return 'never';
    }
  }
  Reflect.decorate([Controller('secret')], SecretController);
  method(SecretController.prototype, 'read', Get());

  class AppModule {}
  Reflect.decorate([Module({ imports: [MeshModule.forRoot(mesh)], controllers: [UsersController, SecretController] })], AppModule);
  const app = await NestFactory.create(AppModule, { logger: false });
  apps.push(app);
  return app;
}

async function start() {
  const backend = await fx.backend();
  const app = await nestApp(backend);
  await app.init();
  const server = backend.createServer(app.getHttpAdapter().getInstance());
  servers.push(server);
  const { port } = await server.listen(0, '127.0.0.1');
  return { backend, caller: await fx.caller(port) };
}

test('Nest: @MeshContext() hands the handler the mTLS peer and the JWT claims', async () => {
  const { caller } = await start();
  await expectIdentityAndClaims(fx, caller);
});

test("Nest: a denied request gets 403 with the mesh's reason; a mesh error from a handler gets its status", async () => {
  const { caller } = await start();
  await expectDenied(caller);
  const failed = await call(caller, '/users/1/fails');
  expect(failed.status).toBe(503);
  expect(JSON.parse(failed.body)).toMatchObject({ statusCode: 503, code: 'MESH_CIRCUIT_OPEN', message: 'circuit open for inventory' });
});

test("Nest: metrics are labelled by the controller's and handler's route, never the raw path", async () => {
  const { backend, caller } = await start();
  for (const id of ['1', '2']) expect((await call(caller, `/users/${id}`)).status).toBe(200);
  expect((await call(caller, '/nowhere')).status).toBe(404);
  await vi.waitFor(async () => {
    const lines = await routeLines(backend);
    expect(lines).toContain('proxyless_inbound_requests_total{route="/users/:id",method="GET",response_code="200"} 2');
    expect(lines).toContain('proxyless_inbound_requests_total{route="unmatched",method="GET",response_code="404"} 1');
  });
  expect(await backend.metricsRegistry!.metrics()).not.toContain('/users/1');
});

test('Nest: on its own listener, without mesh.createServer in front, the guard is what authorizes', async () => {
  const m = await fx.backend();
  const app = await nestApp(m);
  await app.listen(0, '127.0.0.1');
  const url = await app.getUrl();
  const res = await request(`${url.replace('[::1]', '127.0.0.1')}/secret`);
  expect(res.statusCode).toBe(403);
  expect(await res.body.json()).toMatchObject({ statusCode: 403, code: 'MESH_PERMISSION_DENIED', message: expect.stringContaining('shop/no-secrets') });
});
