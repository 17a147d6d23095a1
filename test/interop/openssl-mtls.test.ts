/**
 * mTLS against a peer we did not write: OpenSSL's s_client calling the
 * mesh's STRICT server, and the mesh calling OpenSSL's s_server, both with
 * certificates from the mesh's CA. A server with the wrong SPIFFE ID is
 * refused.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { createMesh, isMeshError, type Mesh, type MeshServer, peerOf } from '../../src/index.js';
import type { CertificateAuthority } from '../../src/security/certs/ca.js';
import { loadOrCreateCaDirectory } from '../../src/security/certs/ca-store.js';

let dir: string;
let ca: CertificateAuthority;
const meshes: Mesh[] = [];
const servers: MeshServer[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'proxyless-openssl-'));
  ca = (await loadOrCreateCaDirectory(join(dir, 'ca'), { trustDomain: 'cluster.local' })).ca;
  writeFileSync(join(dir, 'root.pem'), ca.trustBundlePems.join(''));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  await Promise.all(servers.splice(0).map((s) => s.close(100)));
  await Promise.all(meshes.splice(0).map((m) => m.destroy()));
});

/** Issue a leaf for `sa` and write it as PEM files openssl reads. */
async function issueFiles(sa: string): Promise<{ cert: string; key: string }> {
  const leaf = await ca.issue({ spiffeId: `spiffe://cluster.local/ns/default/sa/${sa}` });
  const cert = join(dir, `${sa}.pem`);
  const key = join(dir, `${sa}-key.pem`);
  writeFileSync(cert, leaf.chainPem);
  writeFileSync(key, leaf.keyPem, { mode: 0o600 });
  return { cert, key };
}

function meshWith(sa: string, extra: Record<string, unknown> = {}): Mesh {
  const { mesh: meshExtra, ...rest } = extra as { mesh?: Record<string, unknown> };
  const m = createMesh({
    env: false,
    config: {
      ...rest,
      mesh: { ...meshExtra, security: { serviceAccount: sa, certificates: { provider: 'dev', dir: join(dir, 'ca') }, ...(meshExtra?.security as object) } },
    } as never,
  });
  meshes.push(m);
  return m;
}

/** Run s_client with `input`; resolves with what it printed and its exit code. */
function sClient(args: string[], input: string): Promise<{ out: string; code: number | null }> {
  return new Promise((resolve) => {
    const child = spawn('openssl', ['s_client', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.on('close', (code) => resolve({ out, code }));
    child.stdin.end(input);
  });
}

async function freePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as { port: number };
  await new Promise((r) => probe.close(r));
  return port;
}

async function sServer(files: { cert: string; key: string }): Promise<number> {
  const port = await freePort();
  const child = spawn(
    'openssl',
    ['s_server', '-accept', `127.0.0.1:${port}`, '-cert', files.cert, '-key', files.key, '-CAfile', join(dir, 'root.pem'), '-Verify', '1', '-verify_return_error', '-www'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  // Ready once it accepts connections.
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (up) return port;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('openssl s_server did not start');
}

const REQUEST = 'GET /who HTTP/1.1\r\nHost: backend\r\nConnection: close\r\n\r\n';

test('openssl s_client with a mesh-issued certificate calls the STRICT server; without one it is refused', async () => {
  const backend = meshWith('backend', { mesh: { security: { mtls: { mode: 'STRICT' } } } });
  await backend.ready();
  const server = backend.createServer((req, res) => res.end(`hello ${peerOf(req).principal}`));
  servers.push(server);
  const { port } = await server.listen(0, '127.0.0.1');
  const client = await issueFiles('openssl-client');

  const ok = await sClient(
    ['-connect', `127.0.0.1:${port}`, '-cert', client.cert, '-key', client.key, '-CAfile', join(dir, 'root.pem'), '-verify_return_error', '-quiet'],
    REQUEST,
  );
  expect(ok.out).toContain('HTTP/1.1 200 OK');
  expect(ok.out).toContain('hello cluster.local/ns/default/sa/openssl-client');

  const anonymous = await sClient(['-connect', `127.0.0.1:${port}`, '-CAfile', join(dir, 'root.pem'), '-quiet'], REQUEST);
  expect(anonymous.out).not.toContain('HTTP/1.1 200');
});

test('the mesh calls openssl s_server over mTLS, and refuses it when it presents another SPIFFE ID', async () => {
  const port = await sServer(await issueFiles('backend'));
  const m = meshWith('frontend', { services: { backend: { endpoints: [`127.0.0.1:${port}`], tls: { mode: 'mutual' } } } });
  await m.ready();
  const res = await m.request('http://backend/');
  expect(res.statusCode).toBe(200);
  // s_server's -www page describes the session it verified, our client certificate included.
  expect(await res.body.text()).toContain('s_server');

  const strict = meshWith('frontend', {
    services: { backend: { endpoints: [`127.0.0.1:${port}`], tls: { mode: 'mutual', subjectAltNames: ['spiffe://cluster.local/ns/default/sa/payments'] } } },
  });
  await strict.ready();
  const err = await strict.request('http://backend/').catch((e: unknown) => e);
  expect(isMeshError(err) && err.code).toBe('MESH_PEER_VERIFICATION_FAILED');
});
