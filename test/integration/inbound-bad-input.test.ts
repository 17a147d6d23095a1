/**
 * Bad bytes at the inbound server never crash it: garbage that looks like a
 * TLS handshake, garbage that looks like nothing, headers beyond the limit.
 * After each, the same server still answers a good request.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { createMesh, type Mesh, type MeshServer } from '../../src/index.js';

let dir: string;
const meshes: Mesh[] = [];
const servers: MeshServer[] = [];
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'proxyless-bad-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close(100)));
  await Promise.all(meshes.splice(0).map((m) => m.destroy()));
});

async function start(mode: 'STRICT' | 'PERMISSIVE'): Promise<number> {
  const m = createMesh({
    env: false,
    config: { mesh: { security: { certificates: { provider: 'dev', dir: join(dir, 'ca') }, mtls: { mode } } } },
  });
  meshes.push(m);
  await m.ready();
  const s = m.createServer((_req, res) => res.end('ok'));
  servers.push(s);
  return (await s.listen(0, '127.0.0.1')).port;
}

/** Send raw bytes; resolves with whatever came back before the server closed the connection. */
function raw(port: number, bytes: Buffer): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const socket = connect(port, '127.0.0.1', () => socket.end(bytes));
    socket.on('data', (c: Buffer) => {
      got += c.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve(got));
  });
}

test('garbage after a TLS record header is refused and the server keeps serving', async () => {
  const port = await start('PERMISSIVE');
  await raw(port, Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x00, 0x40]), randomBytes(64)]));
  await raw(port, Buffer.from([0x16]));
  expect(await (await request(`http://127.0.0.1:${port}/`)).body.text()).toBe('ok');
});

test('plaintext garbage to a STRICT port is refused, and mTLS callers are still served', async () => {
  const port = await start('STRICT');
  await raw(port, randomBytes(200));
  await raw(port, Buffer.from('GET / HTTP/1.1\r\nhost: x\r\n\r\n'));
  await raw(port, Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05]), randomBytes(5)]));
  const client = createMesh({
    env: false,
    config: {
      mesh: { security: { serviceAccount: 'caller', certificates: { provider: 'dev', dir: join(dir, 'ca') } } },
      services: { backend: { endpoints: [`127.0.0.1:${port}`], tls: { mode: 'mutual' } } },
    },
  });
  meshes.push(client);
  await client.ready();
  expect(await (await client.request('http://backend/')).body.text()).toBe('ok');
});

test('headers over the limit get 431, not a crash', async () => {
  const port = await start('PERMISSIVE');
  const huge = await raw(port, Buffer.from(`GET / HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(64 * 1024)}\r\n\r\n`));
  expect(huge).toMatch(/^HTTP\/1\.1 431/);
  expect(await (await request(`http://127.0.0.1:${port}/`)).body.text()).toBe('ok');
});
