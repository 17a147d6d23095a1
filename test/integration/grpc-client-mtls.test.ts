/**
 * The mesh's gRPC client over mTLS to real grpc-js servers: the workload
 * certificate is presented, the server is checked by its SPIFFE ID (never
 * by hostname), and a server with the wrong identity gets no call.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { createMesh, type Mesh } from '../../src/index.js';
import { CertificateAuthority } from '../../src/security/certs/ca.js';
import { callUnary, EchoClient, type EchoClientInstance, type EchoReplica, errorOf, startEchoReplica } from '../helpers/grpc/echo-replicas.js';
import { type MountedCertificates, mountCertificates } from '../helpers/rotating-certs.js';

let ca: CertificateAuthority;
let clientCerts: MountedCertificates;
const meshes: Mesh[] = [];
const replicas: EchoReplica[] = [];

beforeAll(async () => {
  ca = await CertificateAuthority.createRoot({ trustDomain: 'cluster.local' });
  clientCerts = await mountCertificates(ca, 'spiffe://cluster.local/ns/default/sa/frontend');
});
afterAll(() => clientCerts.remove());
afterEach(async () => {
  await Promise.all(meshes.splice(0).map((m) => m.destroy()));
  for (const r of replicas.splice(0)) r.server.forceShutdown();
});

/** A plain grpc-js server with a workload certificate for `spiffeId`, requiring client certificates from the same CA. */
async function mtlsReplica(name: string, spiffeId: string): Promise<EchoReplica> {
  const cert = await ca.issue({ spiffeId });
  const credentials = grpc.ServerCredentials.createSsl(
    Buffer.from(cert.trustBundlePems.join('')),
    [{ cert_chain: Buffer.from(cert.chainPem), private_key: Buffer.from(cert.keyPem) }],
    true,
  );
  const r = await startEchoReplica(name, credentials);
  replicas.push(r);
  return r;
}

function client(port: number, tls: Record<string, unknown>, extra: Record<string, unknown> = {}): EchoClientInstance {
  const m = createMesh({
    env: false,
    config: {
      mesh: { security: { certificates: { provider: 'files', dir: clientCerts.dir } } },
      services: { echo: { endpoints: [`127.0.0.1:${port}`], tls, ...extra } },
    } as never,
  });
  meshes.push(m);
  return m.grpc.client(EchoClient, 'echo') as unknown as EchoClientInstance;
}

test('tls mode mutual: the client presents its workload certificate and accepts the expected SPIFFE ID', async () => {
  const r = await mtlsReplica('a', 'spiffe://cluster.local/ns/default/sa/echo');
  const c = client(r.port, { mode: 'mutual', subjectAltNames: ['spiffe://cluster.local/ns/default/sa/echo'] });
  const reply = await callUnary(c, 'get', { text: 'secure' });
  expect(reply).toMatchObject({ text: 'secure', replica: 'a' });
});

test('a server presenting another identity gets no call: the handshake is refused as a connect failure', async () => {
  const r = await mtlsReplica('impostor', 'spiffe://cluster.local/ns/default/sa/impostor');
  const c = client(r.port, { mode: 'mutual', subjectAltNames: ['spiffe://cluster.local/ns/default/sa/echo'] }, { retries: { attempts: 0 } });
  const err = await errorOf(callUnary(c, 'get', { text: 'x' }, { deadline: Date.now() + 5_000 }));
  expect(err.code).toBe(grpc.status.UNAVAILABLE);
  expect(err.details).toContain('spiffe://cluster.local/ns/default/sa/impostor');
  expect(r.calls.size).toBe(0);
});

test('a plaintext destination cannot reach an mTLS server', async () => {
  const r = await mtlsReplica('a', 'spiffe://cluster.local/ns/default/sa/echo');
  const m = createMesh({ env: false, config: { services: { echo: { endpoints: [`127.0.0.1:${r.port}`], retries: { attempts: 0 } } } } as never });
  meshes.push(m);
  const c = m.grpc.client(EchoClient, 'echo') as unknown as EchoClientInstance;
  const err = await errorOf(callUnary(c, 'get', { text: 'x' }, { deadline: Date.now() + 5_000 }));
  expect(err.code).toBe(grpc.status.UNAVAILABLE);
  expect(r.calls.size).toBe(0);
});
