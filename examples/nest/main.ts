/**
 * A NestJS service on the mesh: `MeshModule.forRoot(mesh)` in the root
 * module's imports, `@MeshContext()` for the caller, a handler that calls
 * another service with meshFetch, per-route metrics and a graceful drain.
 *
 *   npx tsx examples/nest/main.ts
 *
 * Nest's decorators are the legacy (experimentalDecorators) kind. In an
 * app compiled with `experimentalDecorators` you write them as usual:
 *
 *   @Controller('products')
 *   class ProductsController {
 *     @Get(':id')
 *     get(@Param('id') id: string, @MeshContext() caller: MeshRequestContext) { ... }
 *   }
 *
 * This repository compiles TC39 decorators, so the example applies the
 * same decorators with Reflect.decorate, which is what that syntax compiles to.
 */
import 'reflect-metadata';
import { Controller, Get, Module, Param } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { defaultMesh, type MeshRequestContext, meshFetch } from 'proxyless';
// An app imports these from 'proxyless/nest' (this repository maps only 'proxyless' to its source).
import { MeshContext, MeshModule } from '../../src/nest.js';
import { startInventory } from '../express/inventory.js';

const inventory = await startInventory();
process.env.MESH_SERVICE_NAME = 'shop';
process.env.MESH_SERVICES = `inventory=${inventory.address}`;
const mesh = defaultMesh();

class ProductsController {
  async get(id: string, caller: MeshRequestContext) {
    const stock = (await (await meshFetch(`http://inventory/stock/${id}`)).json()) as { inStock: number; deadlineMs: string | null };
    return { id, inStock: stock.inStock, inventoryBudgetMs: Number(stock.deadlineMs), caller: caller.peer.principal ?? 'plaintext (no identity)' };
  }
}
Reflect.decorate([Controller('products')], ProductsController);
Reflect.decorate([Get(':id')], ProductsController.prototype, 'get', Object.getOwnPropertyDescriptor(ProductsController.prototype, 'get'));
Param('id')(ProductsController.prototype, 'get', 0);
MeshContext()(ProductsController.prototype, 'get', 1);

class AppModule {}
Reflect.decorate([Module({ imports: [MeshModule.forRoot(mesh)], controllers: [ProductsController] })], AppModule);

const app = await NestFactory.create(AppModule, { logger: false });
await app.listen(0, '127.0.0.1');
// Attached now so SIGTERM drains it even before the first request arrives.
mesh.inbound.attach(app.getHttpServer());
const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');

for (const path of ['/products/1', '/products/2', '/products/3', '/nope']) {
  const res = await fetch(`${base}${path}`, { headers: { 'x-mesh-timeout-ms': '2000' } });
  console.log(`GET ${path} -> ${res.status} ${res.status === 200 ? await res.text() : ''}`.trimEnd());
}

const metrics = await mesh.metricsRegistry!.metrics();
for (const line of metrics.split('\n').filter((l) => l.startsWith('proxyless_inbound_requests_total{'))) console.log(line);

await mesh.close();
console.log(`drained: listening=${app.getHttpServer().listening}`);
await app.close();
inventory.close();
