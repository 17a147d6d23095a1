/**
 * Readiness across a server's life, read from the admin endpoint's
 * /readyz as Kubernetes would: not ready until discovery has answered (so
 * no request arrives before the mesh can serve it), ready, then not ready
 * the moment a drain starts, while the request in flight still completes
 * and new connections are refused.
 */
import { connect } from 'node:net';
import { request } from 'undici';
import { afterEach, expect, test, vi } from 'vitest';
import { createMesh, type EndpointListener, type Mesh, makeEndpoint } from '../../src/index.js';

const meshes: Mesh[] = [];
afterEach(async () => {
  await Promise.all(meshes.splice(0).map((m) => m.destroy()));
});

async function readyz(m: Mesh): Promise<number> {
  const admin = (await m.adminAddress())!;
  const res = await request(`http://${admin.host}:${admin.port}/readyz`);
  await res.body.dump();
  return res.statusCode;
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

test('not ready until discovery answers; ready; not ready once the drain starts, which lets the request in flight finish', async () => {
  let listener: EndpointListener | undefined;
  const m = createMesh({
    env: false,
    admin: { port: 0 },
    discoveryProviders: [
      {
        scheme: 'slow',
        watch: (_target, l) => {
          listener = l;
          return { close() {} };
        },
      },
    ],
    config: { mesh: { serviceName: 'api' }, services: { upstream: { discovery: 'slow:upstream', port: 80 } } },
  });
  meshes.push(m);
  expect(await readyz(m)).toBe(503);
  await vi.waitFor(() => expect(listener).toBeDefined());
  listener!.next([makeEndpoint({ address: '127.0.0.1', port: 9 })]);
  await vi.waitFor(async () => expect(await readyz(m)).toBe(200));

  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let arrived: () => void = () => {};
  const inHandler = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  const server = m.createServer(async (_req, res) => {
    arrived();
    await held;
    res.end('finished');
  });
  const { port } = await server.listen(0, '127.0.0.1');
  const inflight = request(`http://127.0.0.1:${port}/slow`);
  await inHandler;

  const closing = m.close();
  expect(await readyz(m)).toBe(503);
  expect(await refused(port)).toBe(true);
  release();
  const res = await inflight;
  expect(res.statusCode).toBe(200);
  expect(res.headers.connection).toBe('close');
  expect(await res.body.text()).toBe('finished');
  await closing;
  // Closed: destroy() in afterEach has nothing left to do (and would close the admin server twice).
  meshes.splice(meshes.indexOf(m), 1);
});

test('a server the application closed first does not hold up mesh.close()', async () => {
  const m = createMesh({ env: false });
  const server = m.createServer((_req, res) => res.end('ok'));
  const { port } = await server.listen(0, '127.0.0.1');
  const res = await request(`http://127.0.0.1:${port}/`);
  expect(await res.body.text()).toBe('ok');
  await server.close(100);
  // Resolves (a hang would fail the test at its timeout, or end the worker with an unsettled await).
  await m.close();
  expect(await refused(port)).toBe(true);
});
