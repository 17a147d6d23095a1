/**
 * The mesh's gRPC client calling a gRPC server we did not write: Debian's
 * python3-grpcio (C core, BoringSSL). Plaintext and mTLS: the Python
 * server sees the client's SPIFFE ID and the deadline the mesh sent; a
 * Python server presenting the wrong identity gets no call at all.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { createMesh, type Mesh } from '../../src/index.js';
import { CertificateAuthority } from '../../src/security/certs/ca.js';
import { type MountedCertificates, mountCertificates } from '../helpers/rotating-certs.js';

const PYTHON = '/usr/bin/python3';
const SERVER = fileURLToPath(new URL('./grpc_echo_server.py', import.meta.url));
const CLIENT_ID = 'spiffe://cluster.local/ns/shop/sa/frontend';
const SERVER_ID = 'spiffe://cluster.local/ns/shop/sa/echo';

const raw = (b: Buffer) => b;
const EchoClient = grpc.makeGenericClientConstructor(
  {
    get: {
      path: '/interop.Echo/Get',
      requestStream: false,
      responseStream: false,
      requestSerialize: raw,
      requestDeserialize: raw,
      responseSerialize: raw,
      responseDeserialize: raw,
    },
  },
  'interop.Echo',
);

type GetCall = (request: Buffer, options: grpc.CallOptions, callback: (err: Error | null, reply: Buffer) => void) => void;

interface PythonServer {
  readonly port: number;
  /** What the server printed per call (the request's text). */
  readonly calls: string[];
}

describe.skipIf(!existsSync(PYTHON))('the mesh gRPC client calls a python3-grpcio server', () => {
  let dir: string;
  let ca: CertificateAuthority;
  let clientCerts: MountedCertificates;
  const children: ChildProcess[] = [];
  const meshes: Mesh[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'proxyless-py-grpc-'));
    ca = await CertificateAuthority.createRoot({ trustDomain: 'cluster.local' });
    clientCerts = await mountCertificates(ca, CLIENT_ID);
  });
  afterEach(async () => {
    await Promise.all(meshes.splice(0).map((m) => m.destroy()));
    for (const c of children.splice(0)) c.kill('SIGKILL');
  });
  afterAll(() => {
    clientCerts?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  async function python(name: string, spiffeId?: string): Promise<PythonServer> {
    const args = [SERVER, name];
    if (spiffeId !== undefined) {
      const cert = await ca.issue({ spiffeId });
      const files = { root: join(dir, `${name}-root.pem`), key: join(dir, `${name}-key.pem`), cert: join(dir, `${name}-cert.pem`) };
      writeFileSync(files.root, cert.trustBundlePems.join(''));
      writeFileSync(files.key, cert.keyPem, { mode: 0o600 });
      writeFileSync(files.cert, cert.chainPem);
      args.push(files.root, files.key, files.cert);
    }
    const child = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    const calls: string[] = [];
    const lines = createInterface({ input: child.stdout! });
    const port = await new Promise<number>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`python server exited with ${code}`)));
      lines.on('line', (line) => {
        const msg = JSON.parse(line) as { port?: number; call?: string };
        if (msg.port !== undefined) resolve(msg.port);
        else calls.push(msg.call ?? '');
      });
    });
    return { port, calls };
  }

  function client(port: number, tls?: Record<string, unknown>): grpc.Client & { get: GetCall } {
    const m = createMesh({
      env: false,
      config: {
        mesh: { security: { certificates: { provider: 'files', dir: clientCerts.dir } } },
        services: { echo: { endpoints: [`127.0.0.1:${port}`], ...(tls !== undefined ? { tls } : {}), retries: { attempts: 0 } } },
      } as never,
    });
    meshes.push(m);
    return m.grpc.client(EchoClient, 'echo', { idempotentMethods: ['/interop.Echo/Get'] }) as never;
  }

  function call(c: { get: GetCall }, text: string, deadlineMs = 5_000): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) =>
      c.get(Buffer.from(JSON.stringify({ text })), { deadline: Date.now() + deadlineMs }, (err, reply) =>
        err ? reject(err) : resolve(JSON.parse(reply.toString()) as Record<string, unknown>),
      ),
    );
  }

  test('plaintext: the call arrives with the deadline the mesh sent and no internal metadata', async () => {
    const py = await python('plain');
    const reply = await call(client(py.port), 'hello', 3_000);
    expect(reply.replica).toBe('plain');
    expect(reply.text).toBe('hello');
    expect(reply.remaining as number).toBeGreaterThan(0);
    expect(reply.remaining as number).toBeLessThanOrEqual(3);
    expect(Object.keys(reply.metadata as object)).not.toContain('x-proxyless-endpoint');
  });

  test('mTLS: the mesh client presents its SPIFFE ID to python and accepts python\'s', async () => {
    const py = await python('secure', SERVER_ID);
    const reply = await call(client(py.port, { mode: 'mutual', subjectAltNames: [SERVER_ID] }), 'secret');
    expect(reply.replica).toBe('secure');
    expect(JSON.stringify(reply.peer)).toContain(CLIENT_ID);
    expect(py.calls).toEqual(['secret']);
  });

  test('a python server with the wrong identity is refused before any call reaches it', async () => {
    const py = await python('impostor', 'spiffe://cluster.local/ns/shop/sa/impostor');
    const err = (await call(client(py.port, { mode: 'mutual', subjectAltNames: [SERVER_ID] }), 'leak').then(
      () => undefined,
      (e: unknown) => e,
    )) as grpc.ServiceError;
    expect(err.code).toBe(grpc.status.UNAVAILABLE);
    expect(err.details).toContain('impostor');
    expect(py.calls).toEqual([]);
  });
});
