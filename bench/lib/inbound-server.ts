/**
 * One server of `bench/inbound.ts`, in its own process: a framework bare or
 * with the mesh's full inbound pipeline (admission limits on, an ALLOW
 * authorization policy evaluated on every request, Istio and per-route
 * metrics, SERVER spans with no provider), answering GET /users/:id with
 * a small JSON body. Prints `{"port": N}` once listening.
 *
 *   tsx bench/lib/inbound-server.ts <node|express|fastify> <bare|mesh>
 *
 * INBOUND_MAX_LOOP_DELAY overrides the shedder's event-loop delay limit
 * (default 1s): under callgrind (bench/instructions.ts) the loop runs
 * seconds late, and the limit would shed the requests being counted.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { createMesh, meshExpress, meshFastify, meshHttpOptions } from '../../src/index.js';

const [framework = 'node', variant = 'bare'] = process.argv.slice(2);
const meshed = variant === 'mesh';

const mesh = meshed
  ? createMesh({
      env: false,
      config: {
        mesh: { inbound: { maxConcurrentRequests: 10_000, maxEventLoopDelay: process.env.INBOUND_MAX_LOOP_DELAY ?? '1s' } },
        authorizationPolicies: [{ name: 'users-read', rules: [{ to: [{ methods: ['GET'], paths: ['/users/*'] }] }] }],
      },
    })
  : undefined;
await mesh?.ready();

const body = JSON.stringify({ id: '42', name: 'Ada', roles: ['reader', 'writer'] });

async function listen(): Promise<number> {
  if (framework === 'express') {
    const app = express();
    if (mesh !== undefined) app.use(meshExpress(mesh));
    app.get('/users/:id', (_req, res) => {
      res.type('application/json').send(body);
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    return (server.address() as AddressInfo).port;
  }
  if (framework === 'fastify') {
    // The meshed app is created as docs/frameworks.md says: with the mesh's request and response classes.
    const app = mesh === undefined ? Fastify() : Fastify({ http: meshHttpOptions() });
    if (mesh !== undefined) await app.register(meshFastify(mesh));
    app.get('/users/:id', async (_req, reply) => reply.type('application/json').send(body));
    await app.listen({ port: 0, host: '127.0.0.1' });
    return (app.server.address() as AddressInfo).port;
  }
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (req.method === 'GET' && req.url?.startsWith('/users/')) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    res.writeHead(404).end();
  };
  if (mesh !== undefined) return (await mesh.createServer(handler).listen(0, '127.0.0.1')).port;
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return (server.address() as AddressInfo).port;
}

process.stdout.write(`${JSON.stringify({ port: await listen() })}\n`);
// Lets a profiled run (`node --cpu-prof`) write its profile: exit cleanly on SIGINT.
process.on('SIGINT', () => process.exit(0));
