/**
 * mTLS end to end between two meshes (a client and a server process's
 * worth of mesh in one test process): real certificates from a dev CA,
 * real TLS, real undici. STRICT, PERMISSIVE, SPIFFE verification of the
 * server, and the verified caller visible to the handler.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { createMesh, isMeshError, type Mesh, type MeshConfigInput, type MeshServer, peerOf } from '../../src/index.js';
import { h2Get } from '../helpers/h2.js';

let caDir: string;
const meshes: Mesh[] = [];
const servers: MeshServer[] = [];

beforeAll(() => {
  caDir = mkdtempSync(join(tmpdir(), 'proxyless-mtls-'));
});
afterAll(() => rmSync(caDir, { recursive: true, force: true }));
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close(100)));
  await Promise.all(meshes.splice(0).map((m) => m.destroy()));
});

function mesh(serviceAccount: string, extra: Omit<MeshConfigInput, 'mesh'> & { mesh?: Record<string, unknown> } = {}): Mesh {
  const { mesh: meshExtra, ...rest } = extra;
  const m = createMesh({
    env: false,
    config: {
      ...rest,
      mesh: { ...meshExtra, security: { certificates: { provider: 'dev', dir: caDir }, serviceAccount, ...(meshExtra?.security as object) } },
    } as MeshConfigInput,
  });
  meshes.push(m);
  return m;
}

/** A backend mesh serving who called it. */
async function backend(mtls: Record<string, unknown>): Promise<{ port: number; mesh: Mesh }> {
  const m = mesh('backend', { mesh: { security: { mtls } } });
  await m.ready();
  const server = m.createServer((req, res) => {
    const peer = peerOf(req);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ principal: peer.principal ?? null, namespace: peer.namespace ?? null }));
  });
  servers.push(server);
  const { port } = await server.listen(0, '127.0.0.1');
  return { port, mesh: m };
}

function client(port: number, tls: Record<string, unknown> = { mode: 'mutual' }): Mesh {
  return mesh('frontend', { services: { backend: { endpoints: [`127.0.0.1:${port}`], tls } } as never });
}

test('STRICT: a mesh client calls over mTLS and the handler sees its verified SPIFFE identity', async () => {
  const { port, mesh: server } = await backend({ mode: 'STRICT' });
  expect(server.identity?.spiffeId).toBe('spiffe://cluster.local/ns/default/sa/backend');
  const m = client(port);
  await m.ready();
  const res = await m.request('http://backend/who');
  expect(res.statusCode).toBe(200);
  expect(await res.body.json()).toEqual({ principal: 'cluster.local/ns/default/sa/frontend', namespace: 'default' });
});

test('STRICT refuses plaintext clients and TLS clients without a certificate', async () => {
  const { port } = await backend({ mode: 'STRICT' });
  await expect(request(`http://127.0.0.1:${port}/`)).rejects.toThrow();
  const handshake = await new Promise<string>((resolve) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      // TLS 1.3 reports a missing client certificate after the handshake, on first read.
      socket.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
    });
    socket.on('data', () => resolve('answered'));
    socket.on('error', (err) => resolve(`refused: ${(err as NodeJS.ErrnoException).code ?? err.message}`));
    socket.on('close', () => resolve('refused: closed'));
  });
  expect(handshake).toMatch(/^refused/);
});

test('PERMISSIVE serves plaintext and mTLS clients on one port; only mTLS callers have an identity', async () => {
  const { port } = await backend({ mode: 'PERMISSIVE' });
  const plain = await request(`http://127.0.0.1:${port}/`);
  expect(await plain.body.json()).toEqual({ principal: null, namespace: null });
  const m = client(port);
  await m.ready();
  const secure = await m.request('http://backend/');
  expect(await secure.body.json()).toEqual({ principal: 'cluster.local/ns/default/sa/frontend', namespace: 'default' });
});

test('a server presenting another SPIFFE ID than the destination expects is refused with MESH_PEER_VERIFICATION_FAILED', async () => {
  const { port } = await backend({ mode: 'STRICT' });
  const m = client(port, { mode: 'mutual', subjectAltNames: ['spiffe://cluster.local/ns/default/sa/payments'] });
  await m.ready();
  const err = await m.request('http://backend/').catch((e: unknown) => e);
  expect(isMeshError(err) && err.code).toBe('MESH_PEER_VERIFICATION_FAILED');
  expect((err as Error).message).toContain('presented spiffe://cluster.local/ns/default/sa/backend');
  expect((err as Error).message).toContain('expected spiffe://cluster.local/ns/default/sa/payments');
});

test('a per-port override: the port named in portLevelMtls is STRICT while the default is PERMISSIVE', async () => {
  const strictPort = await freePort();
  const m = mesh('backend', {
    mesh: { security: { mtls: { mode: 'PERMISSIVE', portLevelMtls: { [String(strictPort)]: { mode: 'STRICT' } } } } },
  });
  await m.ready();
  const strict = m.createServer((_req, res) => res.end('ok'));
  const permissive = m.createServer((_req, res) => res.end('ok'));
  servers.push(strict, permissive);
  await strict.listen(strictPort, '127.0.0.1');
  const { port } = await permissive.listen(0, '127.0.0.1');
  expect(await (await request(`http://127.0.0.1:${port}/`)).body.text()).toBe('ok');
  await expect(request(`http://127.0.0.1:${strictPort}/`)).rejects.toThrow();
});

test('mutual TLS without a certificate source is a config error naming the field', () => {
  expect(() =>
    createMesh({ env: false, config: { services: { backend: { endpoints: ['127.0.0.1:1'], tls: { mode: 'mutual' } } } } }),
  ).toThrow(/services\.backend\.tls\.mode: "mutual" needs a workload certificate/);
});

async function freePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

test('with http2, the STRICT server speaks HTTP/2 over mTLS (ALPN h2) to a client with a mesh certificate', async () => {
  const { connect } = await import('node:http2');
  const m = mesh('backend', { mesh: { security: { mtls: { mode: 'STRICT' } } } });
  await m.ready();
  const server = m.createServer((req, res) => res.end(`${req.httpVersion} ${peerOf(req).principal}`), { http2: true });
  servers.push(server);
  const { port } = await server.listen(0, '127.0.0.1');
  const caller = mesh('h2-client');
  await caller.ready();
  const { readCaDirectory } = await import('../../src/security/certs/ca-store.js');
  const ca = await readCaDirectory(caDir);
  const leaf = await ca.issue({ spiffeId: 'spiffe://cluster.local/ns/default/sa/h2-client' });
  const session = connect(`https://127.0.0.1:${port}`, {
    cert: leaf.chainPem,
    key: leaf.keyPem,
    ca: leaf.trustBundlePems.join(''),
    checkServerIdentity: () => undefined,
  });
  session.on('error', () => {});
  try {
    const text = await h2Get(session, '/');
    expect(text).toBe('2.0 cluster.local/ns/default/sa/h2-client');
  } finally {
    session.close();
  }
});

test('changing mesh.security.mtls applies to the next connection of a server already listening', async () => {
  const m = mesh('backend', { mesh: { security: { mtls: { mode: 'PERMISSIVE' } } } });
  await m.ready();
  const server = m.createServer((_req, res) => res.end('ok'));
  servers.push(server);
  const { port } = await server.listen(0, '127.0.0.1');
  const plain = await request(`http://127.0.0.1:${port}/`, { reset: true });
  expect(await plain.body.text()).toBe('ok');
  m.config.setLayer(
    'options',
    { mesh: { security: { serviceAccount: 'backend', certificates: { provider: 'dev', dir: caDir }, mtls: { mode: 'STRICT' } } } },
    'options',
  );
  await expect(request(`http://127.0.0.1:${port}/`, { reset: true })).rejects.toThrow();
});
