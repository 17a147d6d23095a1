/**
 * Response sizes and request completion on mesh.createServer, whose
 * responses count their own bytes and learn of their close without a
 * listener (src/server/request-slots.ts): chunked bodies with no
 * Content-Length, an Express app served directly (Express swaps every
 * response's prototype for its own), and a client that goes away mid-body.
 * The same for meshExpress on Express's own server, which hooks the app's
 * response prototype instead, and for meshFastify with and without the
 * mesh's message classes (meshHttpOptions).
 */
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { request } from 'undici';
import { afterEach, expect, test } from 'vitest';
import { createMesh, type Mesh, type MeshServer, meshExpress, meshFastify, meshHttpOptions } from '../../src/index.js';
import { HOOKED } from '../../src/server/request-slots.js';

const meshes: Mesh[] = [];
const servers: MeshServer[] = [];
const plain: Server[] = [];

afterEach(async () => {
  for (const s of plain.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
  await Promise.all(servers.splice(0).map((s) => s.close(100)));
  await Promise.all(meshes.splice(0).map((m) => m.destroy()));
});

async function serve(handler: Parameters<Mesh['createServer']>[0]): Promise<{ mesh: Mesh; port: number }> {
  const mesh = createMesh({ env: false, config: { mesh: { serviceName: 'sizes' } } });
  meshes.push(mesh);
  const server = mesh.createServer(handler);
  servers.push(server);
  const { port } = (await server.listen(0, '127.0.0.1')) as AddressInfo;
  return { mesh, port };
}

/** A destination-side series' value from the mesh's registry, by name and response code. */
async function value(mesh: Mesh, name: string, code: string): Promise<number | undefined> {
  const text = await mesh.metricsRegistry!.metrics();
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`${name}{`) && l.includes('reporter="destination"') && l.includes(`response_code="${code}"`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** Inbound requests the mesh still counts as in flight (what a drain waits on). */
async function inFlight(mesh: Mesh): Promise<number> {
  const text = await mesh.metricsRegistry!.metrics();
  const line = text.split('\n').find((l) => l.startsWith('proxyless_inbound_requests_in_flight '));
  return Number(line?.split(' ')[1]);
}

/**
 * GET /cut, then go away once the handler has written part of its body
 * (`written`): the request must still end, flagged DC, leaving nothing in flight.
 */
async function expectCutOffEnds(mesh: Mesh, port: number, written: Promise<void>): Promise<void> {
  const socket = connect(port, '127.0.0.1');
  socket.write('GET /cut HTTP/1.1\r\nhost: sizes\r\n\r\n');
  await written;
  socket.destroy();
  await expect.poll(async () => (await mesh.metricsRegistry!.metrics()).includes('response_flags="DC"')).toBe(true);
  expect(await inFlight(mesh)).toBe(0);
}

test('a chunked body with no Content-Length is counted byte for byte', async () => {
  const { mesh, port } = await serve((_req, res) => {
    res.write('a'.repeat(1000));
    res.write(Buffer.alloc(234));
    res.end('é'); // two bytes in UTF-8
  });
  for (let i = 0; i < 3; i++) {
    const res = await request(`http://127.0.0.1:${port}/chunks`);
    expect(res.headers['content-length']).toBeUndefined();
    expect((await res.body.arrayBuffer()).byteLength).toBe(1236);
  }
  await expect.poll(() => value(mesh, 'istio_requests_total', '200')).toBe(3);
  expect(await value(mesh, 'istio_response_bytes_sum', '200')).toBe(3 * 1236);
});

test('an Express app served directly is recorded and sized, though Express swaps its responses prototype', async () => {
  const app = express();
  app.get('/stream', (_req, res) => {
    res.write('x'.repeat(300));
    setImmediate(() => res.end('y'.repeat(45)));
  });
  const { mesh, port } = await serve(app);
  for (let i = 0; i < 4; i++) {
    const res = await request(`http://127.0.0.1:${port}/stream`);
    expect(await res.body.text()).toHaveLength(345);
  }
  await expect.poll(() => value(mesh, 'istio_requests_total', '200')).toBe(4);
  expect(await value(mesh, 'istio_response_bytes_sum', '200')).toBe(4 * 345);
  // Every request ended: nothing is left in flight for a drain to wait on.
  expect(await inFlight(mesh)).toBe(0);
});

test('a client that goes away mid-body still ends its request, flagged DC', async () => {
  let wrote!: () => void;
  const written = new Promise<void>((resolve) => {
    wrote = resolve;
  });
  const { mesh, port } = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('partial', () => wrote());
  });
  await expectCutOffEnds(mesh, port, written);
});

test('meshExpress on the app\'s own server: chunked bytes counted once, a mounted app with its own meshExpress too, cut-off requests end', async () => {
  const mesh = createMesh({ env: false, config: { mesh: { serviceName: 'sizes' } } });
  meshes.push(mesh);
  const admin = express();
  admin.use(meshExpress(mesh));
  admin.get('/stats', (_req, res) => {
    res.write('s'.repeat(70));
    res.end();
  });
  const app = express();
  app.use(meshExpress(mesh));
  app.use('/admin', admin);
  app.get('/stream', (_req, res) => {
    res.write('x'.repeat(300));
    setImmediate(() => res.end('y'.repeat(45)));
  });
  let wrote!: () => void;
  const written = new Promise<void>((resolve) => {
    wrote = resolve;
  });
  app.get('/cut', (_req, res) => {
    res.write('partial', () => wrote());
  });
  const server = app.listen(0, '127.0.0.1');
  plain.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  for (let i = 0; i < 3; i++) expect(await (await request(`http://127.0.0.1:${port}/stream`)).body.text()).toHaveLength(345);
  for (let i = 0; i < 2; i++) expect(await (await request(`http://127.0.0.1:${port}/admin/stats`)).body.text()).toHaveLength(70);
  await expect.poll(() => value(mesh, 'istio_requests_total', '200')).toBe(5);
  expect(await value(mesh, 'istio_response_bytes_sum', '200')).toBe(3 * 345 + 2 * 70);
  await expectCutOffEnds(mesh, port, written);
});

test.each([
  ['with meshHttpOptions', true],
  ['on node\'s own classes', false],
])('meshFastify %s: chunked bytes counted once, cut-off requests end', async (_name, slotted) => {
  const mesh = createMesh({ env: false, config: { mesh: { serviceName: 'sizes' } } });
  meshes.push(mesh);
  const app = slotted ? Fastify({ http: meshHttpOptions({ maxHeaderSize: 16_384 }) }) : Fastify();
  await app.register(meshFastify(mesh));
  const hooked: boolean[] = [];
  app.get('/stream', (_req, reply) => {
    hooked.push((reply.raw as { [HOOKED]?: boolean })[HOOKED] === true);
    reply.raw.write('x'.repeat(300));
    setImmediate(() => reply.raw.end('y'.repeat(45)));
  });
  let wrote!: () => void;
  const written = new Promise<void>((resolve) => {
    wrote = resolve;
  });
  app.get('/cut', (_req, reply) => {
    reply.raw.write('partial', () => wrote());
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  plain.push(app.server);
  const { port } = app.server.address() as AddressInfo;
  for (let i = 0; i < 3; i++) expect(await (await request(`http://127.0.0.1:${port}/stream`)).body.text()).toHaveLength(345);
  // The options reached node: the responses are the mesh's own class, or node's when not asked for.
  expect(hooked).toEqual([slotted, slotted, slotted]);
  if (slotted) expect((app.server as { maxHeaderSize?: number }).maxHeaderSize).toBe(16_384);
  await expect.poll(() => value(mesh, 'istio_requests_total', '200')).toBe(3);
  expect(await value(mesh, 'istio_response_bytes_sum', '200')).toBe(3 * 345);
  await expectCutOffEnds(mesh, port, written);
});

test.each([
  ['writeHead with a Content-Length', (res: ServerResponse) => res.writeHead(200, { 'content-length': Buffer.byteLength('héllo wörld') }).end('héllo wörld')],
  ['setHeader with a Content-Length', (res: ServerResponse) => res.setHeader('content-length', 13).end('héllo wörld')],
  ['one end() and no header', (res: ServerResponse) => res.end('héllo wörld')],
  ['one Buffer and no header', (res: ServerResponse) => res.end(Buffer.from('héllo wörld'))],
])('a body sent in one piece is sized in bytes, not characters: %s', async (_name, answer) => {
  const { mesh, port } = await serve((_req, res) => answer(res as ServerResponse));
  for (let i = 0; i < 2; i++) {
    const res = await request(`http://127.0.0.1:${port}/one`);
    expect((await res.body.arrayBuffer()).byteLength).toBe(13);
  }
  await expect.poll(() => value(mesh, 'istio_requests_total', '200')).toBe(2);
  expect(await value(mesh, 'istio_response_bytes_sum', '200')).toBe(2 * 13);
});
