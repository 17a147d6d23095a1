/**
 * A meshed service for the drain tests, run as a child process:
 *   node --import tsx test/integration/inbound-drain-app.ts <express|fastify|nest|node> <holdCount>
 * It listens on port 0 (plaintext, its own listener as in a Deployment),
 * prints `port <n>`, holds every GET /work/:id until `holdCount` of them are
 * in flight, prints `inflight <n>`, and answers them all 300 ms later. The
 * parent sends SIGTERM in between; the mesh drains and the process must end
 * by itself.
 */
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { Controller, Get, Module, Param } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import express from 'express';
import Fastify from 'fastify';
import { createMesh, meshExpress, meshFastify } from '../../src/index.js';
import { MeshModule } from '../../src/nest.js';

const [framework = 'express', holdArg = '500'] = process.argv.slice(2);
const hold = Number(holdArg);
const mesh = createMesh({ env: false, config: { mesh: { serviceName: 'work', inbound: { drain: { timeout: '20s' } } } } });

let arrived = 0;
let release: Promise<void> | undefined;
function work(id: string): Promise<{ id: string }> {
  arrived++;
  if (arrived === hold) {
    console.log(`inflight ${mesh.inbound.pipeline.inFlight}`);
    release = new Promise((resolve) => setTimeout(resolve, 300));
  }
  return new Promise((resolve) => {
    const wait = () => (release === undefined ? setTimeout(wait, 5) : release.then(() => resolve({ id })));
    wait();
  });
}

async function listen(): Promise<number> {
  if (framework === 'express') {
    const app = express();
    app.use(meshExpress(mesh));
    app.get('/work/:id', async (req, res) => {
      res.json(await work(req.params.id));
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    // Attached now rather than on the first request, so SIGTERM is the mesh's from the start.
    mesh.inbound.attach(server);
    return (server.address() as AddressInfo).port;
  }
  if (framework === 'fastify') {
    const app = Fastify();
    await app.register(meshFastify(mesh));
    app.get<{ Params: { id: string } }>('/work/:id', (req) => work(req.params.id));
    await app.listen({ port: 0, host: '127.0.0.1' });
    return (app.server.address() as AddressInfo).port;
  }
  if (framework === 'nest') {
    class WorkController {
      get(id: string) {
        return work(id);
      }
    }
    Reflect.decorate([Controller('work')], WorkController);
    Reflect.decorate([Get(':id')], WorkController.prototype, 'get', Object.getOwnPropertyDescriptor(WorkController.prototype, 'get'));
    Param('id')(WorkController.prototype, 'get', 0);
    class AppModule {}
    Reflect.decorate([Module({ imports: [MeshModule.forRoot(mesh)], controllers: [WorkController] })], AppModule);
    const app = await NestFactory.create(AppModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    mesh.inbound.attach(app.getHttpServer());
    return (app.getHttpServer().address() as AddressInfo).port;
  }
  const server = mesh.createServer(async (req, res) => {
    const body = JSON.stringify(await work(req.url ?? ''));
    res.setHeader('content-type', 'application/json');
    res.end(body);
  });
  return (await server.listen(0, '127.0.0.1')).port;
}

console.log(`port ${await listen()}`);
