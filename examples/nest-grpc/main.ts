/**
 * A NestJS gRPC microservice on the mesh: Nest's gRPC transport serving on
 * `mesh.grpc.server()`, with the mesh's handler decorators on a controller.
 *
 *   npx tsx examples/nest-grpc/main.ts
 *
 * Nest's decorators are the legacy (experimentalDecorators) kind, and the
 * mesh's decorators work in that mode too. In an app compiled with
 * `experimentalDecorators` you write them as usual:
 *
 *   @Controller()
 *   class HeroesController {
 *     @GrpcMethod('HeroesService', 'FindOne')
 *     @RateLimit({ maxTokens: 2, fillInterval: 60_000 })
 *     @Timeout(800)
 *     findOne(data: HeroById, metadata: Metadata) { ... }
 *   }
 *
 * This repository compiles TC39 decorators, so the example applies the
 * same decorators with Reflect.decorate, which is what that syntax compiles to.
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { GrpcMethod } from '@nestjs/microservices';
import { Authorize, createMesh, currentDeadline, type MeshRequestContext, meshContextOf, RateLimit, Timeout } from 'proxyless';
import { MeshGrpcStrategy } from './mesh-grpc-strategy.js';

const protoPath = fileURLToPath(new URL('./hero.proto', import.meta.url));

interface Hero {
  id: number;
  name: string;
  caller: string;
  budgetMs: number;
}

class HeroesController {
  readonly #heroes = new Map([
    [1, 'Ada'],
    [2, 'Grace'],
  ]);

  findOne(data: { id: number }, metadata: grpc.Metadata): Hero {
    return this.#hero(data.id, metadata);
  }

  rename(data: { id: number; name: string }, metadata: grpc.Metadata): Hero {
    this.#heroes.set(data.id, data.name);
    return this.#hero(data.id, metadata);
  }

  #hero(id: number, metadata: grpc.Metadata): Hero {
    const deadline = currentDeadline();
    return {
      id,
      name: this.#heroes.get(id) ?? 'unknown',
      // Nest hands gRPC handlers the call's metadata; the mesh knows the call by it.
      caller: callerOf(meshContextOf(metadata)),
      budgetMs: deadline === undefined ? 0 : Math.floor(deadline.at - performance.now()),
    };
  }
}
/** The caller as the mesh verified it. */
function callerOf(ctx: MeshRequestContext | undefined): string {
  if (ctx === undefined) return 'unknown (the call bypassed the mesh)';
  return ctx.peer.spiffeId ?? 'plaintext (no identity)';
}

const method = (name: string) => Object.getOwnPropertyDescriptor(HeroesController.prototype, name);
Reflect.decorate([Controller()], HeroesController);
Reflect.decorate(
  [GrpcMethod('HeroesService', 'FindOne'), RateLimit({ maxTokens: 2, fillInterval: 60_000 }), Timeout(800)],
  HeroesController.prototype,
  'findOne',
  method('findOne'),
);
Reflect.decorate([GrpcMethod('HeroesService', 'Rename'), Authorize({ namespaces: ['shop'] })], HeroesController.prototype, 'rename', method('rename'));

class AppModule {}
Reflect.decorate([Module({ controllers: [HeroesController] })], AppModule);

const caDir = mkdtempSync(join(tmpdir(), 'proxyless-nest-grpc-'));
const mesh = createMesh({
  env: false,
  config: {
    mesh: {
      namespace: 'shop',
      serviceName: 'heroes',
      security: { serviceAccount: 'heroes', certificates: { provider: 'dev', dir: caDir }, mtls: { mode: 'PERMISSIVE' } },
    },
  },
});
await mesh.ready();

const meshServer = mesh.grpc.server();
const definition = (grpc.loadPackageDefinition(loadSync(protoPath)) as unknown as { hero: { HeroesService: grpc.ServiceClientConstructor } }).hero
  .HeroesService;
meshServer.usePolicies(definition.service, HeroesController);

const app = await NestFactory.createMicroservice(AppModule, {
  strategy: new MeshGrpcStrategy(meshServer, { port: 0, host: '127.0.0.1' }, { package: 'hero', protoPath }),
  logger: false,
});
await app.listen();
const port = meshServer.address()!.port;
console.log(`heroes (NestJS) serving gRPC on 127.0.0.1:${port} as ${mesh.identity?.spiffeId}`);

type UnaryMethod = (request: object, options: grpc.CallOptions, callback: (err: grpc.ServiceError | null, hero: Hero) => void) => void;
const client = new definition(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as grpc.Client & Record<string, UnaryMethod>;
function call(name: string, request: object): Promise<string> {
  return new Promise((resolve) => {
    client[name]!(request, { deadline: Date.now() + 5_000 }, (err, hero) => {
      if (err) return resolve(`${grpc.status[err.code]}: ${err.details}`);
      const budget = hero.budgetMs > 0 && hero.budgetMs <= 800 ? 'within 800 ms' : `${hero.budgetMs} ms`;
      resolve(`${hero.id} ${hero.name}, caller ${hero.caller}, handler deadline ${budget}`);
    });
  });
}

for (let i = 1; i <= 3; i++) console.log(`FindOne #${i}: ${await call('FindOne', { id: 1 })}`);
console.log(`Rename: ${await call('Rename', { id: 2, name: 'Hopper' })}`);

client.close();
await app.close();
await mesh.close();
rmSync(caDir, { recursive: true, force: true });
